/**
 * The one place that keeps credentials out of logs. The logger (src/server.ts createLogger) uses
 * `REDACT` for structured fields, `redactUrl` for every logged request URL and `redactText` for
 * error messages and stacks; code that logs a URL or a foreign error text (the webhook worker)
 * passes it through `redactUrl` / `redactText` too.
 *
 * What counts as a credential:
 * - query parameters and fields named like one (`identifier_hash`, `api_access_token`,
 *   `access_token`, `token`, `pubsub_token`, `password`, `secret`, `…_token`, `…_secret`, `…_key`,
 *   `signature`, …), whatever their case, percent-encoding or bracket nesting
 *   (`contact[identifier_hash]`, `token[]`), every occurrence of a repeated one;
 * - the user-info part of a URL (`https://user:pass@host/`);
 * - capabilities in URL paths: invitation tokens and the client API's contact `source_id`;
 * - the Authorization, Cookie and Set-Cookie headers and the API token headers.
 */

const CENSOR = '[redacted]';

/** Names that are credentials wherever they appear (compared lowercased, `-` as `_`). */
const SECRET_NAMES = new Set([
  'identifier_hash',
  'api_access_token',
  'http_api_access_token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth_token',
  'token',
  'pubsub_token',
  'hmac_token',
  'authorization',
  'proxy_authorization',
  'cookie',
  'set_cookie',
  'password',
  'password_confirmation',
  'current_password',
  'new_password',
  'passwd',
  'pass',
  'pwd',
  'secret',
  'previous_secret',
  'client_secret',
  'signature',
  'sig',
  'key',
  'api_key',
  'apikey',
  'session',
  'session_id',
  'sessionid',
  'credentials',
]);
/** …and names ending like one (reset_password_token, webhook_secret, x_api_key, contact_identifier_hash). */
const SECRET_SUFFIX = /(?:^|_)(?:token|secret|password|passwd|identifier_hash|signature|api_?key|private_key|secret_key|access_key|credentials?)$/;

/** Whether a field or parameter name (one segment, already decoded) is credential-like. */
export function isSecretName(name: string): boolean {
  const n = name.trim().toLowerCase().replace(/-/g, '_');
  return SECRET_NAMES.has(n) || SECRET_SUFFIX.test(n);
}

/** Decodes valid %XX escapes (repeatedly, for double encoding) and `+`; never throws. */
function lenientDecode(s: string): string {
  let out = s.replace(/\+/g, ' ');
  for (let i = 0; i < 3 && /%[0-9a-f]{2}/i.test(out); i++) {
    out = out.replace(/(?:%[0-9a-f]{2})+/gi, (seq) => {
      try {
        return decodeURIComponent(seq);
      } catch {
        return seq.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
      }
    });
  }
  return out;
}

/** A query key such as `contact[identifier_hash]`, `token[]` or `a.b.token`: is any segment a credential name? */
function isSecretKey(rawKey: string): boolean {
  const key = lenientDecode(rawKey);
  return key.split(/[[\].]+/).some((seg) => seg !== '' && isSecretName(seg));
}

/** Masks the value of every credential-like parameter of a query string (without its `?`). */
export function redactQuery(query: string): string {
  return query
    .split(/([&;])/)
    .map((part) => {
      if (part === '&' || part === ';') return part;
      const eq = part.indexOf('=');
      if (eq < 0) return part;
      const value = part.slice(eq + 1);
      return value !== '' && isSecretKey(part.slice(0, eq)) ? `${part.slice(0, eq + 1)}${CENSOR}` : part;
    })
    .join('');
}

/** Capabilities that travel in URL paths. */
const PATH_MASKS: [RegExp, string][] = [
  // one-time invitation tokens (/auth/invitations/:token and any other …/invitations/:token route)
  [/(\/+invitations\/+)[^/?#]+/gi, `$1${CENSOR}`],
  // the client API's contact source_id (a session key for that contact); the inbox identifier is public
  [/^(\/+public\/+api\/+v1\/+inboxes\/+[^/?#]+\/+contacts\/+)[^/?#]+/i, `$1${CENSOR}`],
];

/**
 * A URL (a request target `/path?query`, or an absolute URL) with its credentials masked: the
 * user-info, capability path segments, and credential-like query (and fragment) parameters.
 */
export function redactUrl(url: string): string {
  let rest = String(url);
  let origin = '';
  // An absolute URL (a callback URL, or an absolute-form request target); `//x` alone is a path.
  const abs = rest.match(/^([a-z][a-z0-9+.-]*:)\/\/([^/?#]*)/i);
  if (abs) {
    const authority = abs[2];
    const at = authority.lastIndexOf('@');
    origin = `${abs[1]}//${at >= 0 ? `${CENSOR}@${authority.slice(at + 1)}` : authority}`;
    rest = rest.slice(abs[0].length);
  }
  const hashAt = rest.indexOf('#');
  const fragment = hashAt >= 0 ? rest.slice(hashAt + 1) : null;
  if (hashAt >= 0) rest = rest.slice(0, hashAt);
  const q = rest.indexOf('?');
  let path = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? rest.slice(q + 1) : null;
  for (const [re, to] of PATH_MASKS) path = path.replace(re, to);
  return `${origin}${path}${query !== null ? `?${redactQuery(query)}` : ''}${fragment !== null ? `#${redactQuery(fragment)}` : ''}`;
}

/**
 * Free text (an error message, a stack) with every URL in it masked by `redactUrl`, and
 * `Bearer …` / `Basic …` credentials and `name=value` pairs with a credential name masked.
 */
export function redactText(text: string): string {
  return String(text)
    // (bounded repetitions: linear time on any input)
    .replace(/\b[a-z][a-z0-9+.-]{0,31}:\/\/[^\s"'<>`]+/gi, (u) => redactUrl(u))
    .replace(/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}/gi, `$1 ${CENSOR}`)
    .replace(/([A-Za-z0-9_.[\]%-]{1,80})=([^\s&;,"'<>]+)/g, (all, k: string, v: string) => (v !== CENSOR && isSecretKey(k) ? `${k}=${CENSOR}` : all));
}

/** A cheap pre-check before `redactText`: a URL, a `name=value` pair or an authorization scheme. */
const MAY_HOLD_SECRET = /:\/\/|=|bearer|basic|token/i;

function isPlain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null || Array.isArray(v);
}

/**
 * A log object with every credential-named field masked, in plain objects and arrays down to
 * `depth` levels (class instances such as requests and errors are left to their serializers).
 * Copies only what it changes; the caller's object is never modified.
 */
export function redactFields<T>(value: T, depth = 4): T {
  if (typeof value === 'string') return (MAY_HOLD_SECRET.test(value) ? redactText(value) : value) as T;
  if (depth <= 0 || !isPlain(value)) return value;
  let out: Record<string, unknown> | unknown[] | null = null;
  const src = value as Record<string, unknown>;
  for (const k of Object.keys(src)) {
    const v = src[k];
    const next = v !== null && v !== undefined && v !== '' && isSecretKey(k) ? CENSOR : redactFields(v, depth - 1);
    if (next !== v) {
      out ??= Array.isArray(src) ? [...(src as unknown[])] : { ...src };
      (out as Record<string, unknown>)[k] = next;
    }
  }
  return (out ?? value) as T;
}

/**
 * pino `redact` paths, for the request and response objects that pino itself serializes (their
 * headers); every other credential-named field is masked by `redactFields` (a log formatter).
 */
export const REDACT = [
  'req.headers.api_access_token',
  'req.headers.http_api_access_token',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

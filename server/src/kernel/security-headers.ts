import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';

/**
 * Browser-facing hardening headers, set on every response in one onSend hook (JSON, errors, 404s,
 * /health, static files, the API docs and — next — the dashboard).
 *
 * - `X-Content-Type-Options: nosniff`: a JSON body is never sniffed into HTML or script.
 * - `Referrer-Policy: strict-origin-when-cross-origin`: full URLs (dashboard paths carry account and
 *   conversation ids) never leave this origin; other sites see only the origin, which is public
 *   anyway (the widget talks to it). `no-referrer` would be stricter but makes browsers send
 *   `Origin: null` on form posts, which the session cookie's Origin check (src/kernel/auth.ts) has to
 *   refuse.
 * - `Content-Security-Policy` by what is answered: HTML documents get the dashboard policy (same-origin
 *   scripts, styles, images and sockets only), the Swagger UI under /api-docs its own (it needs
 *   inline style attributes), everything else — JSON, errors, assets — `default-src 'none'`. All of
 *   them forbid framing (`frame-ancestors 'none'`, plus `X-Frame-Options: DENY` for old browsers).
 *   A 304 gets none: its headers update the cached response's, which keeps its own policy.
 * - `Strict-Transport-Security` only when PUBLIC_URL is https (an http deployment would otherwise
 *   lock browsers out of itself).
 */
export const CSP_JSON = "default-src 'none'; frame-ancestors 'none'";
export const CSP_DASHBOARD =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/**
 * Swagger UI (@fastify/swagger-ui 6) loads only same-origin scripts (no inline script: its
 * initializer is a separate file), but React sets inline `style` attributes and its CSS embeds
 * `data:` images; "Try it out" calls this origin.
 */
export const CSP_API_DOCS =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
export const HSTS = 'max-age=31536000';

const API_DOCS = /^\/+api-docs(?:[/?#]|$)/;

/** The Content-Security-Policy for a response, by its URL and Content-Type. */
export function contentSecurityPolicy(url: string, contentType: string | undefined): string {
  if (API_DOCS.test(url)) return CSP_API_DOCS;
  if (contentType && /^\s*text\/html\b/i.test(contentType)) return CSP_DASHBOARD;
  return CSP_JSON;
}

export function registerSecurityHeaders(app: FastifyInstance, config: Pick<Config, 'publicUrl'>) {
  const hsts = config.publicUrl.startsWith('https://');
  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'strict-origin-when-cross-origin');
    reply.header('x-frame-options', 'DENY');
    // A 304 has no Content-Type, and its headers replace the cached response's: a JSON policy on it
    // would blank a cached dashboard page on reload. The cached policy stays.
    if (reply.statusCode !== 304) {
      const type = reply.getHeader('content-type');
      reply.header('content-security-policy', contentSecurityPolicy(req.url, typeof type === 'string' ? type : undefined));
    }
    if (hsts) reply.header('strict-transport-security', HSTS);
    return payload;
  });
}

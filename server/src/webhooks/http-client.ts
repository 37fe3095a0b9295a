import dns from 'node:dns';
import net from 'node:net';
import { STATUS_CODES } from 'node:http';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector, request } from 'undici';

/**
 * Outbound webhook HTTP. The SSRF guard lives in the connector: the host is resolved there, every
 * resolved address is classified, and the socket is opened to the address that was checked, so a
 * DNS name pointing at 127.0.0.1 (or re-resolving to it later) never gets a connection.
 */

export class BlockedAddressError extends Error {
  readonly code = 'EWEBHOOKBLOCKED';
}

/**
 * The IPv4 address an IPv6 address stands for, when it embeds one a network may route to it:
 * IPv4-compatible `::a.b.c.d` (deprecated, but a kernel with a SIT tunnel still sends it as IPv4),
 * IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d` (RFC 6145), the NAT64 well-known
 * prefix `64:ff9b::a.b.c.d` (RFC 6052) and 6to4 `2002:AABB:CCDD::/48` (RFC 3056). `::` and `::1`
 * keep their IPv6 meaning (unspecified, loopback).
 */
export function embeddedIPv4(ip: ipaddr.IPv6): ipaddr.IPv4 | null {
  const p = ip.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const zero = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  if (zero(0, 6) && !(p[6] === 0 && p[7] <= 1)) return v4(p[6], p[7]);
  if (zero(0, 5) && p[5] === 0xffff) return v4(p[6], p[7]);
  if (zero(0, 4) && p[4] === 0xffff && p[5] === 0) return v4(p[6], p[7]);
  if (p[0] === 0x64 && p[1] === 0xff9b && zero(2, 6)) return v4(p[6], p[7]);
  if (p[0] === 0x2002) return v4(p[1], p[2]);
  return null;
}

/**
 * Why an address may not be called, or null when it is a public unicast address. An IPv6 address
 * that embeds an IPv4 one is judged as that IPv4 address (`[::127.0.0.1]`, `[::7f00:1]`,
 * `[64:ff9b::a00:1]` are loopback / private).
 */
export function blockedReason(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6') ip = embeddedIPv4(ip as ipaddr.IPv6) ?? ip;
  const range = ip.range();
  if (range === 'unicast') return null;
  return range; // loopback, private, linkLocal (incl. 169.254.169.254), carrierGradeNat, uniqueLocal, unspecified, multicast, …
}

type LookupResult = { address: string; family: number };

function resolve(hostname: string): Promise<LookupResult[]> {
  if (net.isIP(hostname)) return Promise.resolve([{ address: hostname, family: net.isIP(hostname) }]);
  return new Promise((ok, fail) =>
    dns.lookup(hostname, { all: true, verbatim: true }, (err, addrs) => (err ? fail(err) : ok(addrs))),
  );
}

export type WebhookClientOptions = {
  allowPrivateNetwork: boolean;
  timeoutMs: number;
  /** Sockets kept per origin (the worker caps concurrency per endpoint itself). */
  connectionsPerOrigin?: number;
};

export type SendResult = {
  statusCode: number | null;
  durationMs: number;
  /** First 1 KiB of the response body. */
  snippet: string | null;
  /** Null on 2xx; otherwise a short human-readable reason (never the body or a secret). */
  error: string | null;
  retryAfterMs: number | null;
  /** True when the refusal came from the SSRF guard (no connection was made). */
  blocked: boolean;
};

const SNIPPET_BYTES = 1024;
const DRAIN_LIMIT = 64 * 1024;

export class WebhookHttpClient {
  readonly agent: Agent;

  constructor(private readonly opts: WebhookClientOptions) {
    const base = buildConnector({ timeout: opts.timeoutMs });
    const allowPrivate = opts.allowPrivateNetwork;
    this.agent = new Agent({
      connections: opts.connectionsPerOrigin ?? 16,
      keepAliveTimeout: 30_000,
      connect(options, callback) {
        resolve(options.hostname).then(
          (addrs) => {
            if (!addrs.length) return callback(new Error(`no address for ${options.hostname}`), null);
            if (!allowPrivate) {
              for (const a of addrs) {
                const reason = blockedReason(a.address);
                if (reason) {
                  return callback(
                    new BlockedAddressError(
                      `refused: ${options.hostname} resolves to ${a.address} (${reason}); set WEBHOOK_ALLOW_PRIVATE_NETWORK=true to allow`,
                    ),
                    null,
                  );
                }
              }
            }
            base({ ...options, hostname: addrs[0].address }, callback);
          },
          (err: Error) => callback(err, null),
        );
      },
    });
  }

  /** One POST. Never throws: every outcome is a SendResult. Redirects are not followed (a failure). */
  async post(url: string, headers: Record<string, string>, body: string, cancel?: AbortSignal): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;
    try {
      const res = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.agent,
        signal,
        // The AbortSignal is the deadline; undici's own coarse timers only back it up.
        headersTimeout: this.opts.timeoutMs + 1000,
        bodyTimeout: this.opts.timeoutMs + 1000,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of res.body) {
          if (size < SNIPPET_BYTES) chunks.push(chunk as Buffer);
          size += (chunk as Buffer).length;
          if (size > DRAIN_LIMIT) break; // a long body: stop reading, the socket is dropped
        }
      } catch {
        /* the status decides; a broken body only shortens the snippet */
      }
      const snippet = size ? Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString('utf8') : null;
      const code = res.statusCode;
      const ok = code >= 200 && code < 300;
      let error: string | null = null;
      if (!ok) {
        error = `${code} ${STATUS_CODES[code] ?? ''}`.trim();
        if (code >= 300 && code < 400) error += ' (redirects are not followed)';
      }
      const retryAfterMs = code === 429 || code === 503 ? parseRetryAfter(res.headers['retry-after']) : null;
      return { statusCode: code, durationMs: elapsed(), snippet, error, retryAfterMs, blocked: false };
    } catch (err) {
      return { statusCode: null, durationMs: elapsed(), snippet: null, error: cancel?.aborted ? 'cancelled (shutdown)' : describeError(err, timeout, this.opts.timeoutMs), retryAfterMs: null, blocked: isBlocked(err) };
    }
  }

  async close() {
    await this.agent.close().catch(() => {});
  }
}

function isBlocked(err: unknown): boolean {
  for (let e = err as any; e; e = e.cause) if (e instanceof BlockedAddressError) return true;
  return false;
}

function describeError(err: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return `timeout after ${timeoutMs} ms`;
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown };
  if (e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT' || e?.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `timeout after ${timeoutMs} ms`;
  }
  const inner = (e?.cause as { message?: string } | undefined)?.message;
  const msg = e?.message || String(err);
  return (inner && !msg.includes(inner) ? `${msg}: ${inner}` : msg).slice(0, 500);
}

/** `Retry-After`: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, at = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  const trimmed = v.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - at);
}

import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { enforce } from '../kernel/ratelimit.js';
import { errors } from '../kernel/errors.js';

/**
 * Abuse limits of the client API, which has no credentials but the inbox identifier and a source_id:
 * - fixed one-minute windows per client IP and per inbox (config.publicRateLimit), shared by every
 *   node when Redis is configured: 429 `{error}` with `Retry-After` (seconds);
 * - request bodies capped tighter than the global limit (config.bodyLimitBytes still applies);
 * - content limits of the Application API (message content ≤ 150 000 characters, …).
 */

export const WINDOW_S = 60;

/** Message content limit of the Application API (reference §6). */
export const MAX_CONTENT = 150_000;
/** String columns (names, e-mails, identifiers, echo ids). */
export const MAX_STRING = 255;
/** custom_attributes: string values < 1 500 characters, integers < 9 999 999 999, at most this many keys. */
export const MAX_ATTRIBUTE_STRING = 1500;
export const MAX_ATTRIBUTE_INT = 9_999_999_999;
export const MAX_ATTRIBUTE_KEYS = 100;
/** submitted_values entries of one form reply. */
export const MAX_SUBMITTED_VALUES = 100;

/** Bodies of contact and conversation routes are small; message bodies carry up to 150 000 characters. */
export function bodyLimits(globalLimit: number) {
  return {
    small: Math.min(globalLimit, 64 * 1024),
    message: globalLimit,
  };
}

/** onRequest hook: per-IP, then per-inbox fixed windows. */
export function rateLimitHook(ctx: AppContext) {
  const { perIpPerMinute, perInboxPerMinute } = ctx.config.publicRateLimit;
  return async (req: FastifyRequest) => {
    await enforce(ctx.limiter, `public:ip:${req.ip}`, perIpPerMinute, WINDOW_S);
    const inbox = (req.params as Record<string, unknown> | undefined)?.inbox_identifier;
    if (typeof inbox === 'string' && inbox) {
      await enforce(ctx.limiter, `public:inbox:${inbox.slice(0, 128)}`, perInboxPerMinute, WINDOW_S);
    }
  };
}

/**
 * custom_attributes of a conversation or contact: a flat-ish JSON object whose string values are
 * shorter than 1 500 characters and whose integers are below 9 999 999 999 (reference §1).
 */
export function checkAttributes(value: Record<string, unknown> | undefined, field: string): Record<string, unknown> | undefined {
  if (!value) return value;
  const keys = Object.keys(value);
  if (keys.length > MAX_ATTRIBUTE_KEYS) throw errors.invalid(`${field} may have at most ${MAX_ATTRIBUTE_KEYS} keys`, [field]);
  for (const k of keys) {
    const v = value[k];
    if (k.length > MAX_STRING) throw errors.invalid(`${field} keys must be at most ${MAX_STRING} characters`, [field]);
    if (typeof v === 'string' && v.length >= MAX_ATTRIBUTE_STRING) {
      throw errors.invalid(`${field}.${k} must be shorter than ${MAX_ATTRIBUTE_STRING} characters`, [field]);
    }
    if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) >= MAX_ATTRIBUTE_INT) {
      throw errors.invalid(`${field}.${k} must be less than ${MAX_ATTRIBUTE_INT}`, [field]);
    }
  }
  return value;
}

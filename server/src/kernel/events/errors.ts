/**
 * Thrown by a listener (or wrapping another error) for a failure that says nothing about the event
 * itself — a database that is busy, a Redis that is away. The dispatcher retries with backoff and
 * never skips the event.
 */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** PostgreSQL SQLSTATE classes that describe the server or the connection, not the statement. */
const PG_TRANSIENT_CLASSES = new Set(['08', '40', '53', '57', '58']);
const PG_TRANSIENT_CODES = new Set(['55P03']); // lock_not_available
const SQLITE_TRANSIENT = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|PROTOCOL|CANTOPEN|NOMEM|INTERRUPT)(_|$)/;
const NET_TRANSIENT = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ENOTCONN',
]);
const NAME_TRANSIENT = new Set(['TransientError', 'MaxRetriesPerRequestError']);
const MESSAGE_TRANSIENT = [
  /Connection is closed/i, // ioredis
  /Stream isn't writeable/i, // ioredis, offline queue disabled
  /max retries per request/i, // ioredis
  /Command timed out/i, // ioredis commandTimeout
  /^(LOADING|TRYAGAIN|CLUSTERDOWN|MASTERDOWN)\b/, // Redis replies while it cannot serve
  /Connection terminated/i, // pg
  /timeout exceeded when trying to connect/i, // pg pool
  /is not queryable/i, // pg client after a connection error
  /database is locked/i, // SQLite without a code
  /SQLite connection wait exceeded/, // src/kernel/db.ts
];

/**
 * Whether a failure is transient (retry later, never skip) rather than caused by the event (poison).
 * Looks through `cause` chains and AggregateErrors (a refused dual-stack connect).
 */
export function isTransient(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 8) return false;
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (err instanceof TransientError || (typeof e.name === 'string' && NAME_TRANSIENT.has(e.name))) return true;
  const code = typeof e.code === 'string' ? e.code : '';
  if (code) {
    if (SQLITE_TRANSIENT.test(code) || NET_TRANSIENT.has(code) || PG_TRANSIENT_CODES.has(code)) return true;
    if (/^[0-9][0-9A-Z]{4}$/.test(code) && PG_TRANSIENT_CLASSES.has(code.slice(0, 2))) return true;
  }
  if (typeof e.message === 'string' && MESSAGE_TRANSIENT.some((re) => re.test(e.message as string))) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isTransient(x, depth + 1))) return true;
  return e.cause !== undefined && isTransient(e.cause, depth + 1);
}

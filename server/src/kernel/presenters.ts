import type { Readiness } from '../metrics/readiness.js';

/**
 * The response envelopes every audience shares, so routes return what a presenter built and never
 * assemble JSON themselves: `{payload}`, `{data}`, and a page's `{meta:{count, current_page,
 * total_pages}, payload}`.
 */

export const payloadOf = <T>(payload: T) => ({ payload });

export const dataOf = <T>(data: T) => ({ data });

export type PageMeta = { count: number; current_page: number; total_pages: number };

export const pageMeta = (count: number, page: number, totalPages: number): PageMeta => ({ count, current_page: page, total_pages: totalPages });

/** The meta of a log page of `perPage` rows (at least one page, even when empty). */
export const logPageMeta = (count: number, page: number, perPage: number) => pageMeta(count, page, Math.max(1, Math.ceil(count / perPage)));

/** `GET /health`. */
export const presentHealth = (database: boolean, version: string) => ({
  status: database ? ('ok' as const) : ('degraded' as const),
  database: database ? ('up' as const) : ('down' as const),
  version,
});

/** `GET /health/ready`: 200 with `ready`, 503 with `not_ready` and the failed checks named in `failing`. */
export const presentReadiness = (r: Readiness, version: string) => ({
  status: r.failing.length ? ('not_ready' as const) : ('ready' as const),
  checks: { ...r.checks },
  failing: [...r.failing],
  pending_migrations: [...r.pendingMigrations],
  failing_listeners: [...r.failingListeners],
  version,
});

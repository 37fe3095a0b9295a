import type { Executor } from '../kernel/db.js';

/**
 * The queries behind the scrape-time gauges of GET /metrics. Each is an index range or an
 * index-only count with a row cap, so a scrape costs the same however large the tables grow; they
 * run only when /metrics is scraped, never on the request path.
 */

/** Index entries a count looks at, at most: beyond it the gauge reads the cap (a floor). */
export const COUNT_CAP = 100_000;
/**
 * Delivery rows read for the per-endpoint breakdown, at most (a row read, not an index entry: on
 * SQLite ~1 µs each, on the event loop, so ~10 ms at the cap).
 */
export const BREAKDOWN_CAP = 10_000;

/** Events after `after` (up to COUNT_CAP), and when the oldest of them was written (null when none). */
export async function eventsAfter(db: Executor, after: number): Promise<{ count: number; oldestAt: number | null }> {
  const counted = await db
    .selectFrom((eb) => eb.selectFrom('events').select('id').where('id', '>', after).limit(COUNT_CAP).as('behind'))
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirst();
  const count = Number(counted?.n ?? 0);
  if (!count) return { count, oldestAt: null };
  const oldest = await db.selectFrom('events').select('created_at').where('id', '>', after).orderBy('id').limit(1).executeTakeFirst();
  return { count, oldestAt: oldest ? Number(oldest.created_at) : null };
}

/** Dead events kept per listener (the unique index on (listener, event_id) answers it; 30 days kept). */
export async function deadEventsByListener(db: Executor): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom((eb) => eb.selectFrom('dead_events').select('listener').limit(COUNT_CAP).as('dead'))
    .select(['listener', (eb) => eb.fn.countAll<number | string>().as('n')])
    .groupBy('listener')
    .execute();
  return new Map(rows.map((r) => [r.listener, Number(r.n)]));
}

export type EndpointBacklog = { endpoint: string; pending: number; retrying: number; inFlight: number };

/** Deliveries pending and in flight in all (index-only counts on (status, next_attempt_at), each up to COUNT_CAP). */
export async function deliveryTotals(db: Executor): Promise<{ pending: number; inFlight: number }> {
  const count = async (status: 'pending' | 'in_flight') => {
    const row = await db
      .selectFrom((eb) => eb.selectFrom('webhook_deliveries').select('status').where('status', '=', status).limit(COUNT_CAP).as('rows'))
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  };
  return { pending: await count('pending'), inFlight: await count('in_flight') };
}

/**
 * Deliveries waiting (pending; `retrying`: of those, the ones whose last attempt failed) and in
 * flight per endpoint, among the first BREAKDOWN_CAP rows of the (status, next_attempt_at) index
 * (in flight, then pending due first). Every account's: the gauges are the installation's (no
 * account id reaches a label).
 */
export async function deliveryBacklog(db: Executor): Promise<EndpointBacklog[]> {
  const rows = await db
    .selectFrom((eb) =>
      eb
        .selectFrom('webhook_deliveries')
        .select(['endpoint_type', 'endpoint_id', 'status', 'attempts'])
        .where('status', 'in', ['pending', 'in_flight'])
        .limit(BREAKDOWN_CAP)
        .as('live'),
    )
    .select((eb) => [
      'endpoint_type',
      'endpoint_id',
      'status',
      eb.fn.countAll<number | string>().as('n'),
      eb.fn.sum<number | string>(eb.case().when('attempts', '>', 0).then(1).else(0).end()).as('retrying'),
    ])
    .groupBy(['endpoint_type', 'endpoint_id', 'status'])
    .execute();
  const out = new Map<string, EndpointBacklog>();
  for (const r of rows) {
    const endpoint = `${r.endpoint_type}:${r.endpoint_id}`;
    let b = out.get(endpoint);
    if (!b) out.set(endpoint, (b = { endpoint, pending: 0, retrying: 0, inFlight: 0 }));
    if (r.status === 'pending') {
      b.pending += Number(r.n);
      b.retrying += Number(r.retrying ?? 0);
    } else b.inFlight += Number(r.n);
  }
  return [...out.values()];
}

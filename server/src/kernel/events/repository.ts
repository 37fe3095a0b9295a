import { sql } from 'kysely';
import type { Database, Executor, Tx } from '../db.js';
import { now, precompiled } from '../db.js';
import type { DomainEventName } from './types.js';

/** The outbox's queries: events, listener cursors (event_consumers) and dead events. */

export type EventRow = { id: number; account_id: number; name: string; payload: string; created_at: number };

/**
 * Inserts an event. On PostgreSQL the transaction's id (xid) is assigned before the event's id is
 * drawn from the sequence — the materialized CTE runs before the row (and its nextval default) is
 * built — which the reader's gap rule relies on (horizon.ts).
 */
// Every write records an event: compiled once (src/kernel/db.ts precompiled).
const insertSqlite = precompiled<[number, string, string, number], never>((db, arg) =>
  db.insertInto('events').values({ account_id: arg(0), name: arg(1), payload: arg(2), created_at: arg(3) }),
);

export async function insertEvent(trx: Tx, dialect: Database['dialect'], accountId: number, name: DomainEventName, payload: string): Promise<void> {
  const createdAt = now();
  if (dialect === 'postgres') {
    await sql`with x as materialized (select pg_current_xact_id()) insert into events (account_id, name, payload, created_at) select ${accountId}, ${name}, ${payload}, ${createdAt} from x`.execute(trx);
    return;
  }
  await insertSqlite.run(trx, accountId, name, payload, createdAt);
}

/** Events after `after`, in id order. */
export async function selectEventsAfter(db: Executor, after: number, limit: number): Promise<EventRow[]> {
  const rows = await db.selectFrom('events').selectAll().where('id', '>', after).orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ ...r, id: Number(r.id), created_at: Number(r.created_at) }));
}

/** The snapshot a statement saw (PostgreSQL): the oldest transaction id still running. */
export type SnapshotBounds = { xmin: bigint };

/** PostgreSQL: a transaction id assigned now, in a transaction of its own (it commits at once). */
export async function freshTransactionId(db: Executor): Promise<bigint> {
  const { rows } = await sql<{ x: string }>`select pg_current_xact_id()::text as x`.execute(db);
  return BigInt(rows[0].x);
}

/**
 * PostgreSQL: events after `after` in id order, and the bounds of the snapshot they were read in
 * (one statement, so one snapshot). The bounds are null when no event was found.
 */
export async function selectEventsAfterPg(db: Executor, after: number, limit: number): Promise<{ rows: EventRow[]; snapshot: SnapshotBounds | null }> {
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .select(sql<string>`pg_snapshot_xmin(pg_current_snapshot())::text`.as('snap_xmin'))
    .where('id', '>', after)
    .orderBy('id')
    .limit(limit)
    .execute();
  const snapshot = rows.length ? { xmin: BigInt(rows[0].snap_xmin) } : null;
  return {
    rows: rows.map((r) => ({ id: Number(r.id), account_id: r.account_id, name: r.name, payload: r.payload, created_at: Number(r.created_at) })),
    snapshot,
  };
}

export async function maxEventId(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max('id').as('max'))
    .executeTakeFirst();
  return Number(row?.max ?? 0);
}

/** Creates a listener's cursor at `at` unless it exists. */
export async function createCursor(db: Executor, name: string, at: number): Promise<void> {
  await db
    .insertInto('event_consumers')
    .values({ name, last_event_id: at, updated_at: now() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

export async function readCursor(db: Executor, name: string): Promise<number | null> {
  const row = await db.selectFrom('event_consumers').select('last_event_id').where('name', '=', name).executeTakeFirst();
  return row ? Number(row.last_event_id) : null;
}

/**
 * Locks a listener's cursor for this transaction and returns it; null when another node holds it
 * right now (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite has a single writer).
 */
export async function lockCursor(trx: Tx, dialect: Database['dialect'], name: string): Promise<number | null> {
  let q = trx.selectFrom('event_consumers').select('last_event_id').where('name', '=', name);
  if (dialect === 'postgres') q = q.forUpdate().skipLocked();
  const row = await q.executeTakeFirst();
  return row ? Number(row.last_event_id) : null;
}

export async function moveCursor(db: Executor, name: string, to: number): Promise<void> {
  await db.updateTable('event_consumers').set({ last_event_id: to, updated_at: now() }).where('name', '=', name).execute();
}

/** Stores an in-memory cursor, never moving the stored one back (a batch may have stored a later one meanwhile). */
export async function saveCursor(db: Executor, name: string, to: number): Promise<void> {
  await db.updateTable('event_consumers').set({ last_event_id: to, updated_at: now() }).where('name', '=', name).where('last_event_id', '<', to).execute();
}

/** Moves a cursor from `from` to `to` only if it is still at `from` (no lock held); whether it moved. */
export async function casCursor(db: Executor, name: string, from: number, to: number): Promise<boolean> {
  const r = await db
    .updateTable('event_consumers')
    .set({ last_event_id: to, updated_at: now() })
    .where('name', '=', name)
    .where('last_event_id', '=', from)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function listCursors(db: Executor): Promise<{ name: string; at: number }[]> {
  const rows = await db.selectFrom('event_consumers').select(['name', 'last_event_id']).execute();
  return rows.map((r) => ({ name: r.name, at: Number(r.last_event_id) }));
}

export type DeadEventRow = {
  listener: string;
  event_id: number;
  account_id: number;
  event_name: string;
  error: string;
  attempts: number;
  created_at: number;
};

/** Records a dead event once per listener and event. */
export async function insertDeadEvent(db: Executor, row: DeadEventRow): Promise<void> {
  await db
    .insertInto('dead_events')
    .values(row)
    .onConflict((oc) => oc.columns(['listener', 'event_id']).doNothing())
    .execute();
}

/**
 * Deletes dead events older than `deadBefore`, and events every listener has handled that are
 * older than `eventsBefore`. Returns how many events were deleted.
 */
export async function pruneOutbox(db: Executor, eventsBefore: number, deadBefore: number): Promise<number> {
  await db.deleteFrom('dead_events').where('created_at', '<', deadBefore).execute();
  const min = await db
    .selectFrom('event_consumers')
    .select((eb) => eb.fn.min('last_event_id').as('min'))
    .executeTakeFirst();
  if (min?.min == null) return 0;
  const res = await db.deleteFrom('events').where('id', '<=', Number(min.min)).where('created_at', '<', eventsBefore).executeTakeFirst();
  return Number(res.numDeletedRows ?? 0);
}

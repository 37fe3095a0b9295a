import type { Database, Tx } from '../db.js';
import { markEventsWritten } from '../db.js';
import { sql } from 'kysely';
import { insertEvent } from './repository.js';
import type { DomainEventName, EventMap } from './types.js';

/**
 * Writes a domain event in the caller's transaction, so it commits (or not) with the change it
 * describes. On PostgreSQL a transaction-scoped advisory lock makes event ids follow commit order,
 * and NOTIFY wakes the dispatchers of every node once the transaction commits.
 */
export async function recordEvent<K extends DomainEventName>(
  trx: Tx,
  dialect: Database['dialect'],
  accountId: number,
  name: K,
  payload: EventMap[K],
): Promise<void> {
  if (dialect === 'postgres') {
    await sql`select pg_advisory_xact_lock(7316001)`.execute(trx);
    await sql`select pg_notify('channelx_outbox', '')`.execute(trx);
  }
  await insertEvent(trx, accountId, name, JSON.stringify(payload));
  markEventsWritten(trx);
}

/** Convenience for services: record an event on the executor of an open transaction. */
export type EventSink = <K extends DomainEventName>(trx: Tx, accountId: number, name: K, payload: EventMap[K]) => Promise<void>;

export function eventSink(database: Database): EventSink {
  return (trx, accountId, name, payload) => recordEvent(trx, database.dialect, accountId, name, payload);
}

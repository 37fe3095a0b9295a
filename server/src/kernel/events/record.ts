import type { Database, Tx } from '../db.js';
import { markEventsWritten } from '../db.js';
import { insertEvent } from './repository.js';
import type { DomainEventName, EventMap } from './types.js';

/**
 * Writes a domain event in the caller's transaction, so it commits (or not) with the change it
 * describes. No lock is taken: writers commit in parallel on PostgreSQL, and the dispatcher's
 * reader (CommitHorizon, horizon.ts) never delivers past an id whose transaction may still commit.
 * The commit wakes this node's dispatcher, which tells the other nodes (PgWake, pg-wake.ts).
 */
export async function recordEvent<K extends DomainEventName>(
  trx: Tx,
  dialect: Database['dialect'],
  accountId: number,
  name: K,
  payload: EventMap[K],
): Promise<void> {
  await insertEvent(trx, dialect, accountId, name, JSON.stringify(payload));
  markEventsWritten(trx);
}

/** Convenience for services: record an event on the executor of an open transaction. */
export type EventSink = <K extends DomainEventName>(trx: Tx, accountId: number, name: K, payload: EventMap[K]) => Promise<void>;

export function eventSink(database: Database): EventSink {
  return (trx, accountId, name, payload) => recordEvent(trx, database.dialect, accountId, name, payload);
}

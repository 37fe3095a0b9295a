import type { Tx } from '../db.js';
import type { AnyOutboxEvent } from './types.js';

/**
 * An event as listeners receive it, read back from the outbox: a union discriminated by `name`,
 * whose `payload` is that event's payload type (EventMap in types.ts), checked when it was read.
 */
export type OutboxEvent = AnyOutboxEvent;

export type Listener = {
  /** Stable name: the cursor is stored under it. */
  name: string;
  /**
   * Handles a batch in commit order inside the transaction that advances this listener's cursor:
   * database writes made here commit exactly once together with the cursor.
   */
  handle(events: OutboxEvent[], trx: Tx): Promise<void>;
  /** Runs after the batch's transaction committed (wake a worker, etc.). */
  afterCommit?(events: OutboxEvent[]): void;
  /**
   * false for listeners without durable effects (real-time fan-out: after a crash the sockets are
   * gone anyway). On SQLite their cursor then lives in memory and is saved at most once a second,
   * saving a commit (an fsync) per batch; `handle` gets the plain connection, for reads only.
   * On PostgreSQL every listener keeps the locked, transactional cursor (one node per listener).
   */
  durable?: boolean;
};

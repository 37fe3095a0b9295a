import type { Executor, Tx } from '../db.js';
import type { AnyOutboxEvent } from './types.js';

/**
 * An event as listeners receive it, read back from the outbox: a union discriminated by `name`,
 * whose `payload` is that event's payload type (EventMap in types.ts), checked when it was read.
 */
export type OutboxEvent = AnyOutboxEvent;

/** The writes a planned batch commits together with its cursor (see `Listener.plan`), given the cursor's transaction. */
export type BatchCommit = (trx: Executor) => Promise<void>;

export type Listener = {
  /** Stable name: the cursor is stored under it. */
  name: string;
  /**
   * Handles a batch in commit order inside the transaction that advances this listener's cursor:
   * database writes made here commit exactly once together with the cursor.
   */
  handle(events: OutboxEvent[], trx: Tx): Promise<void>;
  /**
   * Instead of `handle` (which the dispatcher then never calls), for a durable listener whose batches mostly write nothing (the webhook
   * listener on an account without endpoints): reads what the batch needs and returns the writes
   * to commit with the cursor, or null when the batch writes nothing. On SQLite it runs outside
   * any transaction, the writes commit in a transaction of their own and the cursor moves in
   * memory (saved each second and on stop, no commit of its own); after a crash the events since
   * the last save are handled again, so `plan`'s writes must be idempotent per event (the webhook
   * listener's (event, endpoint) unique key). On PostgreSQL it runs in the cursor's locked
   * transaction, exactly like `handle`, and the returned writes run in that same transaction.
   * `cursor` is the position the batch was read after.
   */
  plan?(events: OutboxEvent[], db: Executor, cursor: number): Promise<BatchCommit | null>;
  /**
   * Optional, for listeners that often have nothing to do (no audience, no endpoint): whether
   * handling these events would do nothing at all — no write, no effect. Asked on PostgreSQL
   * before the cursor's transaction (outside it, so it must only read): a batch it skips costs the
   * events read and no transaction; the skipped position is stored each second (see cursors.ts).
   * A false answer is followed by `handle`/`plan` as usual, in the locked transaction.
   */
  skip?(events: OutboxEvent[], db: Executor, cursor: number): Promise<boolean>;
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

import { sql } from 'kysely';
import type { Database, Executor, Tx } from '../db.js';
import { markEventsWritten, now } from '../db.js';
import type { DomainEventName } from './types.js';

export type OutboxEvent = {
  id: number;
  accountId: number;
  name: DomainEventName;
  payload: Record<string, unknown>;
  createdAt: number;
};

/**
 * Writes a domain event in the caller's transaction, so it commits (or not) with the change it
 * describes. On PostgreSQL a transaction-scoped advisory lock makes event ids follow commit order,
 * and NOTIFY wakes the dispatchers of every node once the transaction commits.
 */
export async function recordEvent(
  trx: Tx,
  dialect: Database['dialect'],
  accountId: number,
  name: DomainEventName,
  payload: Record<string, unknown>,
): Promise<void> {
  if (dialect === 'postgres') {
    await sql`select pg_advisory_xact_lock(7316001)`.execute(trx);
    await sql`select pg_notify('channelx_outbox', '')`.execute(trx);
  }
  await trx
    .insertInto('events')
    .values({ account_id: accountId, name, payload: JSON.stringify(payload), created_at: now() })
    .execute();
  markEventsWritten(trx);
}

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

type Logger = { error(obj: unknown, msg?: string): void; info(obj: unknown, msg?: string): void };

const BATCH = 200;

/**
 * Hands committed outbox events to listeners, each with its own cursor, so a slow listener never
 * delays another. Woken right after commit in process (and by NOTIFY on PostgreSQL); polls as a fallback.
 */
export class Dispatcher {
  private listeners: Listener[] = [];
  private loops = new Map<string, { running: boolean; again: boolean }>();
  private timer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  private pgListener: { end(): Promise<void> } | null = null;
  private inFlight = new Set<Promise<void>>();
  /** In-memory cursors of non-durable listeners (SQLite), and whether they moved since last saved. */
  private memCursors = new Map<string, { id: number; dirty: boolean }>();

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
    private readonly opts: { pollMs?: number; databaseUrl?: string; pgSchema?: string } = {},
  ) {}

  register(listener: Listener) {
    if (this.listeners.some((l) => l.name === listener.name)) throw new Error(`listener ${listener.name} registered twice`);
    this.listeners.push(listener);
    this.loops.set(listener.name, { running: false, again: false });
    if (!this.stopped) void this.initCursor(listener).then(() => this.kick(listener));
  }

  async start() {
    this.stopped = false;
    for (const l of this.listeners) await this.initCursor(l);
    this.database.onEventsCommitted = () => this.wake();
    this.timer = setInterval(() => {
      this.wake();
      void this.saveMemCursors().catch((err) => this.log.error({ err }, 'saving listener cursors failed'));
    }, this.opts.pollMs ?? 1000);
    this.timer.unref();
    this.pruneTimer = setInterval(() => void this.prune().catch((err) => this.log.error({ err }, 'outbox prune failed')), 3600_000);
    this.pruneTimer.unref();
    if (this.database.dialect === 'postgres' && this.opts.databaseUrl) await this.listenPg(this.opts.databaseUrl);
    this.wake();
  }

  async stop() {
    this.stopped = true;
    await Promise.allSettled([...this.inFlight]);
    await this.saveMemCursors();
    if (this.timer) clearInterval(this.timer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.timer = this.pruneTimer = null;
    this.database.onEventsCommitted = null;
    await this.pgListener?.end().catch(() => {});
    this.pgListener = null;
  }

  wake() {
    if (this.stopped) return;
    for (const l of this.listeners) this.kick(l);
  }

  /** Resolves once every listener has handled every event committed before the call (tests, shutdown). */
  async drain(timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    const max = await this.maxEventId();
    for (;;) {
      const rows = await this.database.db.selectFrom('event_consumers').select(['name', 'last_event_id']).execute();
      const mine = rows.filter((r) => this.loops.has(r.name));
      const at = (r: { name: string; last_event_id: number }) => this.memCursors.get(r.name)?.id ?? Number(r.last_event_id);
      if (mine.length === this.listeners.length && mine.every((r) => at(r) >= max)) return;
      if (Date.now() > deadline) throw new Error('outbox drain timed out');
      this.wake();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Deletes events every listener has handled and that are older than the retention window. */
  async prune(retentionMs = 7 * 24 * 3600 * 1000): Promise<number> {
    const min = await this.database.db
      .selectFrom('event_consumers')
      .select((eb) => eb.fn.min('last_event_id').as('min'))
      .executeTakeFirst();
    if (min?.min == null) return 0;
    const res = await this.database.db
      .deleteFrom('events')
      .where('id', '<=', Number(min.min))
      .where('created_at', '<', now() - retentionMs)
      .executeTakeFirst();
    return Number(res.numDeletedRows ?? 0);
  }

  private async maxEventId(): Promise<number> {
    const row = await this.database.db
      .selectFrom('events')
      .select((eb) => eb.fn.max('id').as('max'))
      .executeTakeFirst();
    return Number(row?.max ?? 0);
  }

  private async initCursor(l: Listener) {
    // A listener seen for the first time starts at the current end of the log, not at its beginning.
    const max = await this.maxEventId();
    await this.database.db
      .insertInto('event_consumers')
      .values({ name: l.name, last_event_id: max, updated_at: now() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  }

  private kick(l: Listener) {
    const state = this.loops.get(l.name)!;
    if (state.running) {
      state.again = true;
      return;
    }
    state.running = true;
    const p = (async () => {
      try {
        do {
          state.again = false;
          while (!this.stopped && (await this.runBatch(l)) === BATCH) {
            /* keep going while batches are full */
          }
        } while (state.again && !this.stopped);
      } catch (err) {
        this.log.error({ err, listener: l.name }, 'outbox listener failed; will retry');
      } finally {
        state.running = false;
      }
    })();
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private inMemory(l: Listener) {
    return l.durable === false && this.database.dialect === 'sqlite';
  }

  private async saveMemCursors() {
    for (const [name, c] of this.memCursors) {
      if (!c.dirty) continue;
      c.dirty = false;
      await this.database.db
        .updateTable('event_consumers')
        .set({ last_event_id: c.id, updated_at: now() })
        .where('name', '=', name)
        .execute();
    }
  }

  private async readEvents(db: Executor, after: number): Promise<OutboxEvent[]> {
    const rows = await db.selectFrom('events').selectAll().where('id', '>', after).orderBy('id').limit(BATCH).execute();
    return rows.map((r) => ({
      id: Number(r.id),
      accountId: r.account_id,
      name: r.name as DomainEventName,
      payload: JSON.parse(r.payload),
      createdAt: Number(r.created_at),
    }));
  }

  private async runInMemory(l: Listener): Promise<number> {
    let cursor = this.memCursors.get(l.name);
    if (!cursor) {
      const row = await this.database.db.selectFrom('event_consumers').select('last_event_id').where('name', '=', l.name).executeTakeFirst();
      cursor = { id: Number(row?.last_event_id ?? 0), dirty: false };
      this.memCursors.set(l.name, cursor);
    }
    const events = await this.readEvents(this.database.db, cursor.id);
    if (!events.length) return 0;
    await l.handle(events, this.database.db as unknown as Tx);
    cursor.id = events[events.length - 1].id;
    cursor.dirty = true;
    l.afterCommit?.(events);
    return events.length;
  }

  private async runBatch(l: Listener): Promise<number> {
    if (this.inMemory(l)) return this.runInMemory(l);
    let handled: OutboxEvent[] = [];
    await this.database.transaction(async (trx) => {
      let q = trx.selectFrom('event_consumers').select('last_event_id').where('name', '=', l.name);
      if (this.database.dialect === 'postgres') q = q.forUpdate().skipLocked();
      const cursor = await q.executeTakeFirst();
      if (!cursor) return; // another node holds this listener right now
      const events = await this.readEvents(trx, Number(cursor.last_event_id));
      if (!events.length) return;
      await l.handle(events, trx);
      await trx
        .updateTable('event_consumers')
        .set({ last_event_id: events[events.length - 1].id, updated_at: now() })
        .where('name', '=', l.name)
        .execute();
      handled = events;
    });
    if (handled.length) l.afterCommit?.(handled);
    return handled.length;
  }

  private async listenPg(url: string) {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: url });
    client.on('error', (err) => this.log.error({ err }, 'outbox LISTEN connection failed; polling continues'));
    await client.connect();
    client.on('notification', () => this.wake());
    await client.query('LISTEN channelx_outbox');
    this.pgListener = client;
  }
}

/** Convenience for services: record an event on the executor of an open transaction. */
export type EventSink = (trx: Tx, accountId: number, name: DomainEventName, payload: Record<string, unknown>) => Promise<void>;

export function eventSink(database: Database): EventSink {
  return (trx, accountId, name, payload) => recordEvent(trx, database.dialect, accountId, name, payload);
}

export type { Executor };

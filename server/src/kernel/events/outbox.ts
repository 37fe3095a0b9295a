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

type LogFn = (obj: unknown, msg?: string) => void;
type Logger = { error: LogFn; info: LogFn; warn?: LogFn };

const BATCH = 200;

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

/** How the dispatcher retries. Injectable (constructor, setRetryPolicy) so tests run fast. */
export type RetryPolicy = {
  /** Attempts at one event handled on its own before it is recorded as dead (default 3). */
  attempts: number;
  /** Pause before the second attempt at a failing event, doubled for each further one (default 50 ms). */
  backoffMs: number;
  /** Pause after the first transient failure, doubled for each further one (default 100 ms)… */
  transientMs: number;
  /** …up to this (default 30 s). */
  transientMaxMs: number;
};

const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 50, transientMs: 100, transientMaxMs: 30_000 };

/** Longest error text kept in a dead event (the message only: no stack, no payload). */
const DEAD_ERROR_MAX = 500;
/** Dead events are kept this long (the outbox prune removes older ones). */
const DEAD_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** A stored payload that is not a JSON object: no attempt can succeed, so it is dead at once. */
class UnreadableEventError extends Error {
  constructor() {
    super('stored event payload is not a JSON object');
    this.name = 'UnreadableEventError';
  }
}

/** A failure of `handle` on these events, read after `cursor` (carries what the dispatcher needs to isolate them). */
class EventFailure extends Error {
  constructor(
    readonly events: OutboxEvent[],
    readonly cursor: number,
    override readonly cause: unknown,
  ) {
    super('listener failed');
  }
}

function errorText(err: unknown): string {
  let text: string;
  if (err instanceof Error) text = `${err.name}: ${err.message}`;
  else {
    try {
      text = String(err);
    } catch {
      text = 'unknown error';
    }
  }
  return text.length > DEAD_ERROR_MAX ? `${text.slice(0, DEAD_ERROR_MAX - 1)}…` : text;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Loop = {
  running: boolean;
  again: boolean;
  /** > 0 while isolating: events up to this id (the end of a failed batch) are handled one at a time. */
  isolateUntil: number;
  /** Attempts so far at the event being isolated. */
  failures: { eventId: number; count: number } | null;
  /** Consecutive transient failures, and the timer that retries after the backoff. */
  transient: number;
  retryTimer: NodeJS.Timeout | null;
};

/**
 * Hands committed outbox events to listeners, each with its own cursor, so a slow listener never
 * delays another. Woken right after commit in process (and by NOTIFY on PostgreSQL); polls as a fallback.
 *
 * Failures never stop a listener. When `handle` throws on a batch, the batch's events are handled
 * one at a time (each in its own transaction with the cursor, so good events commit exactly once);
 * an event that still fails after `attempts` tries is recorded in `dead_events` (logged at error)
 * and the cursor moves past it. A transient failure (see `isTransient`) is not the event's fault:
 * the listener waits with exponential backoff and tries the same events again, never skipping.
 */
export class Dispatcher {
  private listeners: Listener[] = [];
  private loops = new Map<string, Loop>();
  private timer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  private pgListener: { end(): Promise<void> } | null = null;
  private inFlight = new Set<Promise<void>>();
  /** In-memory cursors of non-durable listeners (SQLite), and whether they moved since last saved. */
  private memCursors = new Map<string, { id: number; dirty: boolean }>();
  /** Events read whose stored payload could not be parsed. */
  private unreadable = new WeakSet<OutboxEvent>();
  private retry: RetryPolicy;

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
    private readonly opts: { pollMs?: number; databaseUrl?: string; pgSchema?: string; retry?: Partial<RetryPolicy> } = {},
  ) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
  }

  /** Changes the retry policy (tests make it fast). */
  setRetryPolicy(policy: Partial<RetryPolicy>) {
    this.retry = { ...this.retry, ...policy };
  }

  register(listener: Listener) {
    if (this.listeners.some((l) => l.name === listener.name)) throw new Error(`listener ${listener.name} registered twice`);
    this.listeners.push(listener);
    this.loops.set(listener.name, { running: false, again: false, isolateUntil: 0, failures: null, transient: 0, retryTimer: null });
    if (!this.stopped)
      void this.initCursor(listener).then(
        () => this.kick(listener),
        (err) => this.log.error({ err, listener: listener.name }, 'outbox listener cursor could not be created; the next start retries'),
      );
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
    for (const state of this.loops.values()) {
      if (state.retryTimer) clearTimeout(state.retryTimer);
      state.retryTimer = null;
    }
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

  /** Consecutive transient failures per listener right now (0 = healthy): for readiness checks and tests. */
  status(): Record<string, { transientFailures: number }> {
    return Object.fromEntries([...this.loops].map(([name, state]) => [name, { transientFailures: state.transient }]));
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

  /** Deletes events every listener has handled and that are older than the retention window (and old dead events). */
  async prune(retentionMs = 7 * 24 * 3600 * 1000): Promise<number> {
    await this.database.db.deleteFrom('dead_events').where('created_at', '<', now() - DEAD_RETENTION_MS).execute();
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

  private warn(obj: unknown, msg: string) {
    if (this.log.warn) this.log.warn(obj, msg);
    else this.log.error(obj, msg);
  }

  private kick(l: Listener) {
    const state = this.loops.get(l.name)!;
    if (state.retryTimer) return; // backing off after a transient failure: the timer kicks again
    if (state.running) {
      state.again = true;
      return;
    }
    state.running = true;
    const p = (async () => {
      try {
        do {
          state.again = false;
          while (!this.stopped && (await this.step(l, state))) {
            /* keep going while there is more */
          }
        } while (state.again && !this.stopped);
      } catch (err) {
        this.backOff(l, state, err);
      } finally {
        state.running = false;
      }
    })();
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** A failure that is not an event's fault: wait (exponential, capped) and try the same events again. */
  private backOff(l: Listener, state: Loop, err: unknown) {
    state.transient++;
    const { transientMs, transientMaxMs } = this.retry;
    const delay = Math.min(transientMaxMs, transientMs * 2 ** Math.min(state.transient - 1, 30));
    // One line when the trouble starts, then one every 10 attempts (not one per retry).
    if (state.transient === 1 || state.transient % 10 === 0) {
      const fields = { err, listener: l.name, failures: state.transient, retry_in_ms: delay };
      if (isTransient(err)) this.warn(fields, 'outbox listener: transient failure; retrying with backoff, no event skipped');
      else this.log.error(fields, 'outbox listener failed outside event handling; retrying with backoff');
    }
    if (this.stopped) return;
    state.retryTimer = setTimeout(() => {
      state.retryTimer = null;
      this.kick(l);
    }, delay);
    state.retryTimer.unref();
  }

  /**
   * One round: a batch, or one event while isolating. Resolves true when there may be more to do
   * right away; throws (transient) when the listener must back off.
   */
  private async step(l: Listener, state: Loop): Promise<boolean> {
    const single = state.isolateUntil > 0;
    try {
      const r = await this.runBatch(l, single ? 1 : BATCH);
      if (state.transient) {
        this.log.info({ listener: l.name, failures: state.transient }, 'outbox listener recovered');
        state.transient = 0;
      }
      if (!single) return r.count === BATCH;
      state.failures = null;
      if (!r.count || r.last >= state.isolateUntil) state.isolateUntil = 0;
      return r.count > 0;
    } catch (err) {
      if (!(err instanceof EventFailure)) throw err;
      if (isTransient(err.cause)) throw err.cause;
      const { events, cursor, cause } = err;
      if (!single) {
        // Which event is it? Handle the batch's events one at a time.
        state.isolateUntil = events[events.length - 1].id;
        this.warn(
          { err: errorText(cause), listener: l.name, from_event_id: events[0].id, to_event_id: state.isolateUntil },
          'outbox listener failed on a batch; handling its events one at a time',
        );
        return true;
      }
      const ev = events[0];
      const f = state.failures?.eventId === ev.id ? state.failures : (state.failures = { eventId: ev.id, count: 0 });
      f.count++;
      if (!(cause instanceof UnreadableEventError) && f.count < this.retry.attempts) {
        await sleep(this.retry.backoffMs * 2 ** (f.count - 1));
        return true;
      }
      await this.bury(l, ev, cursor, cause, f.count);
      state.failures = null;
      if (ev.id >= state.isolateUntil) state.isolateUntil = 0;
      return true;
    }
  }

  /** Records an event the listener cannot process and moves its cursor past it (only if nobody moved it meanwhile). */
  private async bury(l: Listener, ev: OutboxEvent, cursor: number, cause: unknown, attempts: number) {
    const row = {
      listener: l.name,
      event_id: ev.id,
      account_id: ev.accountId,
      event_name: String(ev.name).slice(0, 64),
      error: errorText(cause),
      attempts,
      created_at: now(),
    };
    const insert = (db: Executor) =>
      db
        .insertInto('dead_events')
        .values(row)
        .onConflict((oc) => oc.columns(['listener', 'event_id']).doNothing())
        .execute();
    let buried = false;
    if (this.inMemory(l)) {
      const mem = this.memCursors.get(l.name);
      if (mem && mem.id === cursor) {
        await insert(this.database.db);
        mem.id = ev.id;
        mem.dirty = true;
        buried = true;
      }
    } else {
      await this.database.transaction(async (trx) => {
        let q = trx.selectFrom('event_consumers').select('last_event_id').where('name', '=', l.name);
        if (this.database.dialect === 'postgres') q = q.forUpdate().skipLocked();
        const at = await q.executeTakeFirst();
        if (!at || Number(at.last_event_id) !== cursor) return; // another node handled it meanwhile
        await insert(trx);
        await trx.updateTable('event_consumers').set({ last_event_id: ev.id, updated_at: now() }).where('name', '=', l.name).execute();
        buried = true;
      });
    }
    if (buried) {
      this.log.error(
        { listener: l.name, event_id: ev.id, event: ev.name, account_id: ev.accountId, attempts, error: row.error },
        'outbox listener could not process an event; recorded as a dead event and skipped',
      );
    }
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

  private async readEvents(db: Executor, after: number, limit: number): Promise<OutboxEvent[]> {
    const rows = await db.selectFrom('events').selectAll().where('id', '>', after).orderBy('id').limit(limit).execute();
    return rows.map((r) => {
      let payload: unknown;
      try {
        payload = JSON.parse(r.payload);
      } catch {
        payload = null;
      }
      const ok = payload !== null && typeof payload === 'object' && !Array.isArray(payload);
      const ev: OutboxEvent = {
        id: Number(r.id),
        accountId: r.account_id,
        name: r.name as DomainEventName,
        payload: ok ? (payload as Record<string, unknown>) : {},
        createdAt: Number(r.created_at),
      };
      if (!ok) this.unreadable.add(ev);
      return ev;
    });
  }

  /** Calls the listener; any throw becomes an EventFailure naming the events and the cursor they were read after. */
  private async handleEvents(l: Listener, events: OutboxEvent[], trx: Tx, cursor: number) {
    try {
      if (events.some((e) => this.unreadable.has(e))) throw new UnreadableEventError();
      await l.handle(events, trx);
    } catch (cause) {
      throw new EventFailure(events, cursor, cause);
    }
  }

  private afterCommit(l: Listener, events: OutboxEvent[]) {
    try {
      l.afterCommit?.(events);
    } catch (err) {
      this.log.error({ err, listener: l.name }, 'outbox listener afterCommit failed');
    }
  }

  private async runInMemory(l: Listener, limit: number): Promise<{ count: number; last: number }> {
    let cursor = this.memCursors.get(l.name);
    if (!cursor) {
      const row = await this.database.db.selectFrom('event_consumers').select('last_event_id').where('name', '=', l.name).executeTakeFirst();
      cursor = { id: Number(row?.last_event_id ?? 0), dirty: false };
      this.memCursors.set(l.name, cursor);
    }
    const from = cursor.id;
    const events = await this.readEvents(this.database.db, from, limit);
    if (!events.length) return { count: 0, last: from };
    await this.handleEvents(l, events, this.database.db as unknown as Tx, from);
    const last = events[events.length - 1].id;
    cursor.id = last;
    cursor.dirty = true;
    this.afterCommit(l, events);
    return { count: events.length, last };
  }

  private async runBatch(l: Listener, limit: number): Promise<{ count: number; last: number }> {
    if (this.inMemory(l)) return this.runInMemory(l, limit);
    let handled: OutboxEvent[] = [];
    await this.database.transaction(async (trx) => {
      let q = trx.selectFrom('event_consumers').select('last_event_id').where('name', '=', l.name);
      if (this.database.dialect === 'postgres') q = q.forUpdate().skipLocked();
      const cursor = await q.executeTakeFirst();
      if (!cursor) return; // another node holds this listener right now
      const from = Number(cursor.last_event_id);
      const events = await this.readEvents(trx, from, limit);
      if (!events.length) return;
      await this.handleEvents(l, events, trx, from);
      await trx
        .updateTable('event_consumers')
        .set({ last_event_id: events[events.length - 1].id, updated_at: now() })
        .where('name', '=', l.name)
        .execute();
      handled = events;
    });
    if (!handled.length) return { count: 0, last: 0 };
    this.afterCommit(l, handled);
    return { count: handled.length, last: handled[handled.length - 1].id };
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

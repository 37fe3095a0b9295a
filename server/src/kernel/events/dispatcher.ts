import type { Database, Executor, Tx } from '../db.js';
import { now } from '../db.js';
import { Cursors } from './cursors.js';
import { DEAD_RETENTION_MS, deadEventRow, errorText, EventFailure, UnreadableEventError } from './dead-events.js';
import { isTransient } from './errors.js';
import type { BatchCommit, Listener, OutboxEvent } from './listener.js';
import { PgWake } from './pg-wake.js';
import { EventReader } from './read.js';
import { insertDeadEvent, maxEventId, pruneOutbox } from './repository.js';
import { DEFAULT_RETRY, eventBackoff, transientDelay, type RetryPolicy } from './retry.js';

type LogFn = (obj: unknown, msg?: string) => void;
type Logger = { error: LogFn; info: LogFn; warn?: LogFn };
/** Runs `fn` labelled (tests attribute the statements a listener runs); the default just runs it. */
export type Scope = <T>(label: string, fn: () => T) => T;

const BATCH = 200;
const GAP_MIN_MS = 5;
const GAP_MAX_MS = 500;

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
 * delays another. Woken after commit in process — at most once per event-loop turn, however many
 * transactions committed in it, so a burst of commits forms one batch — and by NOTIFY on
 * PostgreSQL; polls as a fallback.
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
  private pgWake: PgWake | null = null;
  /** PostgreSQL: while a gap in the ids holds events back, look again soon (doubling, capped). */
  private gapTimer: NodeJS.Timeout | null = null;
  private gapMs = GAP_MIN_MS;
  private inFlight = new Set<Promise<void>>();
  private cursors: Cursors;
  private reader: EventReader;
  private retry: RetryPolicy;
  /** The wake-up of this event-loop turn, when one is scheduled (commits coalesce into it). */
  private wakeSoon: NodeJS.Immediate | null = null;
  private scope: Scope = (_label, fn) => fn();

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
    private readonly opts: { pollMs?: number; databaseUrl?: string; pgSchema?: string; retry?: Partial<RetryPolicy> } = {},
  ) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.cursors = new Cursors(database);
    this.reader = new EventReader(database);
  }

  /**
   * Labels the work of each listener (`listener:<name>` for cursor, read and handling,
   * `after:<name>` for afterCommit): tests count the statements each one runs.
   */
  setScope(scope: Scope) {
    this.scope = scope;
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
      void this.cursors.init(listener).then(
        () => this.kick(listener),
        (err) => this.log.error({ err, listener: listener.name }, 'outbox listener cursor could not be created; the next start retries'),
      );
  }

  async start() {
    this.stopped = false;
    for (const l of this.listeners) await this.cursors.init(l);
    this.database.onEventsCommitted = () => this.wakeAfterCommit();
    this.timer = setInterval(() => {
      this.wake();
      void this.cursors.save().catch((err) => this.log.error({ err }, 'saving listener cursors failed'));
    }, this.opts.pollMs ?? 1000);
    this.timer.unref();
    this.pruneTimer = setInterval(() => void this.prune().catch((err) => this.log.error({ err }, 'outbox prune failed')), 3600_000);
    this.pruneTimer.unref();
    if (this.database.dialect === 'postgres' && this.opts.databaseUrl)
      this.pgWake = await PgWake.connect(this.opts.databaseUrl, () => this.wake(), this.log.error.bind(this.log));
    this.wake();
  }

  async stop() {
    this.stopped = true;
    if (this.wakeSoon) clearImmediate(this.wakeSoon);
    this.wakeSoon = null;
    for (const state of this.loops.values()) {
      if (state.retryTimer) clearTimeout(state.retryTimer);
      state.retryTimer = null;
    }
    await Promise.allSettled([...this.inFlight]);
    await this.cursors.save();
    if (this.timer) clearInterval(this.timer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.timer = this.pruneTimer = this.gapTimer = null;
    this.database.onEventsCommitted = null;
    await this.pgWake?.end().catch(() => {});
    this.pgWake = null;
  }

  wake() {
    if (this.stopped) return;
    for (const l of this.listeners) this.kick(l);
  }

  /**
   * A transaction that wrote events committed: wake the listeners (and tell the other nodes) once
   * this event-loop turn is over, so every commit of the turn is in the batch they read.
   */
  private wakeAfterCommit() {
    if (this.wakeSoon || this.stopped) return;
    this.wakeSoon = setImmediate(() => {
      this.wakeSoon = null;
      this.wake();
      this.pgWake?.notify();
    });
  }

  /** Consecutive transient failures per listener right now (0 = healthy): for readiness checks and tests. */
  status(): Record<string, { transientFailures: number }> {
    return Object.fromEntries([...this.loops].map(([name, state]) => [name, { transientFailures: state.transient }]));
  }

  /** Started and not stopped (readiness). */
  get running() {
    return !this.stopped;
  }

  /** Where each registered listener is (its in-memory position where it has one): for the lag metrics. */
  async positions(): Promise<Map<string, number>> {
    const at = await this.cursors.positions();
    return new Map(this.listeners.filter((l) => at.has(l.name)).map((l) => [l.name, at.get(l.name)!]));
  }

  /** Resolves once every listener has handled every event committed before the call (tests, shutdown). */
  async drain(timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    const max = await maxEventId(this.database.db);
    for (;;) {
      const at = await this.cursors.positions();
      const mine = [...at].filter(([name]) => this.loops.has(name));
      if (mine.length === this.listeners.length && mine.every(([, id]) => id >= max)) return;
      if (Date.now() > deadline) throw new Error('outbox drain timed out');
      this.wake();
      await sleep(5);
    }
  }

  /** Deletes events every listener has handled and that are older than the retention window (and old dead events). */
  async prune(retentionMs = 7 * 24 * 3600 * 1000): Promise<number> {
    return pruneOutbox(this.database.db, now() - retentionMs, now() - DEAD_RETENTION_MS);
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
        this.lookAgainIfHeldBack();
      } catch (err) {
        this.backOff(l, state, err);
      } finally {
        state.running = false;
      }
    })();
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** PostgreSQL: events wait behind an id whose transaction may still commit; look again soon. */
  private lookAgainIfHeldBack() {
    if (!this.reader.horizon?.waiting) {
      this.gapMs = GAP_MIN_MS;
      return;
    }
    if (this.gapTimer || this.stopped) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      this.wake();
    }, this.gapMs);
    this.gapTimer.unref();
    this.gapMs = Math.min(GAP_MAX_MS, this.gapMs * 2);
  }

  /** A failure that is not an event's fault: wait (exponential, capped) and try the same events again. */
  private backOff(l: Listener, state: Loop, err: unknown) {
    state.transient++;
    const delay = transientDelay(this.retry, state.transient);
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
        await sleep(eventBackoff(this.retry, f.count));
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
    const row = deadEventRow(l, ev, cause, attempts);
    const r = await this.scope(`listener:${l.name}`, () =>
      this.cursors.advance(l, async (_db, from) => {
        if (from !== cursor) return null; // another node handled it meanwhile
        return { to: ev.id, commit: (db) => insertDeadEvent(db, row) };
      }),
    );
    if (r?.to != null) {
      this.log.error(
        { listener: l.name, event_id: ev.id, event: ev.name, account_id: ev.accountId, attempts, error: row.error },
        'outbox listener could not process an event; recorded as a dead event and skipped',
      );
    }
  }

  /**
   * Calls the listener (`plan` when it has one, else `handle`) and returns the writes to commit with
   * the cursor; any throw, of the listener or of those writes, becomes an EventFailure naming the
   * events and the cursor they were read after.
   */
  private async handleEvents(l: Listener, events: OutboxEvent[], db: Executor, cursor: number): Promise<BatchCommit | null> {
    let commit: BatchCommit | null = null;
    try {
      if (events.some((e) => this.reader.isUnreadable(e))) throw new UnreadableEventError();
      if (l.plan) commit = await l.plan(events, db, cursor);
      else await l.handle(events, db as Tx);
    } catch (cause) {
      throw new EventFailure(events, cursor, cause);
    }
    if (!commit) return null;
    const writes = commit;
    return async (trx) => {
      try {
        await writes(trx);
      } catch (cause) {
        throw new EventFailure(events, cursor, cause);
      }
    };
  }

  private afterCommit(l: Listener, events: OutboxEvent[]) {
    try {
      l.afterCommit?.(events);
    } catch (err) {
      this.log.error({ err, listener: l.name }, 'outbox listener afterCommit failed');
    }
  }

  /**
   * A listener that can skip (PostgreSQL): the batch is read and looked at before any transaction;
   * if it would do nothing, only the in-memory position moves. Else the batch is handed to the
   * locked step (which reuses it when it starts from the same position).
   */
  private async peek(l: Listener, limit: number): Promise<{ from: number; events: OutboxEvent[]; skipped: boolean }> {
    const from = await this.cursors.position(l);
    const events = await this.reader.read(this.database.db, from, limit);
    if (!events.length) return { from, events, skipped: true };
    let skipped: boolean;
    try {
      skipped = !events.some((e) => this.reader.isUnreadable(e)) && (await l.skip!(events, this.database.db, from));
    } catch (cause) {
      throw new EventFailure(events, from, cause);
    }
    if (skipped) this.cursors.skipTo(l, from, events[events.length - 1].id);
    return { from, events, skipped };
  }

  private async runBatch(l: Listener, limit: number): Promise<{ count: number; last: number }> {
    let handled: OutboxEvent[] = [];
    let seen: { from: number; events: OutboxEvent[] } | null = null;
    if (this.cursors.skipping(l)) {
      const p = await this.scope(`listener:${l.name}`, () => this.peek(l, limit));
      if (!p.events.length) return { count: 0, last: 0 };
      if (p.skipped) return { count: p.events.length, last: p.events[p.events.length - 1].id };
      seen = p;
    }
    await this.scope(`listener:${l.name}`, () =>
      this.cursors.advance(l, async (db, from) => {
        const events = seen?.from === from ? seen.events : await this.reader.read(db, from, limit);
        if (!events.length) return null;
        const commit = await this.handleEvents(l, events, db, from);
        handled = events;
        return { to: events[events.length - 1].id, commit };
      }),
    );
    if (!handled.length) return { count: 0, last: 0 };
    this.scope(`after:${l.name}`, () => this.afterCommit(l, handled));
    return { count: handled.length, last: handled[handled.length - 1].id };
  }
}

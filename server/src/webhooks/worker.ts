import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from '../kernel/db.js';
import { now } from '../kernel/db.js';
import { createSender, ThreadedSender, type WebhookSender } from './sender.js';
import { webhookListener } from './listener.js';
import type { Listener } from '../kernel/events/outbox.js';
import { attemptDelivery } from './attempt.js';
import { OutcomeWriter } from './group-commit.js';
import {
  claimDue,
  claimEndpoint,
  endpointKey,
  loadEndpoints,
  recoverOrphans,
  releaseBlocked,
  releaseLeases,
  type ClaimedDelivery,
  type Endpoint,
  type EndpointType,
  type Outcome,
} from './delivery-repository.js';

export { USER_AGENT } from './attempt.js';

export type DeliveryWorkerOptions = {
  /** Sends in flight at once on this node. */
  concurrency?: number;
  /** Sends in flight at once per endpoint, so one slow endpoint never holds every slot. */
  perEndpoint?: number;
  /** Fallback poll (other nodes' work, expired leases); in-process work wakes the worker directly. */
  pollMs?: number;
  /** Lease = 2 × timeout + this: a claimed row may queue behind one send of its endpoint, then send and be recorded. */
  leaseGraceMs?: number;
  /** On stop, how long in-flight sends may finish before they are cancelled and handed back. */
  stopGraceMs?: number;
  /** How long finished sends wait to be written together (group commit); default: the end of the event-loop turn. */
  lingerMs?: number;
};

type Deps = { database: Database; config: Config; log: Logger };

type Slot = { d: ClaimedDelivery; ep: Endpoint | undefined };
type EndpointState = { active: number; held: number; waiting: Slot[] };
/** Rows of an endpoint known to wait pending in the database from row id `fromId` on; `version` counts news of them. */
type Backlog = { fromId: number; version: number };
/** Runs `fn` labelled (tests attribute the statements the worker runs); the default just runs it. */
type Scope = <T>(label: string, fn: () => T) => T;

/**
 * Delivers `webhook_deliveries` rows: the claim scheduler. Everything pending lives in the
 * database: the worker holds at most 2 × `concurrency` claimed rows in memory (at most
 * 2 × `perEndpoint` per endpoint, half of them sending), claims in bounded batches, and a crash
 * loses nothing (leases expire; on SQLite the orphans are re-queued at start). One attempt is
 * attempt.ts, what it means for the delivery retry-policy.ts, its outcome is written by the group
 * commit of group-commit.ts.
 *
 * New rows reach the worker without a claim while their endpoint has room (`reserve`, `adopt`).
 * Rows that overflow into the database are the endpoint's backlog: while it lasts, new rows of the
 * endpoint queue behind it (oldest first), and it is claimed as soon as the endpoint has room —
 * whenever its queue of claimed rows runs below half its sending slots, so the slots never idle
 * while rows wait (`claimEndpoint`, from the backlog's first row id on the endpoint index).
 */
export class DeliveryWorker {
  private readonly client: WebhookSender;
  private readonly concurrency: number;
  private readonly perEndpoint: number;
  private readonly leaseMs: number;
  private readonly endpoints = new Map<string, EndpointState>();
  private readonly backlog = new Map<string, Backlog>();
  /** Endpoints whose backlog the pump claims next. */
  private readonly refills = new Set<string>();
  /** Endpoints the last full claim round passed over because they were full: they may have due rows. */
  private passedOver = new Set<string>();
  /** A full claim round (every endpoint, the due index) is wanted. */
  private wantRound = false;
  private scope: Scope = (_label, fn) => fn();
  /** The adoptions under way: a backlog claim waits for them, so older adopted rows queue first. */
  private adopting: Promise<void> = Promise.resolve();
  private readonly sends = new Set<Promise<void>>();
  private held = 0;
  private active = 0;
  private readonly outcomes: OutcomeWriter;
  private pumping = false;
  private stopped = true;
  private pollTimer: NodeJS.Timeout | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Infinity;
  /** Expired leases (a crashed node's sends) are looked for on the poll tick, not on every wake. */
  private checkExpired = true;
  private readonly cancel = new AbortController();

  constructor(
    private readonly deps: Deps,
    private readonly opts: DeliveryWorkerOptions = {},
  ) {
    this.concurrency = opts.concurrency ?? 64;
    this.perEndpoint = opts.perEndpoint ?? deps.config.webhookConcurrencyPerEndpoint;
    // A claimed row may wait for one send of its endpoint before its own: two timeouts plus grace.
    this.leaseMs = 2 * deps.config.webhookTimeoutMs + (opts.leaseGraceMs ?? 10_000);
    this.client = createSender(
      {
        allowPrivateNetwork: deps.config.webhookAllowPrivateNetwork,
        timeoutMs: deps.config.webhookTimeoutMs,
        // Never below the node's own caps: two endpoints on one origin must not queue behind each other in undici.
        connectionsPerOrigin: this.concurrency,
        thread: deps.config.webhookSenderThread,
      },
      deps.log,
    );
    this.outcomes = new OutcomeWriter(deps.database, deps.log, opts.lingerMs);
  }

  /** Labels the worker's work `worker` (tests count the statements it runs). */
  setScope(scope: Scope) {
    this.scope = scope;
  }

  async start() {
    this.stopped = false;
    if (this.deps.database.dialect === 'sqlite') {
      const n = await recoverOrphans(this.deps.database.db);
      if (n) this.deps.log.info({ count: n }, 'webhook deliveries re-queued after an unclean stop');
    }
    if (this.deps.config.webhookAllowPrivateNetwork) {
      const n = await releaseBlocked(this.deps.database.db);
      if (n) this.deps.log.info({ count: n }, 'webhook deliveries refused as private are due now (WEBHOOK_ALLOW_PRIVATE_NETWORK=true)');
    }
    this.pollTimer = setInterval(() => {
      this.checkExpired = true;
      this.wake();
    }, this.opts.pollMs ?? 1000);
    this.pollTimer.unref();
    this.wake();
  }

  /** Stops claiming; sends in flight get `graceMs` to finish, then are cancelled and handed back. */
  async stop(graceMs = this.opts.stopGraceMs ?? 3000) {
    if (this.stopped) return;
    this.stopped = true;
    void this.outcomes.close(); // outcomes of the sends still finishing are written without lingering
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.pollTimer = this.wakeTimer = null;
    while (this.pumping) await new Promise((r) => setTimeout(r, 5));
    // Claimed rows that never started go back to the database at once.
    const waiting = [...this.endpoints.values()].flatMap((s) => s.waiting.splice(0));
    if (waiting.length) await releaseLeases(this.deps.database.db, waiting.map((w) => w.d)).catch(() => {});
    const grace = new Promise((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.sends]), grace]);
    this.cancel.abort();
    await Promise.allSettled([...this.sends]);
    await this.outcomes.close();
    await this.client.close();
  }

  /** Something may be due anywhere (a redelivery, a retry's time, the poll): a full claim round, coalesced while one runs. */
  wake() {
    if (this.stopped) return;
    this.wantRound = true;
    this.runPump();
  }

  /**
   * Rows the listener inserted pending (their endpoint had no room on this node, or older rows of
   * it wait): they join the endpoint's backlog, claimed at once if it has room, else as it drains.
   */
  queued(rows: { key: string; id: number }[]) {
    if (this.stopped) return;
    for (const { key, id } of rows) this.addBacklog(key, id);
    for (const key of new Set(rows.map((r) => r.key))) this.refills.add(key);
    this.runPump();
  }

  private addBacklog(key: string, fromId: number) {
    const b = this.backlog.get(key);
    if (!b) this.backlog.set(key, { fromId, version: 0 });
    else {
      b.fromId = Math.min(b.fromId, fromId);
      b.version++;
    }
  }

  private runPump() {
    if (this.pumping || this.stopped) return; // the running pump looks at refills and wantRound again before it stops
    void this.scope('worker', () => this.pump());
  }

  /** Told every attempt's outcome on this node (the metrics: attempt latency, failed deliveries). Must not throw. */
  onOutcome: ((outcome: Outcome) => void) | null = null;

  /** Started and not stopped (readiness). */
  get running() {
    return !this.stopped;
  }

  get stats() {
    const endpoints: Record<string, { held: number; sending: number }> = {};
    for (const [key, s] of this.endpoints) endpoints[key] = { held: s.held, sending: s.active };
    return { held: this.held, sending: this.active, queuedOutcomes: this.outcomes.queued, endpoints, senderThread: this.client instanceof ThreadedSender };
  }

  private maxHeld() {
    return 2 * this.concurrency;
  }

  /**
   * Claimed rows per endpoint: its sending slots plus as many queued behind them, refilled when
   * half empty. (A deeper queue would need a longer lease: a queued row waits for one send.)
   */
  private perEndpointHeld() {
    return Math.min(2 * this.perEndpoint, this.maxHeld());
  }

  private async pump() {
    this.pumping = true;
    try {
      while (!this.stopped && (this.refills.size || this.wantRound)) {
        // Backlogs first: their endpoints have room now, and their rows are the oldest of them
        // (after rows being adopted, which are older still).
        if (this.refills.size) await this.adopting;
        for (const key of [...this.refills]) {
          this.refills.delete(key);
          if (this.stopped) break;
          try {
            await this.claimBacklog(key);
          } catch (err) {
            this.refills.add(key); // the next wake (at the latest the poll) tries again
            throw err;
          }
        }
        if (this.wantRound && !this.stopped) {
          this.wantRound = false;
          // Another round only when the last one hit its limit: a round that saw every due row is final.
          while (!this.stopped && this.held < this.maxHeld() && (await this.claimRound())) {
            /* fill free room while there is due work */
          }
        }
      }
    } catch (err) {
      this.deps.log.error({ err }, 'webhook claim failed; will retry');
    } finally {
      this.pumping = false;
    }
  }

  /** Claims the next rows of an endpoint's backlog, as many as it has room for. */
  private async claimBacklog(key: string) {
    const b = this.backlog.get(key);
    if (!b) return;
    const s = this.state(key);
    const room = Math.min(this.perEndpointHeld() - s.held, this.maxHeld() - this.held);
    if (room <= 0) return; // claimed as it drains (deliver)
    const version = b.version;
    const [type, id] = key.split(':');
    // Held before the claim resolves, so a reservation meanwhile cannot take the same room twice.
    s.held += room;
    this.held += room;
    let claimed: ClaimedDelivery[] = [];
    try {
      claimed = await claimEndpoint(this.deps.database, { type: type as EndpointType, id: Number(id), fromId: b.fromId, limit: room, leaseMs: this.leaseMs });
    } finally {
      s.held -= room - claimed.length;
      this.held -= room - claimed.length;
    }
    if (claimed.length === room) b.fromId = claimed[claimed.length - 1].id + 1;
    if (claimed.length) {
      let endpoints: Map<string, Endpoint>;
      try {
        endpoints = await loadEndpoints(this.deps.database.db, type === 'inbox' ? { inbox: [Number(id)], webhook: [] } : { inbox: [], webhook: [Number(id)] });
      } catch (err) {
        // The rows stay in flight under their lease and are claimed again once it expires.
        s.held -= claimed.length;
        this.held -= claimed.length;
        throw err;
      }
      for (const d of claimed) s.waiting.push({ d, ep: endpoints.get(key) });
    }
    // Fewer than asked: nothing more is due from fromId on (unless rows were queued meanwhile), so
    // new rows may take the fast path again — only now that the claimed ones are queued ahead.
    if (claimed.length < room && b.version === version && this.backlog.get(key) === b) this.backlog.delete(key);
    if (!claimed.length && !s.held && !s.active && !s.waiting.length) this.endpoints.delete(key);
    this.startSends();
  }

  private state(key: string): EndpointState {
    let s = this.endpoints.get(key);
    if (!s) this.endpoints.set(key, (s = { active: 0, held: 0, waiting: [] }));
    return s;
  }

  /** Claims one bounded batch; true when more due rows may be waiting. */
  private async claimRound(): Promise<boolean> {
    const free = this.maxHeld() - this.held;
    const perEndpointHeld = this.perEndpointHeld();
    const saturated: Record<EndpointType, number[]> = { inbox: [], webhook: [] };
    const passedOver = new Set<string>();
    for (const [key, s] of this.endpoints) {
      if (s.held < perEndpointHeld) continue;
      const [type, id] = key.split(':');
      saturated[type as EndpointType].push(Number(id));
      passedOver.add(key);
    }
    this.passedOver = passedOver;
    let skippedForCap = false;
    const skipped = new Map<string, number>();
    const includeExpired = this.checkExpired;
    this.checkExpired = false;
    let { claimed, more } = await claimDue(this.deps.database, {
      includeExpired,
      limit: Math.min(free, 128),
      leaseMs: this.leaseMs,
      saturated,
      take: (rows) => {
        const added = new Map<string, number>();
        const kept: ClaimedDelivery[] = [];
        for (const r of rows) {
          if (kept.length >= free) break;
          const key = endpointKey(r.endpoint_type, r.endpoint_id);
          const n = (this.endpoints.get(key)?.held ?? 0) + (added.get(key) ?? 0);
          if (n >= perEndpointHeld) {
            skippedForCap = true;
            // Left due in the database: the endpoint's backlog, claimed as soon as it has room.
            if (!r.expired) skipped.set(key, Math.min(skipped.get(key) ?? Infinity, r.id));
            else this.passedOver.add(key);
            continue;
          }
          added.set(key, (added.get(key) ?? 0) + 1);
          kept.push(r);
        }
        return kept;
      },
    });
    // Due rows left behind only because their endpoint is full are its backlog, claimed as it
    // drains; another round now would re-scan them behind an exclusion the index cannot use.
    for (const [key, fromId] of skipped) this.addBacklog(key, fromId);
    if (skippedForCap) more = false;
    if (!claimed.length) return more;
    const endpoints = await loadEndpoints(this.deps.database.db, {
      inbox: [...new Set(claimed.filter((d) => d.endpoint_type === 'inbox').map((d) => d.endpoint_id))],
      webhook: [...new Set(claimed.filter((d) => d.endpoint_type === 'webhook').map((d) => d.endpoint_id))],
    });
    for (const d of claimed) {
      const key = endpointKey(d.endpoint_type, d.endpoint_id);
      const s = this.state(key);
      s.held++;
      this.held++;
      s.waiting.push({ d, ep: endpoints.get(key) });
    }
    this.startSends();
    return more;
  }

  /**
   * Fast path for rows the listener is inserting: reserves room for one row of the endpoint on this
   * node. A reserved row is inserted in flight under `lease()` and handed over with `adopt` after
   * commit, so it is sent without a claim round; `release` gives back room that was not used.
   */
  reserve(key: string): boolean {
    if (this.stopped || this.backlog.has(key)) return false; // older rows of the endpoint wait: queue behind them
    const s = this.state(key);
    if (s.held >= this.perEndpointHeld() || this.held >= this.maxHeld()) return false;
    s.held++;
    this.held++;
    return true;
  }

  release(keys: string[]) {
    for (const key of keys) {
      const s = this.state(key);
      s.held--;
      this.held--;
    }
  }

  lease(): number {
    return now() + this.leaseMs;
  }

  /** Takes over rows inserted in flight under this worker's lease (see `reserve`). */
  adopt(rows: ClaimedDelivery[]): Promise<void> {
    if (!rows.length) return Promise.resolve();
    const p = this.adoptNow(rows);
    this.adopting = Promise.all([this.adopting, p]).then(() => {});
    return p;
  }

  private async adoptNow(rows: ClaimedDelivery[]) {
    try {
      const endpoints = await loadEndpoints(this.deps.database.db, {
        inbox: [...new Set(rows.filter((d) => d.endpoint_type === 'inbox').map((d) => d.endpoint_id))],
        webhook: [...new Set(rows.filter((d) => d.endpoint_type === 'webhook').map((d) => d.endpoint_id))],
      });
      for (const d of rows) {
        const key = endpointKey(d.endpoint_type, d.endpoint_id);
        this.state(key).waiting.push({ d, ep: endpoints.get(key) });
      }
      this.startSends();
    } catch (err) {
      // The rows stay in flight under their lease and are claimed again once it expires.
      this.release(rows.map((d) => endpointKey(d.endpoint_type, d.endpoint_id)));
      this.deps.log.error({ err }, 'webhook deliveries could not be started; retried after their lease');
    }
  }

  /** Starts waiting rows while their endpoint and the node have free send slots. */
  private startSends() {
    for (const s of this.endpoints.values()) {
      while (!this.stopped && s.waiting.length && s.active < this.perEndpoint && this.active < this.concurrency) {
        const slot = s.waiting.shift()!;
        s.active++;
        this.active++;
        const p = this.deliver(slot, s);
        this.sends.add(p);
        void p.finally(() => this.sends.delete(p));
      }
    }
  }

  private async deliver({ d, ep }: Slot, s: EndpointState) {
    let outcome: Outcome | null = null;
    try {
      outcome = await attemptDelivery({ ...this.deps, client: this.client, signal: this.cancel.signal }, d, ep);
    } catch (err) {
      this.deps.log.error({ err, delivery_id: d.delivery_id }, 'webhook delivery crashed; the lease will expire and it is retried');
    } finally {
      s.active--;
      this.active--;
      this.startSends();
    }
    if (outcome) this.onOutcome?.(outcome);
    try {
      if (outcome) {
        await this.outcomes.record(outcome);
        if (outcome.status === 'pending' && outcome.nextAttemptAt != null) this.wakeBy(outcome.nextAttemptAt);
      }
    } finally {
      const wasFull = this.held >= this.maxHeld();
      const key = endpointKey(d.endpoint_type, d.endpoint_id);
      s.held--;
      this.held--;
      if (!s.held && !s.active && !s.waiting.length) this.endpoints.delete(key);
      // Refill without idling: an endpoint with a backlog claims its next rows while half its
      // sending slots still have a claimed row queued behind them (batches of half the slots, not
      // a claim per delivery); room opened on a full node, or an endpoint the last round passed
      // over, gets a full round. Nothing else waits on an outcome: new rows come with their event,
      // retries with their timer, the rest with the poll.
      if (this.backlog.has(key) && s.waiting.length <= this.perEndpoint / 2) {
        this.refills.add(key);
        this.runPump();
      }
      if (wasFull || (this.passedOver.has(key) && s.held <= this.perEndpointHeld() / 2)) this.wake();
    }
  }

  private wakeBy(at: number) {
    if (this.stopped || at >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeAt = Infinity;
      this.wakeTimer = null;
      this.wake();
    }, Math.max(0, at - now()) + 5);
    this.wakeTimer.unref();
  }
}

/**
 * The webhooks capability for src/workers.ts: registers the outbox listener (outbox →
 * webhook_deliveries) and runs the delivery worker of the context (created in src/server.ts, so
 * services wake it through `ctx.deliveries`).
 */
export function webhooksWorker(ctx: { log: Logger; deliveries: DeliveryWorker; dispatcher: { register(l: Listener): void } }) {
  const worker = ctx.deliveries;
  ctx.dispatcher.register(webhookListener({ log: ctx.log, worker }));
  return { name: 'webhooks', start: () => worker.start(), stop: (graceMs?: number) => worker.stop(graceMs), worker };
}

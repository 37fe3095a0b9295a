import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppContext } from '../context.js';
import type { Outcome } from '../webhooks/delivery-repository.js';
import { HttpSeries } from './http.js';
import { BREAKDOWN_CAP, deadEventsByListener, deliveryBacklog, deliveryTotals, eventsAfter, type EndpointBacklog } from './repository.js';

/**
 * GET /metrics (Prometheus text format, prom-client). Three kinds of series:
 * - counted as things happen, in memory: HTTP requests (an onResponse hook: src/metrics/http.ts),
 *   webhook attempts and failed deliveries (the delivery worker's `onOutcome`);
 * - read at scrape time from memory: /cable sockets and subscriptions, the delivery worker's slots,
 *   listener failures, the database pool or the SQLite connection guard's counters;
 * - read at scrape time from the database (src/metrics/repository.ts: capped index reads, at most
 *   once a second however often it is scraped): outbox lag and dead events per listener, deliveries
 *   waiting per endpoint. These are the installation's, the same on every node.
 * Labels never carry an id of an account, user or conversation, nor a token or a raw URL: the
 * route is Fastify's pattern, an endpoint is `inbox:<id>` / `webhook:<id>` for a bounded number of
 * endpoints (the rest are summed as `other`).
 */

export type MetricsDeps = Pick<AppContext, 'database' | 'dispatcher' | 'deliveries' | 'realtime' | 'log'> & { version: string };

/** Endpoints with their own series in the backlog gauge (the largest backlogs), and in the failed counter (the first seen). */
export const ENDPOINT_LABELS = 20;
const FAILED_ENDPOINT_LABELS = 50;
/** Scrapes closer together than this share one read of the database. */
const SNAPSHOT_MS = 1000;

const ATTEMPT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

let processRegistry: Registry | null = null;

/**
 * The process's own series (CPU, memory, GC, handles, event-loop delay `nodejs_eventloop_lag_*`),
 * prom-client's default collectors under their usual names. One set per process however many
 * servers it runs (the tests run many): the collectors install observers that are never removed.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

type Snapshot = {
  lag: Map<string, { events: number; seconds: number }>;
  dead: Map<string, number>;
  backlog: EndpointBacklog[];
  totals: { pending: number; inFlight: number };
};

export class Metrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  private readonly http: HttpSeries;
  private readonly attemptDuration: Histogram<'result'>;
  private readonly failed: Counter<'endpoint'>;
  private readonly failedLabels = new Set<string>();
  private snap: { at: number; value: Promise<Snapshot | null> } | null = null;

  constructor(private readonly deps: MetricsDeps) {
    const registers = [this.registry];
    const snapshot = () => this.snapshot();
    this.http = new HttpSeries(registers);
    this.attemptDuration = new Histogram({
      name: 'channelx_webhook_attempt_duration_seconds',
      help: 'Duration of webhook delivery attempts made by this node, by result (success, http_error, transport_error).',
      labelNames: ['result'],
      buckets: ATTEMPT_BUCKETS,
      registers,
    });
    this.failed = new Counter({
      name: 'channelx_webhook_deliveries_failed_total',
      help: `Deliveries this node gave up on (schedule used up, 410 Gone, endpoint removed or disabled), by endpoint (the first ${FAILED_ENDPOINT_LABELS} seen; later ones as "other").`,
      labelNames: ['endpoint'],
      registers,
    });

    new Gauge({
      name: 'channelx_build_info',
      help: 'Always 1: the version, the database dialect and the Node.js version of this node.',
      labelNames: ['version', 'dialect', 'node'],
      registers,
      collect() {
        this.set({ version: deps.version, dialect: deps.database.dialect, node: process.versions.node }, 1);
      },
    });
    new Gauge({
      name: 'channelx_metrics_database_ok',
      help: '1 when this scrape could read the database-derived series (outbox, deliveries), 0 when the database did not answer.',
      registers,
      async collect() {
        this.set((await snapshot()) ? 1 : 0);
      },
    });

    // Outbox: per listener.
    const perListener = (name: string, help: string, value: (s: Snapshot, listener: string) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['listener'],
        registers,
        async collect() {
          this.reset();
          const s = await snapshot();
          if (!s) return;
          for (const listener of s.lag.keys()) {
            const v = value(s, listener);
            if (v !== undefined) this.set({ listener }, v);
          }
        },
      });
    perListener('channelx_outbox_lag_events', 'Outbox events the listener has not handled yet (counted up to 100 000).', (s, l) => s.lag.get(l)?.events);
    perListener('channelx_outbox_lag_seconds', 'Age of the oldest outbox event the listener has not handled yet (0 when caught up).', (s, l) => s.lag.get(l)?.seconds);
    perListener('channelx_outbox_dead_events', 'Dead events recorded for the listener (events it could not process; kept 30 days).', (s, l) => s.dead.get(l) ?? 0);
    const dispatcher = deps.dispatcher;
    new Gauge({
      name: 'channelx_outbox_listener_failures',
      help: 'Consecutive transient failures of the listener right now (0 when healthy; it retries with backoff, skipping nothing).',
      labelNames: ['listener'],
      registers,
      collect() {
        this.reset();
        for (const [listener, s] of Object.entries(dispatcher.status())) this.set({ listener }, s.transientFailures);
      },
    });

    // Webhook deliveries.
    new Gauge({
      name: 'channelx_webhook_deliveries',
      help: `Deliveries by endpoint and state: pending (waiting to be sent), retrying (pending after a failed attempt), in_flight. The ${ENDPOINT_LABELS} endpoints with the most among the first ${BREAKDOWN_CAP} rows (in flight, then due first) are labelled; the rest is "other", so pending and in_flight sum to the totals (counted up to 100 000).`,
      labelNames: ['endpoint', 'state'],
      registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        if (!s) return;
        for (const b of boundEndpoints(s.backlog, s.totals)) {
          this.set({ endpoint: b.endpoint, state: 'pending' }, b.pending);
          this.set({ endpoint: b.endpoint, state: 'retrying' }, b.retrying);
          this.set({ endpoint: b.endpoint, state: 'in_flight' }, b.inFlight);
        }
      },
    });
    const worker = deps.deliveries;
    const workerGauge = (name: string, help: string, value: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(value());
        },
      });
    workerGauge('channelx_webhook_sends_in_flight', 'Webhook requests this node is sending right now.', () => worker.stats.sending);
    workerGauge('channelx_webhook_claimed_deliveries', 'Deliveries this node has claimed (sending or queued behind their endpoint).', () => worker.stats.held);
    workerGauge('channelx_webhook_outcomes_queued', 'Finished attempts waiting to be written (group commit).', () => worker.stats.queuedOutcomes);

    // /cable.
    const rt = deps.realtime;
    workerGauge('channelx_cable_connections', 'Open /cable WebSocket connections on this node.', () => rt.hub.size);
    workerGauge('channelx_cable_subscriptions', 'Confirmed RoomChannel subscriptions on this node.', () => rt.rooms.subscriptionCount);

    this.databaseGauges(registers);
    // Attempts and failures are counted as the worker reports them (never from a table scan).
    deps.deliveries.onOutcome = (o) => this.observeOutcome(o);
  }

  private databaseGauges(registers: Registry[]) {
    const stats = () => this.deps.database.stats();
    const gauge = (name: string, help: string, value: () => number | null) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const v = value();
          if (v !== null) this.set(v);
        },
      });
    const counter = (name: string, help: string, value: () => number | null) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const v = value();
          this.reset();
          if (v !== null) this.inc(v);
        },
      });
    if (this.deps.database.dialect === 'postgres') {
      const pool = () => {
        const s = stats();
        return s.dialect === 'postgres' ? s.pool : null;
      };
      gauge('channelx_db_pool_connections', 'Open connections of the PostgreSQL pool.', () => pool()?.total ?? null);
      gauge('channelx_db_pool_idle_connections', 'Idle connections of the PostgreSQL pool.', () => pool()?.idle ?? null);
      gauge('channelx_db_pool_waiting_queries', 'Queries waiting for a PostgreSQL pool connection.', () => pool()?.waiting ?? null);
      gauge('channelx_db_pool_max_connections', 'Size limit of the PostgreSQL pool.', () => pool()?.max ?? null);
      return;
    }
    const sqlite = () => {
      const s = stats();
      return s.dialect === 'sqlite' ? s : null;
    };
    gauge('channelx_sqlite_connection_outstanding', 'Callers holding or waiting for the SQLite connection right now.', () => sqlite()?.outstanding ?? null);
    counter('channelx_sqlite_connection_waits_total', 'Queries that had to wait for the SQLite connection (busy with another caller).', () => sqlite()?.waits ?? null);
    counter('channelx_sqlite_connection_wait_seconds_total', 'Time queries spent waiting for the SQLite connection.', () => sqlite()?.waitSeconds ?? null);
    counter('channelx_sqlite_connection_wait_timeouts_total', 'Queries that gave up waiting for the SQLite connection.', () => sqlite()?.timeouts ?? null);
  }

  /** One answered request (the onResponse hook). */
  observeRequest(method: string, route: string | undefined, status: number, seconds: number) {
    this.http.observe(method, route, status, seconds);
  }

  /** One finished attempt (or a delivery failed without one: endpoint gone or disabled). */
  observeOutcome(o: Outcome) {
    if (o.attempt) {
      const result = !o.attempt.error ? 'success' : o.attempt.statusCode != null ? 'http_error' : 'transport_error';
      this.attemptDuration.observe({ result }, o.attempt.durationMs / 1000);
    }
    if (o.status === 'failed') {
      let endpoint = `${o.delivery.endpoint_type}:${o.delivery.endpoint_id}`;
      if (!this.failedLabels.has(endpoint)) {
        if (this.failedLabels.size < FAILED_ENDPOINT_LABELS) this.failedLabels.add(endpoint);
        else endpoint = 'other';
      }
      this.failed.inc({ endpoint });
    }
  }

  /** The text exposition: this server's series, then the process's. */
  async scrape(): Promise<string> {
    const [own, proc] = await Promise.all([this.registry.metrics(), processMetrics().metrics()]);
    return `${own}\n${proc}`;
  }

  /** Stops observing the delivery worker (the app closes). */
  close() {
    if (this.deps.deliveries.onOutcome) this.deps.deliveries.onOutcome = null;
  }

  private snapshot(): Promise<Snapshot | null> {
    const t = Date.now();
    if (!this.snap || t - this.snap.at >= SNAPSHOT_MS) {
      this.snap = {
        at: t,
        value: this.read().catch((err) => {
          this.deps.log.warn({ err }, 'metrics: the database-derived series could not be read');
          return null;
        }),
      };
    }
    return this.snap.value;
  }

  private async read(): Promise<Snapshot> {
    const db = this.deps.database.db;
    const t = Date.now();
    const lag = new Map<string, { events: number; seconds: number }>();
    for (const [listener, at] of await this.deps.dispatcher.positions()) {
      const behind = await eventsAfter(db, at);
      lag.set(listener, { events: behind.count, seconds: behind.oldestAt === null ? 0 : Math.max(0, (t - behind.oldestAt) / 1000) });
    }
    return { lag, dead: await deadEventsByListener(db), backlog: await deliveryBacklog(db), totals: await deliveryTotals(db) };
  }
}

/**
 * The ENDPOINT_LABELS endpoints with the most deliveries waiting or in flight, and `other`: the
 * rest of the breakdown plus what it did not look at (the totals beyond BREAKDOWN_CAP rows).
 */
export function boundEndpoints(all: EndpointBacklog[], totals: { pending: number; inFlight: number }): EndpointBacklog[] {
  const sorted = [...all].sort((a, b) => b.pending + b.inFlight - (a.pending + a.inFlight) || a.endpoint.localeCompare(b.endpoint));
  const top = sorted.slice(0, ENDPOINT_LABELS);
  const other = { endpoint: 'other', pending: 0, retrying: 0, inFlight: 0 };
  for (const b of sorted.slice(ENDPOINT_LABELS)) {
    other.pending += b.pending;
    other.retrying += b.retrying;
    other.inFlight += b.inFlight;
  }
  const sum = (k: 'pending' | 'inFlight') => all.reduce((n, b) => n + b[k], 0);
  other.pending += Math.max(0, totals.pending - sum('pending'));
  other.inFlight += Math.max(0, totals.inFlight - sum('inFlight'));
  return other.pending || other.inFlight || other.retrying ? [...top, other] : top;
}

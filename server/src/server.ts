import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { buildApp, type App } from './app.js';
import { openDatabase, type OpenOptions } from './kernel/db.js';
import { migrate } from './kernel/migrate.js';
import { Auth } from './kernel/auth.js';
import { Dispatcher, eventSink } from './kernel/events/outbox.js';
import { MemoryRateLimiter, RedisRateLimiter, createRedisClient } from './kernel/ratelimit.js';
import { createMailer } from './kernel/mailer.js';
import { createWorkers, type Worker } from './workers.js';
import { Realtime } from './realtime/index.js';
import { DeliveryWorker } from './webhooks/worker.js';
import { REDACT, redactFields, redactText, redactUrl } from './kernel/redact.js';

/** Credentials are kept out of logs in one place, src/kernel/redact.ts; the logger below applies it. */
export { REDACT, redactUrl };

export type Server = {
  app: App;
  ctx: AppContext;
  workers: Worker[];
  /** Listens on config.port (0 = any free port) and starts the dispatcher and workers. */
  listen(): Promise<string>;
  /**
   * Graceful stop (see `stopServer`), within `graceMs` (default SHUTDOWN_GRACE_MS) plus the time to
   * close. Idempotent: every call returns the same promise.
   */
  close(opts?: { graceMs?: number }): Promise<void>;
};

/**
 * The logger of the whole server (Fastify's request logs included). Credentials never reach a line:
 * request URLs are masked (`redactUrl`: credential-like query parameters, user-info, invitation
 * tokens, the client API's source_id), credential-named fields of logged objects are masked
 * (`redactFields`), error messages and stacks and log messages are masked (`redactText`), and
 * request/response credential headers by pino's `redact` paths.
 */
export function createLogger(config: Config, opts: { silent?: boolean; destination?: pino.DestinationStream } = {}): Logger {
  const options: pino.LoggerOptions = {
    level: opts.silent ? 'silent' : config.logLevel,
    redact: { paths: REDACT, censor: '[redacted]' },
    formatters: { log: (obj) => redactFields(obj) },
    hooks: {
      logMethod(args, method) {
        for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = redactText(args[i] as string);
        return method.apply(this, args as Parameters<typeof method>);
      },
    },
    // Fastify's request serializer, with the URL masked (pino's serializers take precedence over Fastify's).
    serializers: {
      req: (req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
        method: req.method,
        url: redactUrl(String(req.url ?? '')),
        host: req.host,
        remoteAddress: req.ip,
        remotePort: req.socket?.remotePort,
      }),
      err: (err: Error) => {
        const out = pino.stdSerializers.err(err) as Record<string, unknown> | string | undefined;
        if (typeof out === 'string') return redactText(out);
        if (!out || typeof out !== 'object') return out;
        for (const k of ['message', 'stack'] as const) if (typeof out[k] === 'string') out[k] = redactText(out[k] as string);
        return redactFields(out);
      },
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** Composes the whole server from a config. Used by `npm start` and by the tests. */
export async function createServer(config: Config, opts: { log?: Logger; db?: OpenOptions; pollMs?: number } = {}): Promise<Server> {
  const log = opts.log ?? createLogger(config);
  const database = openDatabase(config.databaseUrl, { sqliteSynchronous: config.sqliteSynchronous, ...opts.db });
  const applied = await migrate(database);
  if (applied.length) log.info({ applied }, 'migrations applied');

  const redis = config.redisUrl ? createRedisClient(config.redisUrl, log) : null;
  const dispatcher = new Dispatcher(database, log, {
    databaseUrl: database.dialect === 'postgres' ? config.databaseUrl : undefined,
    pollMs: opts.pollMs,
  });
  // Collaborators are created here and passed through the context (no module-level registry).
  const ctx: AppContext = {
    config,
    log,
    database,
    auth: new Auth(database, config),
    events: eventSink(database),
    dispatcher,
    limiter: redis ? new RedisRateLimiter(redis, { log }) : new MemoryRateLimiter(),
    mailer: createMailer(config.smtpUrl, config.mailFrom, log),
    realtime: new Realtime({ config, log, database }),
    deliveries: new DeliveryWorker({ database, config, log }),
  };
  const app = await buildApp(ctx);
  const workers = createWorkers(ctx);
  let started = false;
  let closing: Promise<void> | null = null;

  return {
    app,
    ctx,
    workers,
    async listen() {
      const address = await app.listen({ port: config.port, host: config.host });
      await dispatcher.start();
      for (const w of workers) await w.start();
      started = true;
      return address;
    },
    close(opts = {}) {
      closing ??= stopServer({ app, ctx, workers, started, redis, graceMs: opts.graceMs ?? config.shutdownGraceMs });
      return closing;
    },
  };
}

const REAP_IDLE_MS = 25;

/**
 * The shutdown, in order, each step logged with its duration:
 * 1. every /cable socket gets `server_restart` (reconnect: true) and is closed; the listener stops
 *    accepting at once; a request arriving meanwhile on a kept-alive connection is answered 503 with
 *    `Connection: close` (Fastify's closing path); in-flight requests finish, their connections are
 *    closed as soon as they go idle, and any still running at the grace deadline are cut;
 * 2. the outbox drains within what is left of the grace, so the events of the last requests are
 *    handed to the listeners now (skipped while a listener backs off: the outbox is durable, the
 *    next start dispatches what is left);
 * 3. the dispatcher stops: batches under way finish, in-memory cursors are saved;
 * 4. the workers stop, last started first: in-flight webhook sends may finish within what is left of
 *    the grace (then they are cancelled and their leases released, like the claimed rows that never
 *    started), and the real-time pub/sub closes;
 * 5. rate limiter, mailer, Redis, and the database close.
 */
async function stopServer(s: {
  app: App;
  ctx: AppContext;
  workers: Worker[];
  started: boolean;
  redis: { disconnect(): void } | null;
  graceMs: number;
}): Promise<void> {
  const { app, ctx, workers, graceMs } = s;
  const log = ctx.log;
  const t0 = Date.now();
  const deadline = t0 + graceMs;
  const left = () => Math.max(0, deadline - Date.now());
  let t = t0;
  const step = (msg: string, fields: Record<string, unknown> = {}) => {
    const at = Date.now();
    log.info({ ...fields, ms: at - t }, `shutdown: ${msg}`);
    t = at;
  };

  const connections = await openConnections(app);
  const cableSockets = ctx.realtime.hub.size;
  log.info({ grace_ms: graceMs, connections, cable_sockets: cableSockets }, 'shutdown: started');
  // The frames go out before the listener closes (@fastify/websocket's own pre-close would close the sockets bare).
  const socketsClosed = ctx.realtime.closeSockets();
  // Settles with the close error (if any), so no rejection goes unhandled while the steps below wait.
  const httpClosed = app.close().then(
    () => null,
    (err: unknown) => err ?? new Error('closing the HTTP server failed'),
  );
  // Fastify closes the listener once its pre-close hooks ran (a few turns of the event loop).
  for (let i = 0; i < 1000 && app.server.listening; i++) await new Promise((r) => setImmediate(r));
  // Node closes idle kept-alive connections once, at close: the ones busy then are closed as they go idle.
  const reaper = setInterval(() => app.server.closeIdleConnections(), REAP_IDLE_MS);
  reaper.unref();
  step('stopped accepting; cable sockets told to reconnect', { cable_sockets: cableSockets });
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    httpClosed.then(() => true),
    new Promise<boolean>((ok) => (timer = setTimeout(() => ok(false), left()))),
  ]);
  clearTimeout(timer);
  if (!inTime) {
    log.warn({ connections: await openConnections(app), grace_ms: graceMs }, 'shutdown: requests still running at the grace deadline; closing their connections');
    app.server.closeAllConnections();
  }
  const closeError = await httpClosed;
  clearInterval(reaper);
  if (closeError) throw closeError;
  await socketsClosed;
  step('in-flight requests finished, listener closed', { cut: !inTime });

  if (s.started) {
    const backingOff = Object.entries(ctx.dispatcher.status()).filter(([, v]) => v.transientFailures > 0).map(([k]) => k);
    if (backingOff.length) {
      step('outbox not drained: listeners backing off; the next start dispatches the rest', { listeners: backingOff });
    } else if (left() > 0) {
      const drained = await ctx.dispatcher.drain(left()).then(
        () => true,
        () => false,
      );
      step(drained ? 'outbox drained' : 'outbox not drained within the grace; the next start dispatches the rest');
    }
  }
  await ctx.dispatcher.stop();
  step('outbox dispatcher stopped, cursors saved');
  if (s.started) {
    for (const w of [...workers].reverse()) {
      await w.stop(left());
      step(`${w.name} worker stopped`);
    }
  }
  await ctx.realtime.stop(); // pub/sub, when the workers never started (a no-op otherwise)
  ctx.limiter.close();
  ctx.mailer.close();
  s.redis?.disconnect();
  await ctx.database.close();
  step('database closed');
  log.info({ ms: Date.now() - t0 }, 'shutdown: done');
}

/** TCP connections of the listener (HTTP, kept-alive, and upgraded /cable sockets). */
function openConnections(app: App): Promise<number> {
  return new Promise((ok) => app.server.getConnections((err, n) => ok(err ? 0 : n)));
}

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
  close(): Promise<void>;
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
    async close() {
      if (started) for (const w of [...workers].reverse()) await w.stop();
      await app.close();
      await dispatcher.stop();
      ctx.limiter.close();
      ctx.mailer.close();
      redis?.disconnect();
      await database.close();
    },
  };
}

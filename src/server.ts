import pino, { type Logger } from 'pino';
import { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { buildApp, type App } from './app.js';
import { openDatabase, type OpenOptions } from './kernel/db.js';
import { migrate } from './kernel/migrate.js';
import { Auth } from './kernel/auth.js';
import { Dispatcher, eventSink } from './kernel/events/outbox.js';
import { MemoryRateLimiter, RedisRateLimiter } from './kernel/ratelimit.js';
import { createMailer } from './kernel/mailer.js';
import { createWorkers, type Worker } from './workers.js';

export const REDACT = [
  'req.headers.api_access_token',
  'req.headers.http_api_access_token',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.access_token',
  '*.secret',
  '*.hmac_token',
  '*.identifier_hash',
  '*.pubsub_token',
];

export type Server = {
  app: App;
  ctx: AppContext;
  workers: Worker[];
  /** Listens on config.port (0 = any free port) and starts the dispatcher and workers. */
  listen(): Promise<string>;
  close(): Promise<void>;
};

/** One-time credentials that travel in a URL path (invitation links) are masked in logged URLs. */
/**
 * Masks capabilities that travel in URLs: one-time invitation tokens, and the client API's contact
 * `source_id` (a session key for that contact) — the inbox identifier is public.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/^(\/+auth\/+invitations\/+)[^/?#]+/i, '$1[redacted]')
    .replace(/^(\/+public\/+api\/+v1\/+inboxes\/+[^/?#]+\/+contacts\/+)[^/?#]+/i, '$1[redacted]');
}

export function createLogger(config: Config, opts: { silent?: boolean; destination?: pino.DestinationStream } = {}): Logger {
  const options: pino.LoggerOptions = {
    level: opts.silent ? 'silent' : config.logLevel,
    redact: { paths: REDACT, censor: '[redacted]' },
    // Fastify's request serializer, with the URL masked (pino's serializers take precedence over Fastify's).
    serializers: {
      req: (req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
        method: req.method,
        url: redactUrl(String(req.url ?? '')),
        host: req.host,
        remoteAddress: req.ip,
        remotePort: req.socket?.remotePort,
      }),
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

  const redis = config.redisUrl ? new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 }) : null;
  const dispatcher = new Dispatcher(database, log, {
    databaseUrl: database.dialect === 'postgres' ? config.databaseUrl : undefined,
    pollMs: opts.pollMs,
  });
  const ctx: AppContext = {
    config,
    log,
    database,
    auth: new Auth(database, config),
    events: eventSink(database),
    dispatcher,
    limiter: redis ? new RedisRateLimiter(redis) : new MemoryRateLimiter(),
    mailer: createMailer(config.smtpUrl, config.mailFrom, log),
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

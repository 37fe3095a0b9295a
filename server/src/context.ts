import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Database } from './kernel/db.js';
import type { Auth } from './kernel/auth.js';
import type { EventSink, Dispatcher } from './kernel/events/outbox.js';
import type { RateLimiter } from './kernel/ratelimit.js';
import type { Mailer } from './kernel/mailer.js';
import type { Realtime } from './realtime/index.js';
import type { DeliveryWorker } from './webhooks/worker.js';

/**
 * Everything a route module or service needs, built once at boot (src/server.ts) and passed down.
 * Later capabilities add their piece here.
 */
export type AppContext = {
  config: Config;
  log: Logger;
  database: Database;
  auth: Auth;
  /** Writes a domain event in the caller's transaction. */
  events: EventSink;
  dispatcher: Dispatcher;
  limiter: RateLimiter;
  mailer: Mailer;
  /** Real-time of this node (/cable, pub/sub, presence: src/realtime/index.ts). */
  realtime: Realtime;
  /** The webhook delivery worker of this node: `wake()` when deliveries became due (src/webhooks/worker.ts). */
  deliveries: DeliveryWorker;
};

import type { AppContext } from './context.js';
import { realtimeWorker } from './realtime/index.js';
import { webhooksWorker } from './webhooks/worker.js';

/**
 * Background work that runs beside the HTTP server: outbox listeners (webhooks, real-time) and the
 * webhook delivery worker. Each capability registers here; `start` runs after the app is built.
 */
export type Worker = { name: string; start(): Promise<void> | void; stop(): Promise<void> | void };

export function createWorkers(ctx: AppContext): Worker[] {
  return [realtimeWorker(ctx), webhooksWorker(ctx)];
}

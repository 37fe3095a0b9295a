import type { AppContext } from './context.js';
import { realtimeWorker } from './realtime/index.js';
import { webhooksWorker } from './webhooks/worker.js';
import { snoozeWorker } from './conversations/snooze.js';

/**
 * Background work that runs beside the HTTP server: outbox listeners (webhooks, real-time), the
 * webhook delivery worker and the sweep that ends snoozes whose time has come. Each capability
 * registers here; `start` runs after the app is built.
 */
/** `stop(graceMs)`: how long work in flight may still finish (what is left of the shutdown grace). */
export type Worker = { name: string; start(): Promise<void> | void; stop(graceMs?: number): Promise<void> | void };

export function createWorkers(ctx: AppContext): Worker[] {
  return [realtimeWorker(ctx), webhooksWorker(ctx), snoozeWorker(ctx)];
}

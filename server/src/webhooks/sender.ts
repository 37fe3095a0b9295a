import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { WebhookHttpClient, type SendResult, type WebhookClientOptions } from './http-client.js';

/** What an attempt needs of the HTTP side: one POST that never throws, and a close. */
export type WebhookSender = {
  post(url: string, headers: Record<string, string>, body: string, cancel?: AbortSignal): Promise<SendResult>;
  close(): Promise<void>;
};

export type SenderRequest =
  | { t: 'post'; id: number; url: string; headers: Record<string, string>; body: string }
  | { t: 'cancel'; id: number }
  | { t: 'close' };
export type SenderReply = { t: 'result'; id: number; r: SendResult } | { t: 'closed' };

/** The sender the delivery worker uses: on this thread, or on a sending thread of its own. */
export function createSender(opts: WebhookClientOptions & { thread: boolean }, log: Logger): WebhookSender {
  const { thread, ...client } = opts;
  return thread ? new ThreadedSender(client, log) : new WebhookHttpClient(client);
}

/**
 * The built server has the thread's entry beside it (dist/sender-thread.js); from the sources
 * (tests, `npm run dev`) the TypeScript entry is loaded through tsx, as the CLI is.
 */
function spawn(workerData: WebhookClientOptions): Worker {
  const built = new URL('./sender-thread.js', import.meta.url);
  if (fs.existsSync(built)) return new Worker(built, { workerData });
  const source = new URL('./sender-thread.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

type Pending = { resolve: (r: SendResult) => void; started: number; signal?: AbortSignal };

/**
 * Posts through the sending thread. Every post resolves, as WebhookHttpClient's do: if the thread
 * dies, its sends in flight come back as transport errors (the attempt is retried like any other)
 * and the next post starts a new thread. The thread holds the process open only while it sends.
 */
export class ThreadedSender implements WebhookSender {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing: Promise<void> | null = null;
  /** Cancel signals listened to: one listener per signal (the worker passes one to every send), not one per send. */
  private readonly watched = new WeakSet<AbortSignal>();

  constructor(
    private readonly opts: WebhookClientOptions,
    private readonly log: Logger,
  ) {}

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = spawn(this.opts);
    w.unref();
    w.on('message', (m: SenderReply) => {
      if (m.t !== 'result') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.settle(m.id, p, m.r);
    });
    w.on('error', (err) => this.log.error({ err }, 'webhook sending thread failed'));
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = null;
      if (this.pending.size && !this.closing) this.log.warn({ code, in_flight: this.pending.size }, 'webhook sending thread exited; its sends are retried');
      for (const [id, p] of this.pending) {
        this.settle(id, p, { statusCode: null, durationMs: Math.round(performance.now() - p.started), snippet: null, error: 'sending thread exited', retryAfterMs: null, blocked: false });
      }
    });
    this.worker = w;
    return w;
  }

  private settle(id: number, p: Pending, r: SendResult) {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
    p.resolve(r);
  }

  post(url: string, headers: Record<string, string>, body: string, cancel?: AbortSignal): Promise<SendResult> {
    return new Promise((resolve) => {
      const started = performance.now();
      if (this.closing || cancel?.aborted) {
        resolve({ statusCode: null, durationMs: 0, snippet: null, error: 'cancelled (shutdown)', retryAfterMs: null, blocked: false });
        return;
      }
      const id = this.nextId++;
      const w = this.thread();
      const p: Pending = { resolve, started };
      if (cancel) {
        p.signal = cancel;
        if (!this.watched.has(cancel)) {
          this.watched.add(cancel);
          cancel.addEventListener('abort', () => this.cancelAll(cancel), { once: true });
        }
      }
      this.pending.set(id, p);
      if (this.pending.size === 1) w.ref();
      w.postMessage({ t: 'post', id, url, headers, body } satisfies SenderRequest);
    });
  }

  private cancelAll(signal: AbortSignal) {
    for (const [id, p] of this.pending) if (p.signal === signal) this.worker?.postMessage({ t: 'cancel', id } satisfies SenderRequest);
  }

  /** Cancels what is still in flight (those sends resolve as cancelled), closes the agent, ends the thread. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    const w = this.worker;
    if (!w) return (this.closing = Promise.resolve());
    this.closing = new Promise<void>((done) => {
      const timer = setTimeout(() => void w.terminate(), 5000);
      w.ref();
      w.on('message', (m: SenderReply) => m.t === 'closed' && void w.terminate());
      w.once('exit', () => (clearTimeout(timer), done()));
      w.postMessage({ t: 'close' } satisfies SenderRequest);
    });
    return this.closing;
  }
}

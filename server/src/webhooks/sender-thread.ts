import { parentPort, workerData } from 'node:worker_threads';
import { WebhookHttpClient, type WebhookClientOptions } from './http-client.js';
import type { SenderReply, SenderRequest } from './sender.js';

/**
 * The webhook sending thread (WEBHOOK_SENDER_THREAD): owns the undici agent, so connection set-up,
 * request writing and response parsing run beside the API's event loop instead of on it. It knows
 * nothing of the database: the main thread signs, posts {url, headers, body} here and records the
 * SendResult it gets back.
 */
const port = parentPort!;
const client = new WebhookHttpClient(workerData as WebhookClientOptions);
const cancels = new Map<number, AbortController>();

port.on('message', (m: SenderRequest) => {
  if (m.t === 'post') {
    const cancel = new AbortController();
    cancels.set(m.id, cancel);
    void client.post(m.url, m.headers, m.body, cancel.signal).then((r) => {
      cancels.delete(m.id);
      port.postMessage({ t: 'result', id: m.id, r } satisfies SenderReply);
    });
  } else if (m.t === 'cancel') {
    cancels.get(m.id)?.abort();
  } else if (m.t === 'close') {
    for (const c of cancels.values()) c.abort();
    void client.close().then(() => port.postMessage({ t: 'closed' } satisfies SenderReply));
  }
});

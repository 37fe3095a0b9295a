import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestServer } from '../support/harness.js';
import { insertDeliveries } from '../../src/webhooks/repository.js';
import { newDeliveryId } from '../../src/webhooks/signer.js';
import type { DeliveryWorker } from '../../src/webhooks/worker.js';
import { waitFor } from '../support/wait.js';

export type Received = { headers: http.IncomingHttpHeaders; body: string; json: any; at: number; path: string };
export type Reply = { status?: number; headers?: Record<string, string>; body?: string; delayMs?: number };

/** A real HTTP receiver on 127.0.0.1 recording every request; `respond` decides each answer. */
export type Receiver = {
  url: string;
  port: number;
  requests: Received[];
  respond: (r: Received, n: number) => Reply | Promise<Reply>;
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
};

export async function startReceiver(port = 0, respond: Receiver['respond'] = () => ({ status: 200, body: 'ok' })): Promise<Receiver> {
  const requests: Received[] = [];
  const r: Receiver = {
    url: '',
    port: 0,
    requests,
    respond,
    async waitFor(n, timeoutMs = 10_000) {
      await waitUntil(() => requests.length >= n, timeoutMs, `receiver to get ${n} requests (got ${requests.length})`);
      return requests;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: any = null;
      try {
        json = JSON.parse(body);
      } catch {
        /* not JSON */
      }
      const rec: Received = { headers: req.headers, body, json, at: Date.now(), path: req.url ?? '/' };
      requests.push(rec);
      const reply = await r.respond(rec, requests.length);
      if (reply.delayMs) await new Promise((ok) => setTimeout(ok, reply.delayMs));
      if (res.destroyed) return;
      res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain', ...(reply.headers ?? {}) });
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', () => ok()));
  r.port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}/hook`;
  return r;
}

/** A port on 127.0.0.1 where nothing listens (connection refused). */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', () => ok()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

export async function waitUntil(fn: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition') {
  await waitFor(fn, what, timeoutMs);
}

let eventSeq = 1_000_000;

/** Queues a delivery directly (engine tests that do not need a domain event). */
export async function enqueue(
  h: TestServer,
  o: { accountId: number; type: 'inbox' | 'webhook'; endpointId: number; event?: string; payload?: unknown; messageId?: number | null },
): Promise<string> {
  const delivery_id = newDeliveryId();
  const event = o.event ?? 'message_created';
  await insertDeliveries(h.server.ctx.database.db, [
    {
      delivery_id,
      account_id: o.accountId,
      endpoint_type: o.type,
      endpoint_id: o.endpointId,
      event_id: eventSeq++,
      event_name: event,
      message_id: o.messageId ?? null,
      payload: JSON.stringify(o.payload ?? { event, id: eventSeq }),
    },
  ]);
  h.server.ctx.deliveries.wake();
  return delivery_id;
}

export function delivery(h: TestServer, deliveryId: string) {
  return h.server.ctx.database.db.selectFrom('webhook_deliveries').selectAll().where('delivery_id', '=', deliveryId).executeTakeFirstOrThrow();
}

export function attempts(h: TestServer, deliveryId: string) {
  return h.server.ctx.database.db
    .selectFrom('webhook_attempts')
    .innerJoin('webhook_deliveries', 'webhook_deliveries.id', 'webhook_attempts.delivery_id')
    .selectAll('webhook_attempts')
    .where('webhook_deliveries.delivery_id', '=', deliveryId)
    .orderBy('webhook_attempts.id')
    .execute();
}

export async function waitForStatus(h: TestServer, deliveryId: string, status: string, timeoutMs = 10_000) {
  await waitUntil(async () => (await delivery(h, deliveryId)).status === status, timeoutMs, `delivery ${deliveryId} to be ${status}`);
  return delivery(h, deliveryId);
}

export function deliveryWorker(h: TestServer): DeliveryWorker {
  return (h.server.workers.find((w) => w.name === 'webhooks') as unknown as { worker: DeliveryWorker }).worker;
}

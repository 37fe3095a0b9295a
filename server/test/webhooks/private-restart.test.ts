import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger, createServer, type Server } from '../../src/server.js';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { delivery, enqueue, startReceiver, waitUntil, type Receiver } from './support.js';

/**
 * Issue 14 item 2: a delivery the SSRF guard refused (logged at warn) waits for its next retry —
 * here an hour away — until a node starts with WEBHOOK_ALLOW_PRIVATE_NETWORK=true: then it is due
 * at once. A refused delivery that already failed for good stays failed (dead letters are sent
 * again on purpose). Two nodes one after the other on the database of the harness, whose own
 * dispatcher and workers are stopped.
 */

type LoggedNode = { server: Server; lines: () => { level: number; msg: string; count?: number }[] };

async function node(databaseUrl: string, allowPrivate: boolean): Promise<LoggedNode> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'info',
    WEBHOOK_ALLOW_PRIVATE_NETWORK: String(allowPrivate),
    WEBHOOK_RETRY_SCHEDULE: '3600,3600',
  });
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      raw.push(String(chunk));
      cb();
    },
  });
  const server = await createServer(config, { log: createLogger(config, { destination }), pollMs: 100 });
  await server.listen();
  return { server, lines: () => raw.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

describeEachDb('a start with private networks allowed', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  const nodes: LoggedNode[] = [];

  beforeAll(async () => {
    h = await startTestServer(dialect);
    for (const w of [...h.server.workers].reverse()) await w.stop();
    await h.server.ctx.dispatcher.stop();
    rx = await startReceiver();
  });
  afterAll(async () => {
    for (const n of nodes) await n.server.close().catch(() => {});
    await rx.close();
    await h.close();
  });

  it('sends a delivery refused as private at once, not at its next retry; a failed one stays failed', async () => {
    const { accountId } = await h.account();
    const inbox = await h.inbox(accountId, { webhook_url: rx.url });
    const a = await node(h.databaseUrl, false);
    nodes.push(a);
    const pendingId = await enqueue(h, { accountId, type: 'inbox', endpointId: inbox.id, event: 'conversation_created' });
    const deadId = await enqueue(h, { accountId, type: 'inbox', endpointId: inbox.id, event: 'conversation_updated' });
    a.server.ctx.deliveries.wake();
    for (const id of [pendingId, deadId]) {
      await waitUntil(async () => (await delivery(h, id)).attempts === 1, 15_000, `the first attempt of ${id}`);
    }
    const refused = await delivery(h, pendingId);
    expect(refused).toMatchObject({ status: 'pending', blocked: 1, last_status_code: null });
    expect(refused.last_error).toMatch(/^refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1 \(loopback\)/);
    expect(Number(refused.next_attempt_at)).toBeGreaterThan(Date.now() + 30 * 60_000);
    // The refusal is the operator's to fix: a warning, not an info line.
    const logged = a.lines().filter((l) => l.msg?.startsWith('webhook attempt'));
    expect(logged.length).toBeGreaterThanOrEqual(2);
    expect(logged.every((l) => l.level === 40 && l.msg === 'webhook attempt refused: private network address')).toBe(true);
    await a.server.close();
    // As if its schedule had been used up by refusals.
    await h.server.ctx.database.db.updateTable('webhook_deliveries').set({ status: 'failed', next_attempt_at: null, completed_at: Date.now() }).where('delivery_id', '=', deadId).execute();
    expect(rx.requests).toHaveLength(0);

    const b = await node(h.databaseUrl, true);
    nodes.push(b);
    await rx.waitFor(1, 15_000);
    await waitUntil(async () => (await delivery(h, pendingId)).status === 'succeeded', 15_000, 'the refused delivery to succeed');
    expect(await delivery(h, pendingId)).toMatchObject({ attempts: 2, blocked: 0, last_error: null });
    expect(rx.requests.map((r) => r.headers['webhook-id'])).toEqual([pendingId]);
    expect(b.lines().find((l) => l.msg?.startsWith('webhook deliveries refused as private are due now'))).toMatchObject({ level: 30, count: 1 });
    expect((await delivery(h, deadId)).status).toBe('failed');
  });
});

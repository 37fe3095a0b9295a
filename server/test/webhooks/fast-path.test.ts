import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type DialectName, type TestServer } from '../support/harness.js';
import { deliveryWorker, startReceiver, waitUntil, type Receiver } from './support.js';

/**
 * New deliveries are handed to this node's worker inside the listener's transaction (inserted in
 * flight under a lease), without a claim round. Under a burst that must still deliver every event
 * exactly once and give every reserved slot back.
 */
describeEachDb('webhook fast path', (dialect) => {
  describe.each([
    ['on the main thread', {}],
    ['from the sending thread', { WEBHOOK_SENDER_THREAD: 'true' }],
  ])('%s', (_mode, env) => fastPath(dialect, env));
});

function fastPath(dialect: DialectName, env: Record<string, string>) {
  let h: TestServer;
  let rcv: Receiver;
  beforeAll(async () => {
    rcv = await startReceiver();
    h = await startTestServer(dialect, env);
  });
  afterAll(async () => {
    await h.close();
    await rcv.close();
  });

  it('delivers a burst once each and returns every reservation', async () => {
    const { accountId, admin } = await h.account();
    const inbox = await h.inbox(accountId, { webhook_url: rcv.url });
    const base = `/api/v1/accounts/${accountId}`;
    const contact = await h.api('POST', `${base}/contacts`, { token: admin.token, body: { inbox_id: inbox.id, name: 'Burst' } });
    const conv = await h.api('POST', `${base}/conversations`, { token: admin.token, body: { source_id: contact.body.payload.contact_inbox.source_id } });
    const N = 120;
    const created = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        h.api('POST', `${base}/conversations/${conv.body.id}/messages`, { token: admin.token, body: { content: `m${i}`, message_type: 'incoming' } }),
      ),
    );
    expect(created.every((r) => r.status === 200)).toBe(true);
    const messageCreated = () => rcv.requests.filter((r) => r.json.event === 'message_created');
    await waitUntil(() => messageCreated().length >= N, 20_000, 'all message_created callbacks');
    const ids = messageCreated().map((r) => r.headers['x-channelx-delivery']);
    expect(new Set(ids).size).toBe(N);
    expect(new Set(messageCreated().map((r) => r.json.id)).size).toBe(N);

    const worker = deliveryWorker(h);
    expect(worker.stats.senderThread).toBe(env.WEBHOOK_SENDER_THREAD === 'true');
    await waitUntil(() => worker.stats.held === 0 && worker.stats.sending === 0, 10_000, 'worker idle');
    const open = await h.server.ctx.database.db
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('status', 'in', ['pending', 'in_flight'])
      .executeTakeFirst();
    expect(Number(open?.n)).toBe(0);
  });
}

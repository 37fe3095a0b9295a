import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, NO_RATE_LIMITS, startTestServer, type TestServer } from '../support/harness.js';
import { deliveryWorker, startReceiver, waitUntil, type Receiver, type Reply } from './support.js';

/**
 * Issue 13, item 2: deliveries that overflow an endpoint's in-memory window wait in the database
 * (never in memory) and are claimed as soon as the endpoint has room — not when its window has
 * drained to half — while newer rows of that endpoint queue behind them instead of overtaking
 * them on the fast path. Orderings and counts, no stopwatch.
 */

async function setup(h: TestServer, url: string) {
  const { accountId, admin } = await h.account();
  const inbox = await h.inbox(accountId, { webhook_url: url });
  const base = `/api/v1/accounts/${accountId}`;
  const contact = await h.api('POST', `${base}/contacts`, { token: admin.token, body: { inbox_id: inbox.id, name: 'Backlog' } });
  const conv = await h.api('POST', `${base}/conversations`, { token: admin.token, body: { source_id: contact.body.payload.contact_inbox.source_id } });
  expect(conv.status).toBe(200);
  const post = async (content: string) => {
    const r = await h.api('POST', `${base}/conversations/${conv.body.id}/messages`, { token: admin.token, body: { content, message_type: 'incoming' } });
    expect(r.status).toBe(200);
    return r.body.id as number;
  };
  return { inbox, post, key: `inbox:${inbox.id}` };
}

const openRows = (h: TestServer, inboxId: number, status: 'pending' | 'in_flight') =>
  h.server.ctx.database.db
    .selectFrom('webhook_deliveries')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('endpoint_type', '=', 'inbox')
    .where('endpoint_id', '=', inboxId)
    .where('status', '=', status)
    .executeTakeFirstOrThrow()
    .then((r) => Number(r.n));

/**
 * The worker's fallback poll would claim due rows sooner or later anyway; stopped here, so what is
 * tested is that nothing waits for it.
 */
function stopPoll(h: TestServer) {
  const w = deliveryWorker(h) as unknown as { pollTimer: NodeJS.Timeout | null };
  if (w.pollTimer) clearInterval(w.pollTimer);
  w.pollTimer = null;
}

describeEachDb('webhook backlog: newer rows queue behind waiting ones', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  const gates: ((r: Reply) => void)[] = [];
  beforeAll(async () => {
    rx = await startReceiver(0, () => new Promise<Reply>((ok) => gates.push(ok)));
    h = await startTestServer(dialect, { ...NO_RATE_LIMITS, WEBHOOK_CONCURRENCY_PER_ENDPOINT: '2', WEBHOOK_TIMEOUT_MS: '60000' });
    stopPoll(h);
  });
  afterAll(async () => {
    rx.respond = () => ({ status: 200 });
    while (gates.length) gates.shift()!({ status: 200 });
    await h?.close();
    await rx?.close();
  });

  it('an endpoint with rows waiting in the database gets its new rows after them, in event order', { timeout: 60_000 }, async () => {
    const { post } = await setup(h, rx.url);
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push(await post(`m${i}`));
    await h.server.ctx.dispatcher.drain(20_000);
    // Two sending (conversation_created, m0), two claimed behind them, the rest in the database.
    await waitUntil(() => gates.length === 2, 20_000, 'two sends hanging');
    let arrived = 2;
    const next = async () => {
      // One slot frees at a time: the next send starts alone, so arrival order is start order.
      gates.shift()!({ status: 200 });
      arrived++;
      if (arrived <= ids.length + 1) await waitUntil(() => rx.requests.length >= arrived, 20_000, `request ${arrived}`);
    };
    await next();
    // Room opened on the endpoint while older rows still wait in the database: a new row must
    // queue behind them, not take the free place ahead of them.
    ids.push(await post('late'));
    await h.server.ctx.dispatcher.drain(20_000);
    while (arrived < ids.length + 1) await next(); // conversation_created + every message
    while (gates.length) gates.shift()!({ status: 200 });
    const order = rx.requests.filter((r) => r.json?.event === 'message_created').map((r) => r.json.id as number);
    expect(order).toEqual(ids);
    expect(new Set(rx.requests.map((r) => r.headers['x-channelx-delivery'])).size).toBe(rx.requests.length);
  });
});

describeEachDb('webhook backlog: claimed while the endpoint still has rows queued', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  const gates: ((r: Reply) => void)[] = [];
  const releaseAll = () => {
    while (gates.length) gates.shift()!({ status: 200 });
  };
  beforeAll(async () => {
    rx = await startReceiver(0, () => new Promise<Reply>((ok) => gates.push(ok)));
    h = await startTestServer(dialect, { ...NO_RATE_LIMITS, WEBHOOK_CONCURRENCY_PER_ENDPOINT: '4', WEBHOOK_TIMEOUT_MS: '60000' });
    stopPoll(h);
  });
  afterAll(async () => {
    rx.respond = () => ({ status: 200 });
    releaseAll();
    await h?.close();
    await rx?.close();
  });

  it('refills the window from the database as sends finish, without waiting for it to drain to half', { timeout: 60_000 }, async () => {
    const { inbox, post, key } = await setup(h, rx.url);
    const worker = deliveryWorker(h);
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) ids.push(await post(`m${i}`));
    await h.server.ctx.dispatcher.drain(20_000); // every row inserted
    // 4 sending (hanging on the receiver), 4 claimed behind them, the rest waiting in the database.
    await waitUntil(() => gates.length === 4 && worker.stats.endpoints[key]?.held === 8, 20_000, 'a full window');
    const pendingBefore = await openRows(h, inbox.id, 'pending');
    expect(pendingBefore).toBeGreaterThanOrEqual(20 - 8 + 1); // conversation_created + 20 messages, 8 of them held
    expect(await openRows(h, inbox.id, 'in_flight')).toBe(8);

    // Two sends finish: two queued rows start, and half the slots have no row behind them any
    // more: the next rows are claimed at once (the window is full again, fewer rows pending).
    gates.shift()!({ status: 200 });
    gates.shift()!({ status: 200 });
    await waitUntil(async () => worker.stats.endpoints[key]?.held === 8 && (await openRows(h, inbox.id, 'pending')) === pendingBefore - 2, 20_000, 'the window refilled');
    await waitUntil(() => gates.length === 4, 20_000, 'four sending again'); // none idle

    // Everything else: delivered once each.
    rx.respond = () => ({ status: 200 });
    releaseAll();
    const created = () => rx.requests.filter((r) => r.json?.event === 'message_created');
    await waitUntil(() => created().length >= ids.length, 30_000, 'every message_created');
    expect(new Set(created().map((r) => r.json.id)).size).toBe(ids.length);
    await waitUntil(() => worker.stats.held === 0 && worker.stats.sending === 0, 20_000, 'worker idle');
    expect(await openRows(h, inbox.id, 'pending')).toBe(0);
    expect(await openRows(h, inbox.id, 'in_flight')).toBe(0);
  });
});

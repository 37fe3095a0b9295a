import pino from 'pino';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { EventReader } from '../../src/kernel/events/read.js';
import { now } from '../../src/kernel/db.js';
import { webhookListener, type Adopter } from '../../src/webhooks/listener.js';
import { EndpointDirectory } from '../../src/webhooks/routing.js';
import { startReceiver, waitUntil, type Receiver } from './support.js';

/**
 * Issue 13: the webhook listener routes from an in-memory endpoint directory (no query for an
 * inbox without a callback in an account without webhooks). It must never miss an endpoint: a
 * change made through the API reaches it in outbox order (inbox.created/updated, webhook.changed),
 * so the event committed right after a change is routed with it; and a cursor moved by anyone
 * else (another PostgreSQL node handled the change) makes it start over.
 */
describeEachDb('webhook routing directory', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  let accountId: number;
  let token: string;

  beforeAll(async () => {
    h = await startTestServer(dialect, { WEBHOOK_RETRY_SCHEDULE: '0.2' });
    rx = await startReceiver();
    ({ accountId, admin: { token } } = await h.account());
  });
  afterAll(async () => {
    await h?.close();
    await rx?.close();
  });
  beforeEach(() => {
    rx.requests.length = 0;
    rx.respond = () => ({ status: 200 });
  });

  const api = async (method: string, p: string, body?: unknown) => {
    const r = await h.api(method, `/api/v1/accounts/${accountId}${p}`, { token, body });
    expect(r.status, `${method} ${p}: ${JSON.stringify(r.body)}`).toBe(200);
    return r.body;
  };
  const drain = () => h.server.ctx.dispatcher.drain(20_000);
  async function conversationIn(inboxId: number) {
    const c = await api('POST', '/contacts', { inbox_id: inboxId, name: 'Routed' });
    const conv = await api('POST', '/conversations', { source_id: c.payload.contact_inbox.source_id, inbox_id: inboxId });
    return { displayId: conv.id as number, post: async (content: string) => (await api('POST', `/conversations/${conv.id}/messages`, { content, message_type: 'incoming' })).id as number };
  }
  const deliveriesOf = (messageId: number) =>
    h.server.ctx.database.db.selectFrom('webhook_deliveries').select(['endpoint_type', 'endpoint_id']).where('message_id', '=', messageId).execute();

  it('a callback URL set on an inbox the listener knew without one: the next message is delivered', async () => {
    const inbox = await api('POST', '/inboxes', { name: 'Later hooked', channel: { type: 'api' } });
    const c = await conversationIn(inbox.id);
    const before = await c.post('nobody hears this');
    await drain();
    expect(await deliveriesOf(before)).toEqual([]);
    await api('PATCH', `/inboxes/${inbox.id}`, { channel: { webhook_url: rx.url } });
    const after = await c.post('now somebody does');
    await waitUntil(() => rx.requests.some((r) => r.json?.event === 'message_created' && r.json.id === after), 15_000, 'the message after the change');
    expect(await deliveriesOf(after)).toEqual([{ endpoint_type: 'inbox', endpoint_id: inbox.id }]);
    // And cleared again: the next one goes nowhere.
    await api('PATCH', `/inboxes/${inbox.id}`, { channel: { webhook_url: '' } });
    const cleared = await c.post('nobody again');
    await drain();
    expect(await deliveriesOf(cleared)).toEqual([]);
  });

  it('account webhooks created, narrowed, disabled by a 410 and deleted are followed from the next event on', async () => {
    const inbox = await api('POST', '/inboxes', { name: 'Plain', channel: { type: 'api' } });
    const c = await conversationIn(inbox.id);
    await drain();
    const none = await c.post('no webhook yet');
    await drain();
    expect(await deliveriesOf(none)).toEqual([]);

    const hook = (await api('POST', '/webhooks', { webhook: { url: rx.url, subscriptions: ['message_created'] } })).payload.webhook;
    const first = await c.post('the webhook hears this');
    await drain();
    expect(await deliveriesOf(first)).toEqual([{ endpoint_type: 'webhook', endpoint_id: hook.id }]);

    await api('PATCH', `/webhooks/${hook.id}`, { webhook: { subscriptions: ['conversation_created'] } });
    const narrowed = await c.post('not subscribed any more');
    await drain();
    expect(await deliveriesOf(narrowed)).toEqual([]);

    // 410 Gone disables it (the outcome records webhook.changed): later events are not routed to it.
    await api('PATCH', `/webhooks/${hook.id}`, { webhook: { subscriptions: ['message_created'] } });
    rx.respond = () => ({ status: 410 });
    const gone = await c.post('answered 410');
    await waitUntil(async () => (await api('GET', '/webhooks')).payload.webhooks.find((w: { id: number }) => w.id === hook.id)?.disabled_at != null, 15_000, 'the webhook disabled');
    const afterGone = await c.post('after the 410');
    await drain();
    expect((await deliveriesOf(gone)).length).toBe(1);
    expect(await deliveriesOf(afterGone)).toEqual([]);

    await api('PATCH', `/webhooks/${hook.id}`, { webhook: { name: 'enabled again' } }); // any PATCH re-enables
    rx.respond = () => ({ status: 200 });
    const again = await c.post('enabled again');
    await drain();
    expect(await deliveriesOf(again)).toEqual([{ endpoint_type: 'webhook', endpoint_id: hook.id }]);
    await api('DELETE', `/webhooks/${hook.id}`);
    const deleted = await c.post('after the delete');
    await drain();
    expect(await deliveriesOf(deleted)).toEqual([]);
  });

  it('starts over when its cursor was moved by someone else (another node saw the change)', async () => {
    const database = h.server.ctx.database;
    const inbox = await api('POST', '/inboxes', { name: 'Elsewhere', channel: { type: 'api' } });
    const c = await conversationIn(inbox.id);
    await drain();
    const reader = new EventReader(database);
    const since = Number((await database.db.selectFrom('events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst())?.m ?? 0);
    const [m1, m2, m3] = [await c.post('one'), await c.post('two'), await c.post('three')];
    const events = (await reader.read(database.db, since, 100)).filter((e) => e.name === 'message.created');
    const byMessage = (id: number) => events.find((e) => e.name === 'message.created' && e.payload.message_id === id)!;
    const [e1, e2, e3] = [byMessage(m1), byMessage(m2), byMessage(m3)];
    expect(since).not.toBe(e2.id);

    // A listener of its own (long TTL: only invalidation counts), with a worker that takes nothing.
    const worker: Adopter = { reserve: () => false, release: () => {}, lease: () => now() + 60_000, adopt: async () => {}, queued: () => {} };
    const listener = webhookListener({ log: pino({ level: 'silent' }), worker, directory: new EndpointDirectory(3_600_000) });
    expect(await listener.plan!([e1], database.db, e1.id - 1)).toBeNull(); // no endpoint: nothing to write

    // A webhook appears and its webhook.changed event is handled elsewhere (this listener never sees it).
    const t = now();
    await database.db
      .insertInto('webhooks')
      .values({ account_id: accountId, inbox_id: null, url: `${rx.url}?elsewhere`, name: null, subscriptions: JSON.stringify(['message_created']), secret: 'whsec_x', previous_secret: null, secret_rotated_at: null, disabled_at: null, disabled_reason: null, created_at: t, updated_at: t })
      .execute();
    // Continuing from where it left off, the directory still answers (no invalidation seen)…
    expect(await listener.plan!([e2], database.db, e1.id)).toBeNull();
    // …but a batch that starts past a position it did not reach itself finds the webhook.
    const commit = await listener.plan!([e3], database.db, since);
    expect(commit).not.toBeNull();
  });
});

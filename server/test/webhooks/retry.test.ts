import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { consumer, disconnectAll, subscribe } from '../realtime/cable.js';
import { startReceiver, waitUntil, type Receiver } from './support.js';

/**
 * POST …/messages/:id/retry (issue 11): a failed outgoing message's `message_created` callback is
 * delivered again — the same delivery id and signed body — and the message status follows the outcome.
 */
describeEachDb('retrying a failed outgoing message', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  let accountId: number;
  let admin: { id: number; token: string; pubsub_token: string };

  beforeAll(async () => {
    h = await startTestServer(dialect, { WEBHOOK_RETRY_SCHEDULE: '0.1,0.1' });
    rx = await startReceiver();
    const a = await h.account();
    accountId = a.accountId;
    admin = a.admin;
  });
  afterAll(async () => {
    await rx.close();
    await h.close();
  });
  beforeEach(() => {
    rx.requests.length = 0;
    rx.respond = () => ({ status: 200 });
  });
  afterEach(() => disconnectAll());

  const api = (method: string, p: string, body?: unknown, token = admin.token) => h.api(method, `/api/v1/accounts/${accountId}${p}`, { token, body });
  const db = () => h.server.ctx.database.db;
  const msg = (id: number) => db().selectFrom('messages').select(['status', 'content_attributes']).where('id', '=', id).executeTakeFirstOrThrow();
  const callbackOf = (id: number) =>
    db().selectFrom('webhook_deliveries').selectAll().where('message_id', '=', id).where('event_name', '=', 'message_created').where('endpoint_type', '=', 'inbox').executeTakeFirst();
  const created = (id: number) => rx.requests.filter((r) => r.json?.event === 'message_created' && r.json?.id === id);

  async function scene() {
    const inbox = await h.inbox(accountId, { webhook_url: rx.url });
    const c = await api('POST', '/contacts', { inbox_id: inbox.id, name: 'Retry contact' });
    expect(c.status).toBe(200);
    const conv = await api('POST', '/conversations', { source_id: c.body.payload.contact_inbox.source_id, inbox_id: inbox.id });
    expect(conv.status).toBe(200);
    return { inbox, displayId: conv.body.id as number };
  }
  async function failedReply(displayId: number) {
    rx.respond = () => ({ status: 503, body: 'down' });
    const m = await api('POST', `/conversations/${displayId}/messages`, { content: 'agent reply', message_type: 'outgoing' });
    expect(m.status).toBe(200);
    await waitUntil(async () => (await msg(m.body.id)).status === 3, 15_000, 'message failed');
    return m.body.id as number;
  }

  it('receiver fails → failed with external_error → receiver recovers → retry → the same signed message_created again → sent', async () => {
    const { inbox, displayId } = await scene();
    const id = await failedReply(displayId);
    expect(JSON.parse((await msg(id)).content_attributes).external_error).toBe('503 Service Unavailable');
    const listed = (await api('GET', `/conversations/${displayId}/messages`)).body.payload.find((m: { id: number }) => m.id === id);
    expect(listed).toMatchObject({ status: 'failed', content_attributes: { external_error: '503 Service Unavailable' } });
    const first = created(id)[0];
    const delivery = (await callbackOf(id))!;
    expect(delivery.status).toBe('failed');

    const agent = await subscribe(consumer(h), { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });
    rx.respond = () => ({ status: 200 });
    rx.requests.length = 0;
    const r = await api('POST', `/conversations/${displayId}/messages/${id}/retry`);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ id, status: 'sent', conversation_id: displayId });
    expect(r.body.content_attributes.external_error).toBeUndefined();

    await waitUntil(() => created(id).length === 1, 15_000, 'message_created again');
    const again = created(id)[0];
    expect(again.headers['webhook-id']).toBe(delivery.delivery_id);
    expect(again.body).toBe(first.body);
    expect(new Webhook(inbox.secret).verify(again.body, again.headers as Record<string, string>)).toMatchObject({ id, event: 'message_created' });
    await waitUntil(async () => (await callbackOf(id))!.status === 'succeeded', 15_000, 'delivery succeeded');
    expect((await msg(id)).status).toBe(0);
    const update = await agent.next('message.updated', (m) => m.data.id === id && m.data.status === 'sent');
    expect(update.data.previous_changes).toMatchObject({ status: ['failed', 'sent'], external_error: ['503 Service Unavailable', null] });
    // Retrying a sent message is refused.
    expect((await api('POST', `/conversations/${displayId}/messages/${id}/retry`)).status).toBe(422);
  });

  it('a retried delivery that fails for good marks the message failed again', async () => {
    const { displayId } = await scene();
    const id = await failedReply(displayId);
    rx.respond = () => ({ status: 500, body: 'still down' });
    const key = { 'Idempotency-Key': `retry-${id}` };
    const r = await h.api('POST', `/api/v1/accounts/${accountId}/conversations/${displayId}/messages/${id}/retry`, { token: admin.token, headers: key });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('sent');
    // The same key replays the answer instead of a 422 (the message is no longer failed).
    const replay = await h.api('POST', `/api/v1/accounts/${accountId}/conversations/${displayId}/messages/${id}/retry`, { token: admin.token, headers: key });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(r.body);
    await waitUntil(async () => (await msg(id)).status === 3, 15_000, 'failed again');
    expect(JSON.parse((await msg(id)).content_attributes).external_error).toBe('500 Internal Server Error');
    const d = (await callbackOf(id))!;
    expect(d.status).toBe('failed');
    const attempts = await db().selectFrom('webhook_attempts').select('id').where('delivery_id', '=', d.id).execute();
    expect(attempts.length).toBe(6); // 1 + 2 retries, twice
  });

  it('422 for an incoming message and for a message that is not failed; 404 outside the conversation or account; 401 outside the inbox', async () => {
    const { displayId } = await scene();
    const other = await scene();
    const incoming = await api('POST', `/conversations/${displayId}/messages`, { content: 'from the contact', message_type: 'incoming' });
    expect((await api('POST', `/conversations/${displayId}/messages/${incoming.body.id}/retry`)).status).toBe(422);
    const sent = await api('POST', `/conversations/${displayId}/messages`, { content: 'fine', message_type: 'outgoing' });
    const refused = await api('POST', `/conversations/${displayId}/messages/${sent.body.id}/retry`);
    expect(refused.status).toBe(422);
    expect(refused.body.error ?? refused.body.message).toBeTruthy();
    const id = await failedReply(displayId);
    expect((await api('POST', `/conversations/${other.displayId}/messages/${id}/retry`)).status).toBe(404);
    expect((await api('POST', `/conversations/${displayId}/messages/999999999/retry`)).status).toBe(404);
    const notAnId = await api('POST', `/conversations/${displayId}/messages/abc/retry`);
    expect([notAnId.status, notAnId.body]).toEqual([404, { error: 'Resource could not be found' }]);
    const outsider = await h.user(accountId, { name: 'Outsider' });
    expect((await api('POST', `/conversations/${displayId}/messages/${id}/retry`, undefined, outsider.token)).status).toBe(401);
    const elsewhere = await h.account();
    expect((await h.api('POST', `/api/v1/accounts/${elsewhere.accountId}/conversations/${displayId}/messages/${id}/retry`, { token: elsewhere.admin.token })).status).toBe(404);
    expect((await msg(id)).status).toBe(3);
  });

  it('a failed message without a callback delivery (reported failed by the integration) just becomes sent again', async () => {
    const inbox = await h.inbox(accountId, { name: 'No callback' });
    const c = await api('POST', '/contacts', { inbox_id: inbox.id, name: 'No callback contact' });
    const conv = await api('POST', '/conversations', { source_id: c.body.payload.contact_inbox.source_id, inbox_id: inbox.id });
    const m = await api('POST', `/conversations/${conv.body.id}/messages`, { content: 'hello', message_type: 'outgoing' });
    const reported = await api('PATCH', `/conversations/${conv.body.id}/messages/${m.body.id}`, { status: 'failed', external_error: 'carrier said no' });
    expect(reported.body).toMatchObject({ status: 'failed', content_attributes: { external_error: 'carrier said no' } });
    const r = await api('POST', `/conversations/${conv.body.id}/messages/${m.body.id}/retry`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('sent');
    expect(r.body.content_attributes).toEqual({});
  });
});

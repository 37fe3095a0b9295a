import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { recordEvent } from '../../src/kernel/events/outbox.js';
import { now } from '../../src/kernel/db.js';
import { startReceiver, waitUntil, type Receiver } from './support.js';

describeEachDb('webhook events: payloads, endpoints and message status', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  let accountId: number;
  let token: string;

  beforeAll(async () => {
    h = await startTestServer(dialect, { WEBHOOK_RETRY_SCHEDULE: '0.2,0.2,0.2' });
    rx = await startReceiver();
    const a = await h.account({ name: 'Acme' });
    accountId = a.accountId;
    token = a.admin.token;
  });
  afterAll(async () => {
    await rx.close();
    await h.close();
  });
  beforeEach(() => {
    rx.requests.length = 0;
    rx.respond = () => ({ status: 200 });
  });

  const api = (method: string, p: string, body?: unknown) => h.api(method, `/api/v1/accounts/${accountId}${p}`, { token, body });
  const db = () => h.server.ctx.database.db;
  const drain = () => h.server.ctx.dispatcher.drain();

  /** The seed's three calls: contact (with its session) → conversation → message. */
  async function conversationIn(inboxId: number, name = 'contact-name') {
    const c = await api('POST', '/contacts', { inbox_id: inboxId, name });
    expect(c.status).toBe(200);
    const conv = await api('POST', '/conversations', { source_id: c.body.payload.contact_inbox.source_id, inbox_id: inboxId });
    expect(conv.status).toBe(200);
    return { contactId: c.body.payload.contact.id as number, displayId: conv.body.id as number, pubsub: c.body.payload.contact_inbox.pubsub_token as string };
  }
  async function post(displayId: number, body: Record<string, unknown>) {
    const m = await api('POST', `/conversations/${displayId}/messages`, body);
    expect(m.status).toBe(200);
    return m.body as { id: number };
  }
  const bodies = (event?: string) => rx.requests.filter((r) => !event || r.json?.event === event).map((r) => r.json);

  it('sends the seed message_created payload to the API-channel callback, signed, without tokens', async () => {
    const inbox = await h.inbox(accountId, { name: 'API Channel', webhook_url: rx.url });
    const conv = await conversationIn(inbox.id);
    const m = await post(conv.displayId, { content: 'This is an incoming message from API Channel', message_type: 'incoming' });
    await waitUntil(() => bodies('message_created').length === 1, 15_000, 'message_created');
    const body = bodies('message_created')[0];
    expect(body).toMatchObject({
      id: m.id,
      content: 'This is an incoming message from API Channel',
      message_type: 'incoming',
      sender: { id: conv.contactId, name: 'contact-name', type: 'contact' },
      inbox: { id: inbox.id, name: 'API Channel' },
      conversation: { channel: 'Channel::Api', id: conv.displayId, inbox_id: inbox.id, status: 'open' },
      account: { id: accountId, name: 'Acme' },
      private: false,
      event: 'message_created',
    });
    expect(bodies('conversation_created')).toHaveLength(1);
    expect(bodies('conversation_created')[0]).toMatchObject({ id: conv.displayId, channel: 'Channel::Api', inbox_id: inbox.id, event: 'conversation_created' });
    // The callback never hears contact events.
    expect(bodies('contact_created')).toHaveLength(0);

    const req = rx.requests.find((r) => r.json?.event === 'message_created')!;
    expect(new Webhook(inbox.secret).verify(req.body, req.headers as Record<string, string>)).toMatchObject({ id: m.id });
    for (const r of rx.requests) {
      expect(r.body).not.toContain('pubsub_token');
      expect(r.body).not.toContain(conv.pubsub);
      expect(r.body).not.toContain(inbox.hmac_token);
      expect(r.body).not.toContain(inbox.secret);
      expect(r.body).not.toContain(token);
    }
    // One delivery row per (event, endpoint), the exact body bytes stored.
    const rows = await db().selectFrom('webhook_deliveries').selectAll().where('endpoint_type', '=', 'inbox').where('endpoint_id', '=', inbox.id).execute();
    const mc = rows.find((r) => r.event_name === 'message_created')!;
    expect(mc.payload).toBe(req.body);
    expect(mc.message_id).toBe(m.id);
    expect(mc.delivery_id).toBe(req.headers['x-channelx-delivery']);
  });

  it('sends private notes with private:true and their own content; activity messages never', async () => {
    const inbox = await h.inbox(accountId, { webhook_url: rx.url });
    const conv = await conversationIn(inbox.id);
    await post(conv.displayId, { content: 'public reply', message_type: 'outgoing' });
    await post(conv.displayId, { content: 'internal note', message_type: 'outgoing', private: true });
    // An activity message recorded like any other message event.
    const convRow = await db().selectFrom('conversations').select(['id']).where('account_id', '=', accountId).where('display_id', '=', conv.displayId).executeTakeFirstOrThrow();
    await h.server.ctx.database.transaction(async (trx) => {
      const t = now();
      const act = await trx
        .insertInto('messages')
        .values({
          account_id: accountId,
          inbox_id: inbox.id,
          conversation_id: convRow.id,
          content: 'Conversation was resolved',
          message_type: 2,
          content_type: 'text',
          content_attributes: '{}',
          additional_attributes: '{}',
          private: 0,
          status: 0,
          source_id: null,
          sender_type: null,
          sender_id: null,
          echo_id: null,
          created_at: t,
          updated_at: t,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordEvent(trx, h.server.ctx.database.dialect, accountId, 'message.created', { message_id: act.id, conversation_id: convRow.id });
    });
    await drain();
    await waitUntil(() => bodies('message_created').length >= 2, 15_000, 'two message_created');
    await new Promise((r) => setTimeout(r, 300));
    const created = bodies('message_created');
    expect(created.map((b) => [b.content, b.private, b.message_type])).toEqual([
      ['public reply', false, 'outgoing'],
      ['internal note', true, 'outgoing'],
    ]);
    expect(rx.requests.some((r) => r.json?.message_type === 'activity' || r.json?.content === 'Conversation was resolved')).toBe(false);
    const sender = created[0].sender;
    expect(sender).toMatchObject({ type: 'user' });
  });

  it('sends conversation_status_changed with changed_attributes, and typing events', async () => {
    const inbox = await h.inbox(accountId, { webhook_url: rx.url });
    const conv = await conversationIn(inbox.id);
    const t = await api('POST', `/conversations/${conv.displayId}/toggle_status`, { status: 'resolved' });
    expect(t.status).toBe(200);
    await waitUntil(() => bodies('conversation_status_changed').length === 1, 15_000, 'conversation_status_changed');
    const sc = bodies('conversation_status_changed')[0];
    expect(sc).toMatchObject({ id: conv.displayId, status: 'resolved', channel: 'Channel::Api' });
    expect(sc.changed_attributes).toEqual(expect.arrayContaining([{ status: { previous_value: 'open', current_value: 'resolved' } }]));
    await waitUntil(() => bodies('conversation_updated').length === 1, 15_000, 'conversation_updated');
    expect(bodies('conversation_updated')[0]).toMatchObject({ id: conv.displayId, event: 'conversation_updated' });
    expect(Array.isArray(bodies('conversation_updated')[0].changed_attributes)).toBe(true);

    const typing = await api('POST', `/conversations/${conv.displayId}/toggle_typing_status`, { typing_status: 'on' });
    expect(typing.status).toBe(200);
    await waitUntil(() => bodies('conversation_typing_on').length === 1, 15_000, 'conversation_typing_on');
    const on = bodies('conversation_typing_on')[0];
    expect(Object.keys(on).sort()).toEqual(['conversation', 'event', 'is_private', 'user']);
    expect(on.user).toMatchObject({ type: 'user', name: 'Admin' });
    expect(on.conversation).toMatchObject({ id: conv.displayId, channel: 'Channel::Api' });
    expect(on.is_private).toBe(false);
  });

  it('filters account webhooks by subscription and by inbox_id; contact and inbox events go only there', async () => {
    const x = await h.inbox(accountId, { name: 'X' });
    const y = await h.inbox(accountId, { name: 'Y', webhook_url: `${rx.url}?callback` });
    const mk = async (q: string, body: Record<string, unknown>) => {
      const r = await api('POST', '/webhooks', { url: `${rx.url}?${q}`, ...body });
      expect(r.status).toBe(200);
      return r.body.payload.webhook;
    };
    await mk('all', { subscriptions: ['message_created'] });
    await mk('onlyX', { inbox_id: x.id, subscriptions: ['message_created', 'conversation_created', 'contact_created'] });
    await mk('contacts', { subscriptions: ['contact_created', 'contact_updated', 'inbox_created', 'inbox_updated'] });
    const byPath = (q: string) => rx.requests.filter((r) => r.path.endsWith(`?${q}`)).map((r) => r.json.event);

    const inY = await conversationIn(y.id);
    await post(inY.displayId, { content: 'in Y', message_type: 'incoming' });
    await drain();
    await waitUntil(() => byPath('all').length === 1 && byPath('contacts').length === 1, 15_000, 'account webhooks');
    await new Promise((r) => setTimeout(r, 300));
    expect(byPath('all')).toEqual(['message_created']);
    expect(byPath('onlyX')).toEqual([]);
    expect(byPath('contacts')).toEqual(['contact_created']);
    expect(byPath('callback').sort()).toEqual(['conversation_created', 'message_created']);

    const inX = await conversationIn(x.id);
    await post(inX.displayId, { content: 'in X', message_type: 'incoming' });
    await waitUntil(() => byPath('onlyX').length === 3, 15_000, 'inbox-filtered webhook');
    expect(byPath('onlyX').sort()).toEqual(['contact_created', 'conversation_created', 'message_created']);

    const created = await api('POST', '/inboxes', { name: 'Brand new', channel: { type: 'api', webhook_url: 'https://example.com/cb' } });
    expect(created.status).toBe(200);
    await waitUntil(() => byPath('contacts').includes('inbox_created'), 15_000, 'inbox_created');
    const ib = rx.requests.find((r) => r.json?.event === 'inbox_created')!;
    expect(ib.json).toMatchObject({ id: created.body.id, name: 'Brand new', account: { id: accountId, name: 'Acme' } });
    for (const secret of [created.body.secret, created.body.hmac_token].filter(Boolean)) expect(ib.body).not.toContain(secret);
    expect(ib.body).not.toMatch(/"(secret|hmac_token|pubsub_token)"/);
    expect(byPath('all')).not.toContain('inbox_created');

    const renamed = await api('PATCH', `/contacts/${inX.contactId}`, { name: 'Renamed' });
    expect(renamed.status).toBe(200);
    await waitUntil(() => byPath('contacts').includes('contact_updated'), 15_000, 'contact_updated');
    const cu = rx.requests.find((r) => r.json?.event === 'contact_updated')!.json;
    expect(cu).toMatchObject({ id: inX.contactId, name: 'Renamed', account: { id: accountId } });
    expect(cu.changed_attributes).toEqual(expect.arrayContaining([{ name: { previous_value: 'contact-name', current_value: 'Renamed' } }]));
    expect(byPath('callback')).not.toContain('contact_updated');
  });

  it('marks an outgoing message failed when its callback is exhausted, and sent again after a redelivery', async () => {
    rx.respond = () => ({ status: 500, body: 'down' });
    const inbox = await h.inbox(accountId, { webhook_url: rx.url });
    const conv = await conversationIn(inbox.id);
    const out = await post(conv.displayId, { content: 'agent reply', message_type: 'outgoing' });
    const inc = await post(conv.displayId, { content: 'customer says', message_type: 'incoming' });
    const msg = (id: number) => db().selectFrom('messages').select(['status', 'content_attributes']).where('id', '=', id).executeTakeFirstOrThrow();
    const deliveryOf = (id: number) =>
      db()
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('message_id', '=', id)
        .where('event_name', '=', 'message_created')
        .where('endpoint_type', '=', 'inbox')
        .executeTakeFirst();
    await waitUntil(async () => (await deliveryOf(out.id))?.status === 'failed' && (await deliveryOf(inc.id))?.status === 'failed', 10_000, 'exhaustion');
    const failed = await msg(out.id);
    expect(failed.status).toBe(3);
    expect(JSON.parse(failed.content_attributes).external_error).toBe('500 Internal Server Error');
    // Incoming messages are never marked failed by callback trouble.
    expect((await msg(inc.id)).status).toBe(0);
    // The status change is itself an event: a message_updated delivery for the outgoing message.
    await drain();
    const updated = await db().selectFrom('webhook_deliveries').selectAll().where('message_id', '=', out.id).where('event_name', '=', 'message_updated').execute();
    expect(updated.length).toBeGreaterThanOrEqual(1);
    const api1 = await api('GET', `/conversations/${conv.displayId}/messages`);
    const listed = api1.body.payload.find((m: any) => m.id === out.id);
    expect(listed.status).toBe('failed');

    rx.respond = () => ({ status: 200 });
    rx.requests.length = 0;
    const d = (await deliveryOf(out.id))!;
    const r = await api('POST', `/webhook_deliveries/${d.delivery_id}/redeliver`);
    expect(r.status).toBe(200);
    await waitUntil(async () => (await msg(out.id)).status === 0, 15_000, 'message back to sent');
    expect(JSON.parse((await msg(out.id)).content_attributes).external_error).toBeUndefined();
    const callback = rx.requests.filter((q) => q.path === '/hook' && q.json?.event === 'message_created');
    expect(callback.map((q) => q.headers['webhook-id'])).toEqual([d.delivery_id]);
    await waitUntil(() => bodies('message_updated').some((b) => b.id === out.id), 15_000, 'message_updated');
  });
});

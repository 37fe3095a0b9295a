import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { consumer, disconnectAll, subscribe, type TestSubscription } from '../realtime/cable.js';
import { startReceiver, waitUntil, type Receiver } from './support.js';

/**
 * Issue 14 item 3: an outgoing message whose callback fails carries its delivery state from the
 * first failed attempt (`content_attributes.delivery`) in the API and on /cable (`message.updated`),
 * account webhooks hear it as message_updated, and success or the end of the schedule updates it.
 * The failing callback itself is not sent delivery-state updates.
 */
describeEachDb('delivery state of an outgoing message', (dialect) => {
  let h: TestServer;
  let callback: Receiver;
  let hook: Receiver;
  let accountId: number;
  let admin: { id: number; token: string; pubsub_token: string };
  let agent: TestSubscription;

  beforeAll(async () => {
    h = await startTestServer(dialect, { WEBHOOK_RETRY_SCHEDULE: '0.3,0.3' });
    callback = await startReceiver();
    hook = await startReceiver();
    ({ accountId, admin } = await h.account());
    const w = await api('POST', '/webhooks', { url: hook.url, subscriptions: ['message_updated'] });
    expect(w.status, w.text).toBe(200);
  });
  afterAll(async () => {
    await callback.close();
    await hook.close();
    await h.close();
  });
  afterEach(() => disconnectAll());

  const api = (method: string, p: string, body?: unknown) => h.api(method, `/api/v1/accounts/${accountId}${p}`, { token: admin.token, body });
  const listed = async (displayId: number, id: number) =>
    (await api('GET', `/conversations/${displayId}/messages`)).body.payload.find((m: { id: number }) => m.id === id);
  const updates = (id: number) => agent.received.filter((m) => m.event === 'message.updated' && m.data.id === id);
  const hookUpdates = (id: number) => hook.requests.filter((r) => r.json?.event === 'message_updated' && r.json?.id === id);

  async function reply() {
    const inbox = await h.inbox(accountId, { webhook_url: callback.url });
    const c = await api('POST', '/contacts', { inbox_id: inbox.id, name: 'State contact' });
    const conv = await api('POST', '/conversations', { source_id: c.body.payload.contact_inbox.source_id, inbox_id: inbox.id });
    expect(conv.status, conv.text).toBe(200);
    agent = await subscribe(consumer(h), { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });
    const m = await api('POST', `/conversations/${conv.body.id}/messages`, { content: 'agent reply', message_type: 'outgoing' });
    expect(m.status, m.text).toBe(200);
    return { displayId: conv.body.id as number, id: m.body.id as number, identifier: inbox.identifier, sourceId: c.body.payload.contact_inbox.source_id as string };
  }

  it('first failure → retrying (API, /cable, account webhook); then success → delivered; never sent to the failing callback', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let created = 0;
    callback.respond = async (r) => {
      if (r.json?.event !== 'message_created') return { status: 200 };
      if (++created === 1) return { status: 503, body: 'down' };
      await gate;
      return { status: 200 };
    };
    const before = Math.floor(Date.now() / 1000);
    const { displayId, id, identifier, sourceId } = await reply();

    // The second attempt waits at the receiver: the state after the first one stays put meanwhile.
    const retrying = await agent.next('message.updated', (m) => m.data.id === id);
    expect(retrying.data.status).toBe('sent');
    expect(retrying.data.content_attributes.delivery).toEqual({ state: 'retrying', attempts: 1, next_attempt_at: expect.any(Number), last_error: '503 Service Unavailable' });
    expect(retrying.data.previous_changes).toEqual({ delivery: [null, retrying.data.content_attributes.delivery] });
    const next = retrying.data.content_attributes.delivery.next_attempt_at;
    expect(next).toBeGreaterThanOrEqual(before);
    expect(next).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 1);
    const shown = await listed(displayId, id);
    expect(shown).toMatchObject({ status: 'sent', content_attributes: { delivery: { state: 'retrying', attempts: 1, last_error: '503 Service Unavailable' } } });
    await waitUntil(() => hookUpdates(id).length === 1, 10_000, 'the account webhook to hear message_updated');
    expect(hookUpdates(id)[0].json.content_attributes.delivery).toMatchObject({ state: 'retrying', attempts: 1 });
    // The contact's own API never shows the business's plumbing.
    const pub = await h.api('GET', `/public/api/v1/inboxes/${identifier}/contacts/${sourceId}/conversations/${displayId}/messages`);
    expect(pub.status, pub.text).toBe(200);
    expect(JSON.stringify(pub.body)).not.toContain('"delivery"');

    open();
    const delivered = await agent.next('message.updated', (m) => m.data.id === id && m.data.content_attributes.delivery?.state === 'delivered');
    expect(delivered.data.content_attributes.delivery).toEqual({ state: 'delivered', attempts: 2, next_attempt_at: null, last_error: null });
    expect(delivered.data.status).toBe('sent');
    expect((await listed(displayId, id)).content_attributes.delivery.state).toBe('delivered');
    expect(updates(id)).toHaveLength(2);
    await waitUntil(() => hookUpdates(id).length === 2, 10_000, 'the account webhook to hear the second update');
    // Routed together with the account webhook's rows: the callback got no message_updated row.
    const toCallback = await h.server.ctx.database.db
      .selectFrom('webhook_deliveries')
      .select('event_name')
      .where('endpoint_type', '=', 'inbox')
      .where('message_id', '=', id)
      .execute();
    expect(toCallback.map((r) => r.event_name)).toEqual(['message_created']);
  });

  it('a schedule used up → failed with external_error and delivery failed; retry clears it and a success leaves none', async () => {
    callback.respond = () => ({ status: 500, body: 'still down' });
    const { displayId, id } = await reply();
    await waitUntil(async () => (await listed(displayId, id)).status === 'failed', 15_000, 'the message to fail');
    const failed = await listed(displayId, id);
    expect(failed.content_attributes).toEqual({
      external_error: '500 Internal Server Error',
      delivery: { state: 'failed', attempts: 3, next_attempt_at: null, last_error: '500 Internal Server Error' },
    });
    await waitUntil(() => updates(id).length === 3, 10_000, 'three message.updated frames');
    expect(updates(id).map((m) => [m.data.status, m.data.content_attributes.delivery.state, m.data.content_attributes.delivery.attempts])).toEqual([
      ['sent', 'retrying', 1],
      ['sent', 'retrying', 2],
      ['failed', 'failed', 3],
    ]);
    expect(updates(id)[2].data.previous_changes).toMatchObject({ status: ['sent', 'failed'], external_error: [null, '500 Internal Server Error'] });

    callback.respond = () => ({ status: 200 });
    const r = await api('POST', `/conversations/${displayId}/messages/${id}/retry`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.status).toBe('sent');
    expect(r.body.content_attributes).toEqual({});
    await agent.next('message.updated', (m) => m.data.id === id && m.data.previous_changes?.delivery?.[1] === null);
    await waitUntil(async () => (await h.server.ctx.database.db.selectFrom('webhook_deliveries').select('status').where('message_id', '=', id).where('endpoint_type', '=', 'inbox').where('event_name', '=', 'message_created').executeTakeFirstOrThrow()).status === 'succeeded', 15_000, 'the retried delivery to succeed');
    expect((await listed(displayId, id)).content_attributes).toEqual({});
  });

  it("the contact's own socket hears neither the retries nor the callback's errors", async () => {
    let created = 0;
    callback.respond = (r) => (r.json?.event === 'message_created' && ++created === 1 ? { status: 503, body: 'down at 10.1.2.3' } : { status: 200 });
    const inbox = await h.inbox(accountId, { webhook_url: callback.url });
    const c = await api('POST', '/contacts', { inbox_id: inbox.id, name: 'Watching contact' });
    const conv = await api('POST', '/conversations', { source_id: c.body.payload.contact_inbox.source_id, inbox_id: inbox.id });
    expect(conv.status, conv.text).toBe(200);
    const contact = await subscribe(consumer(h), { pubsub_token: c.body.payload.contact_inbox.pubsub_token });
    agent = await subscribe(consumer(h), { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });
    const m = await api('POST', `/conversations/${conv.body.id}/messages`, { content: 'reply to watch', message_type: 'outgoing' });
    expect(m.status, m.text).toBe(200);
    const id = m.body.id as number;
    await contact.next('message.created', (x) => x.data.id === id);
    // The agent hears retrying, then delivered; a later public update still reaches the contact.
    await agent.next('message.updated', (x) => x.data.id === id && x.data.content_attributes.delivery?.state === 'delivered');
    const status = await api('PATCH', `/conversations/${conv.body.id}/messages/${id}`, { status: 'delivered' });
    expect(status.status, status.text).toBe(200);
    const seen = await contact.next('message.updated', (x) => x.data.id === id);
    expect(seen.data.status).toBe('delivered');
    // That is the only update the contact heard: the two delivery-state updates went to agents only.
    expect(contact.received.filter((x) => x.event === 'message.updated' && x.data.id === id)).toHaveLength(1);
    expect(agent.received.filter((x) => x.event === 'message.updated' && x.data.id === id).length).toBeGreaterThanOrEqual(2);
    const text = JSON.stringify(contact.received);
    expect(text).not.toContain('"delivery"');
    expect(text).not.toContain('external_error');
    expect(text).not.toContain('10.1.2.3');
    // Agents still see it all.
    expect(JSON.stringify(agent.received)).toContain('"delivery"');
  });

  it('a delivery key given on create is the server\'s: dropped', async () => {
    callback.respond = () => ({ status: 200 });
    const { displayId } = await reply();
    const m = await api('POST', `/conversations/${displayId}/messages`, { content: 'spoof', content_attributes: { delivery: { state: 'failed' }, items: [] } });
    expect(m.status, m.text).toBe(200);
    expect(m.body.content_attributes).toEqual({ items: [] });
  });

});

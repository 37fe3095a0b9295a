import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Value } from 'typebox/value';
import { CABLE_EVENTS } from '../../src/realtime/event-schemas.js';
import { describeEachDb, type TestServer, type TestUser } from '../support/harness.js';
import { agentScene, type AgentScene } from '../support/scene.js';
import { apiContact, apiConversation, consumer, disconnectAll, subscribe, until } from '../realtime/cable.js';
import { waitUntil, type Receiver } from '../webhooks/support.js';

/**
 * Activity messages (message_type 2): the lines a conversation's status, assignee, priority and
 * label changes leave in it, written by changeConversation in the change's transaction. Agents see
 * them (Application API list, their sockets); contacts (client API, their socket) and webhooks never do.
 */
describeEachDb('activity messages', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  let accountId: number;
  let grace: TestUser; // administrator
  let ada: TestUser; // agent, member of the inbox
  let inbox: Awaited<ReturnType<TestServer['inbox']>>;

  let scene: AgentScene;

  beforeAll(async () => {
    scene = await agentScene(dialect);
    ({ h, rx, accountId, grace, inbox } = scene);
    [ada] = scene.agents;
  });
  afterEach(() => disconnectAll());
  afterAll(() => scene?.close());

  const base = () => `/api/v1/accounts/${accountId}`;
  const api = (method: string, path: string, token: string, body?: unknown) => h.api(method, `${base()}${path}`, { token, body });
  const toggle = (displayId: number, token: string, body: object = {}) => api('POST', `/conversations/${displayId}/toggle_status`, token, body);
  const assign = (displayId: number, token: string, assigneeId: number | null) => api('POST', `/conversations/${displayId}/assignments`, token, { assignee_id: assigneeId });

  async function fresh(name = 'Jane Visitor') {
    const contact = await apiContact(h, grace.token, accountId, inbox.id, name);
    const conv = await apiConversation(h, grace.token, accountId, inbox.id, contact);
    return { ...conv, contact };
  }
  async function messages(displayId: number, token = grace.token) {
    const r = await api('GET', `/conversations/${displayId}/messages`, token);
    expect(r.status).toBe(200);
    return r.body.payload as any[];
  }
  const activity = async (displayId: number) => (await messages(displayId)).filter((m) => m.message_type === 2);
  const lines = async (displayId: number) => (await activity(displayId)).map((m) => m.content as string);
  const show = async (displayId: number) => (await api('GET', `/conversations/${displayId}`, grace.token)).body;
  const publicBase = (sourceId: string) => `/public/api/v1/inboxes/${inbox.identifier}/contacts/${sourceId}`;

  it('status changes: resolved, reopened, pending, snoozed, each by its performer; a new snooze time alone writes none (as the reference)', async () => {
    const conv = await fresh();
    expect(await lines(conv.displayId)).toEqual([]);
    await toggle(conv.displayId, grace.token); // open → resolved
    await toggle(conv.displayId, grace.token); // resolved → open
    await toggle(conv.displayId, grace.token, { status: 'pending' });
    const until = Date.UTC(2030, 0, 15, 9, 30) / 1000;
    await toggle(conv.displayId, grace.token, { status: 'snoozed', snoozed_until: until });
    await toggle(conv.displayId, grace.token, { status: 'snoozed', snoozed_until: null }); // until the next reply: still snoozed, no line
    expect((await show(conv.displayId)).snoozed_until).toBeNull();
    await toggle(conv.displayId, grace.token, { status: 'snoozed', snoozed_until: null }); // no change: no line
    expect(await lines(conv.displayId)).toEqual([
      'Conversation was marked resolved by Grace Hopper',
      'Conversation was reopened by Grace Hopper',
      'Conversation was marked as pending by Grace Hopper',
      'Conversation was snoozed by Grace Hopper',
    ]);

    // The contact resolves through the client API; a new message from them reopens it.
    await toggle(conv.displayId, grace.token, { status: 'open' });
    const pub = publicBase(conv.contact.sourceId);
    expect((await h.api('POST', `${pub}/conversations/${conv.displayId}/toggle_status`)).status).toBe(200);
    expect((await h.api('POST', `${pub}/conversations/${conv.displayId}/messages`, { body: { content: 'one more thing' } })).status).toBe(200);
    const all = await messages(conv.displayId);
    expect(all.slice(-4).map((m) => [m.message_type, m.content])).toEqual([
      [2, 'Conversation was reopened by Grace Hopper'],
      [2, 'Conversation was resolved by Jane Visitor'],
      [0, 'one more thing'],
      [2, 'System reopened the conversation due to a new incoming message.'],
    ]);
    // A contact's message ends a snooze without a line (the reference writes none either).
    await toggle(conv.displayId, grace.token, { status: 'snoozed', snoozed_until: null });
    expect((await h.api('POST', `${pub}/conversations/${conv.displayId}/messages`, { body: { content: 'are you there?' } })).status).toBe(200);
    expect((await show(conv.displayId)).status).toBe('open');
    expect((await messages(conv.displayId)).slice(-2).map((m) => [m.message_type, m.content])).toEqual([
      [2, 'Conversation was snoozed by Grace Hopper'],
      [0, 'are you there?'],
    ]);
    // Activity messages have no sender and are neither private nor a reply.
    for (const m of all.filter((x) => x.message_type === 2)) {
      expect(m).not.toHaveProperty('sender');
      expect(m).toMatchObject({ private: false, status: 'sent', conversation_id: conv.displayId, inbox_id: inbox.id, content_attributes: {} });
    }
    // filter_internal_messages drops them.
    const filtered = await api('GET', `/conversations/${conv.displayId}/messages?filter_internal_messages=true`, grace.token);
    expect(filtered.body.payload.map((m: any) => m.message_type)).toEqual([0, 0]);
  });

  it('assignee lines: assigned to someone by someone, self-assigned, unassigned; an agent reopening becomes assignee', async () => {
    const conv = await fresh('Assignments');
    await assign(conv.displayId, grace.token, ada.id);
    await assign(conv.displayId, grace.token, grace.id);
    await assign(conv.displayId, grace.token, null);
    await assign(conv.displayId, grace.token, null); // already unassigned: nothing
    await assign(conv.displayId, ada.token, ada.id);
    await toggle(conv.displayId, grace.token, { status: 'pending' });
    await assign(conv.displayId, grace.token, null);
    // An agent opening a conversation takes it: two lines, status first.
    await toggle(conv.displayId, ada.token, { status: 'open' });
    expect(await lines(conv.displayId)).toEqual([
      'Assigned to Ada Lovelace by Grace Hopper',
      'Grace Hopper self-assigned this conversation',
      'Conversation unassigned by Grace Hopper',
      'Ada Lovelace self-assigned this conversation',
      'Conversation was marked as pending by Grace Hopper',
      'Conversation unassigned by Grace Hopper',
      'Conversation was reopened by Ada Lovelace',
      'Ada Lovelace self-assigned this conversation',
    ]);
  });

  it('priority and label lines; changes without a visible effect (custom attributes, read state) write none', async () => {
    const conv = await fresh('Priorities');
    const p = (priority: string | null) => api('POST', `/conversations/${conv.displayId}/toggle_priority`, grace.token, { priority });
    await p('low');
    await p('urgent');
    await p(null);
    const labels = (l: string[]) => api('POST', `/conversations/${conv.displayId}/labels`, grace.token, { labels: l });
    await labels(['billing', 'vip']);
    await labels(['vip', 'refund']);
    await api('POST', `/conversations/${conv.displayId}/custom_attributes`, grace.token, { custom_attributes: { plan: 'pro' } });
    await api('POST', `/conversations/${conv.displayId}/update_last_seen`, grace.token);
    expect(await lines(conv.displayId)).toEqual([
      'Grace Hopper set the priority to low',
      'Grace Hopper changed the priority from low to urgent',
      'Grace Hopper removed the priority',
      'Grace Hopper added billing, vip',
      'Grace Hopper added refund',
      'Grace Hopper removed billing',
    ]);
  });

  it('never reach the callback, the contact’s socket or the client API; agents’ sockets get message.created (type 2); unread_count, preview and waiting_since stay', async () => {
    // An account webhook hears every message_created of the account, the callback those of the inbox.
    const hook = await api('POST', '/webhooks', grace.token, { url: rx.url, subscriptions: ['message_created', 'conversation_status_changed'] });
    expect(hook.status, hook.text).toBe(200);
    const conv = await fresh('Quiet');
    const pub = publicBase(conv.contact.sourceId);
    expect((await h.api('POST', `${pub}/conversations/${conv.displayId}/messages`, { body: { content: 'hello?' } })).status).toBe(200);
    const before = await show(conv.displayId);
    expect(before.unread_count).toBe(1);
    expect(before.last_non_activity_message).toMatchObject({ content: 'hello?', message_type: 0 });

    const agentSocket = await subscribe(consumer(h), { pubsub_token: ada.pubsub_token, account_id: accountId, user_id: ada.id });
    const contactSocket = await subscribe(consumer(h), { pubsub_token: conv.contact.pubsubToken });
    expect([agentSocket.state, contactSocket.state]).toEqual(['connected', 'connected']);
    rx.requests.length = 0;

    await toggle(conv.displayId, grace.token); // resolved
    await assign(conv.displayId, grace.token, ada.id);

    const created = await agentSocket.next('message.created', (m) => m.data.message_type === 2 && /resolved/.test(m.data.content));
    expect(created.data).toMatchObject({
      content: 'Conversation was marked resolved by Grace Hopper',
      message_type: 2,
      private: false,
      sender_type: null,
      sender_id: null,
      conversation_id: conv.displayId,
      account_id: accountId,
      conversation: { unread_count: 1 },
    });
    expect(created.data).not.toHaveProperty('sender');
    expect([...Value.Errors(CABLE_EVENTS['message.created'], created.data)].map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
    await agentSocket.next('message.created', (m) => m.data.message_type === 2 && m.data.content === 'Assigned to Ada Lovelace by Grace Hopper');

    // The contact hears the status change, never its activity line.
    await contactSocket.next('conversation.status_changed');
    await h.server.ctx.dispatcher.drain();
    await contactSocket.none('message.created', 300);
    expect(contactSocket.received.filter((m) => m.event === 'message.created')).toEqual([]);
    expect(JSON.stringify(contactSocket.received)).not.toMatch(/marked resolved|Assigned to|"message_type":2/);

    // The API inbox's callback gets conversation_status_changed, but no message_created for the lines.
    await waitUntil(() => rx.requests.some((r) => r.json?.event === 'conversation_status_changed'), 15_000, 'conversation_status_changed');
    const ids = (await activity(conv.displayId)).map((m) => m.id);
    expect(ids).toHaveLength(2);
    const db = h.server.ctx.database.db;
    const rows = await db.selectFrom('webhook_deliveries').select('id').where('message_id', 'in', ids).execute();
    expect(rows).toEqual([]);
    // The account webhook did get the status change (so it was live): only the lines never went out.
    const hookRows = await db.selectFrom('webhook_deliveries').select('event_name').where('endpoint_type', '=', 'webhook').where('endpoint_id', '=', hook.body.payload.webhook.id).execute();
    expect(hookRows.map((r) => r.event_name)).toContain('conversation_status_changed');
    // (the contact's own message may still be on its way: only the lines' ids matter)
    expect(rx.requests.filter((r) => r.json?.event === 'message_created' && (ids.includes(r.json.id) || r.json.message_type === 'activity'))).toEqual([]);
    expect(rx.requests.some((r) => /marked resolved|Assigned to/.test(r.body))).toBe(false);

    // The client API's messages and conversation never show them.
    const listed = await h.api('GET', `${pub}/conversations/${conv.displayId}/messages`);
    expect(listed.body.map((m: any) => [m.message_type, m.content])).toEqual([[0, 'hello?']]);
    const pubConv = await h.api('GET', `${pub}/conversations/${conv.displayId}`);
    expect(pubConv.body.messages.map((m: any) => m.message_type)).toEqual([0]);

    // Not unread, not the preview; the conversation stays resolved. last_activity_at moves with them,
    // as the reference's does for every message. The resolve cleared waiting_since (as the reference);
    // the assignment's line after it did not set it again.
    const after = await show(conv.displayId);
    expect(after.unread_count).toBe(1);
    expect(after.last_non_activity_message).toMatchObject({ content: 'hello?', message_type: 0 });
    expect(after.status).toBe('resolved');
    expect(before.waiting_since).toBeGreaterThan(0);
    expect(after.waiting_since).toBe(0);
    expect(after.last_activity_at).toBeGreaterThanOrEqual(before.last_activity_at);
    expect(after.messages[0]).toMatchObject({ message_type: 2, content: 'Assigned to Ada Lovelace by Grace Hopper' });
    const list = await api('GET', `/conversations?status=resolved`, grace.token);
    const row = list.body.data.payload.find((c: any) => c.id === conv.displayId);
    expect(row.last_non_activity_message).toMatchObject({ content: 'hello?' });
    expect(row.unread_count).toBe(1);
  });

  it('an agent who cannot see the inbox never gets the lines on their socket', async () => {
    const outsider = await h.user(accountId, { name: 'Outsider' });
    const conv = await fresh('Private');
    const s = await subscribe(consumer(h), { pubsub_token: outsider.pubsub_token, account_id: accountId, user_id: outsider.id });
    const boss = await subscribe(consumer(h), { pubsub_token: grace.pubsub_token, account_id: accountId, user_id: grace.id });
    await toggle(conv.displayId, grace.token, { status: 'pending' });
    await boss.next('message.created', (m) => m.data.message_type === 2 && m.data.conversation_id === conv.displayId);
    await until(async () => (await lines(conv.displayId)).length === 1, 'the line');
    await s.none('message.created', 300);
    expect(s.received.filter((m) => m.event === 'message.created')).toEqual([]);
  });
});

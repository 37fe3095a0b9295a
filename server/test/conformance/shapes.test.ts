import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { SEED_MESSAGE } from '../support/conversations.js';
import { startReceiver, waitUntil, type Receiver } from '../webhooks/support.js';
import { consumer, disconnectAll, subscribe } from '../realtime/cable.js';

/**
 * Wire conformance: the seed flow through the real HTTP API, then every documented key of every
 * shape (reference §2–§5, seed examples binding) checked with its JSON type. Responses may carry
 * more keys; they never carry fewer or different types.
 */

type T = 'number' | 'string' | 'boolean' | 'null' | 'object' | 'array';
/** A key's spec: a type, a union `'string|null'`, an optional key `'object?'` (absent, or of that type), or a nested object spec (the value must be an object). */
type Spec = { [key: string]: string | Spec };

const typeOf = (v: unknown): T => (v === null ? 'null' : Array.isArray(v) ? 'array' : (typeof v as T));

/** Asserts every key of `spec` is present on `obj` with one of the allowed JSON types (integers for ids are checked separately). */
function expectShape(obj: unknown, spec: Spec, where: string) {
  expect(typeOf(obj), `${where} is an object`).toBe('object');
  const o = obj as Record<string, unknown>;
  for (const [k, want] of Object.entries(spec)) {
    const path = `${where}.${k}`;
    const optional = typeof want === 'string' && want.endsWith('?');
    if (optional && !Object.prototype.hasOwnProperty.call(o, k)) continue;
    expect(Object.prototype.hasOwnProperty.call(o, k), `${path} is present (keys: ${Object.keys(o).join(',')})`).toBe(true);
    if (typeof want === 'string') {
      const allowed = want.replace(/\?$/, '').split('|');
      expect(allowed, `${path} has type ${want}, got ${typeOf(o[k])} (${JSON.stringify(o[k])})`).toContain(typeOf(o[k]));
    } else {
      expectShape(o[k], want, path);
    }
  }
}
const int = (v: unknown, what: string) => expect(Number.isInteger(v), `${what} is an integer (${JSON.stringify(v)})`).toBe(true);

/* ---------------- the reference's shapes ---------------- */

const CONTACT: Spec = {
  additional_attributes: 'object',
  availability_status: 'string',
  email: 'string|null',
  id: 'number',
  name: 'string',
  phone_number: 'string|null',
  blocked: 'boolean',
  identifier: 'string|null',
  thumbnail: 'string',
  custom_attributes: 'object',
  // The reference leaves last_activity_at out for a contact never active (never null).
  last_activity_at: 'number?',
  created_at: 'number',
};
const SLIM_INBOX: Spec = { id: 'number', avatar_url: 'string', channel_id: 'number', name: 'string', channel_type: 'string', provider: 'string|null' };
const CONTACT_INBOX: Spec = { source_id: 'string', inbox: SLIM_INBOX };
const CONTACT_PUSH: Spec = {
  additional_attributes: 'object',
  custom_attributes: 'object',
  email: 'string|null',
  id: 'number',
  identifier: 'string|null',
  name: 'string',
  phone_number: 'string|null',
  thumbnail: 'string',
  blocked: 'boolean',
  type: 'string',
};
const USER_PUSH: Spec = { id: 'number', name: 'string', available_name: 'string', avatar_url: 'string', type: 'string', availability_status: 'string', thumbnail: 'string' };
const MESSAGE: Spec = {
  id: 'number',
  content: 'string|null',
  inbox_id: 'number',
  conversation_id: 'number',
  message_type: 'number',
  content_type: 'string|null',
  status: 'string',
  content_attributes: 'object',
  created_at: 'number',
  private: 'boolean',
  source_id: 'string|null',
  sender: 'object',
};
const MESSAGE_PUSH: Spec = {
  id: 'number',
  content: 'string|null',
  account_id: 'number',
  inbox_id: 'number',
  conversation_id: 'number',
  message_type: 'number',
  content_type: 'string|null',
  content_attributes: 'object',
  status: 'string',
  created_at: 'number',
  private: 'boolean',
  source_id: 'string|null',
  sender_type: 'string|null',
  sender_id: 'number|null',
  conversation: { assignee_id: 'number|null', unread_count: 'number', last_activity_at: 'number', contact_inbox: { source_id: 'string|null' } },
  sender: 'object',
};
const CONVERSATION: Spec = {
  // The reference leaves assignee/assignee_type out when unassigned, and team without a team (never null).
  meta: { sender: CONTACT, channel: 'string', assignee: 'object?', assignee_type: 'string?', team: 'object?', hmac_verified: 'boolean' },
  id: 'number',
  messages: 'array',
  account_id: 'number',
  uuid: 'string',
  additional_attributes: 'object',
  agent_last_seen_at: 'number',
  assignee_last_seen_at: 'number',
  can_reply: 'boolean',
  contact_last_seen_at: 'number',
  custom_attributes: 'object',
  inbox_id: 'number',
  labels: 'array',
  muted: 'boolean',
  snoozed_until: 'null|number|string',
  status: 'string',
  created_at: 'number',
  updated_at: 'number',
  timestamp: 'number',
  first_reply_created_at: 'number|null',
  unread_count: 'number',
  last_non_activity_message: 'object|null',
  last_activity_at: 'number',
  priority: 'string|null',
  waiting_since: 'number|null',
  sla_policy_id: 'number|null',
};
const INBOX: Spec = {
  id: 'number',
  avatar_url: 'string',
  channel_id: 'number',
  name: 'string',
  channel_type: 'string',
  greeting_enabled: 'boolean',
  greeting_message: 'string|null',
  working_hours_enabled: 'boolean',
  enable_email_collect: 'boolean',
  csat_survey_enabled: 'boolean',
  enable_auto_assignment: 'boolean',
  out_of_office_message: 'string|null',
  timezone: 'string',
  allow_messages_after_resolved: 'boolean',
  lock_to_single_conversation: 'boolean',
  sender_name_type: 'string',
  business_name: 'string|null',
  webhook_url: 'string|null',
  inbox_identifier: 'string',
  additional_attributes: 'object',
  provider: 'string|null',
  working_hours: 'array',
};
const AGENT: Spec = {
  id: 'number',
  account_id: 'number',
  availability_status: 'string',
  auto_offline: 'boolean',
  confirmed: 'boolean',
  email: 'string',
  provider: 'string',
  available_name: 'string',
  name: 'string',
  role: 'string',
  thumbnail: 'string',
};
const PROFILE: Spec = {
  access_token: 'string',
  account_id: 'number',
  available_name: 'string',
  avatar_url: 'string',
  confirmed: 'boolean',
  display_name: 'string|null',
  message_signature: 'string|null',
  email: 'string',
  id: 'number',
  inviter_id: 'number|null',
  name: 'string',
  provider: 'string',
  pubsub_token: 'string',
  role: 'string',
  ui_settings: 'object',
  uid: 'string',
  type: 'string',
  accounts: 'array',
};
const PROFILE_ACCOUNT: Spec = {
  id: 'number',
  name: 'string',
  status: 'string',
  active_at: 'string|null',
  role: 'string',
  permissions: 'array',
  availability: 'string',
  availability_status: 'string',
  auto_offline: 'boolean',
  api_and_webhooks: 'boolean',
};
const PUBLIC_INBOX: Spec = {
  identifier: 'string',
  identity_validation_enabled: 'boolean',
  name: 'string',
  timezone: 'string',
  working_hours: 'array',
  working_hours_enabled: 'boolean',
  csat_survey_enabled: 'boolean',
  greeting_enabled: 'boolean',
};
const PUBLIC_CONTACT: Spec = { source_id: 'string', pubsub_token: 'string', id: 'number', name: 'string', email: 'string|null', phone_number: 'string|null' };
const PUBLIC_MESSAGE: Spec = {
  id: 'number',
  content: 'string|null',
  message_type: 'number',
  content_type: 'string|null',
  content_attributes: 'object',
  created_at: 'number',
  conversation_id: 'number',
};
/** The raw Contact record (`contact.as_json`): its columns. */
const CONTACT_RECORD: Spec = {
  id: 'number',
  name: 'string',
  email: 'string|null',
  phone_number: 'string|null',
  account_id: 'number',
  created_at: 'string',
  updated_at: 'string',
  additional_attributes: 'object',
  identifier: 'string|null',
  custom_attributes: 'object',
  last_activity_at: 'string|null',
  blocked: 'boolean',
};
const PUBLIC_CONVERSATION: Spec = {
  id: 'number',
  uuid: 'string',
  inbox_id: 'number',
  contact_last_seen_at: 'number',
  status: 'string',
  agent_last_seen_at: 'number',
  messages: 'array',
  contact: CONTACT_RECORD,
};

describeEachDb('wire conformance: every documented key with its JSON type', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  let accountId: number;
  let admin: TestUser;
  let agent: TestUser;
  let inbox: Awaited<ReturnType<TestServer['inbox']>>;
  let base: string;
  // The seed flow's results.
  let created: any; // POST /contacts body
  let conversation: any; // POST /conversations body
  let incoming: any; // POST messages (incoming) body
  let reply: any; // outgoing reply body
  let note: any; // private note body

  beforeAll(async () => {
    h = await startTestServer(dialect);
    rx = await startReceiver();
    ({ accountId, admin } = await h.account({ name: 'Acme' }));
    agent = await h.user(accountId, { name: 'Agent Smith' });
    inbox = await h.inbox(accountId, { name: 'API Channel', webhook_url: rx.url, members: [agent.id] });
    base = `/api/v1/accounts/${accountId}`;

    const c = await h.api('POST', `${base}/contacts`, { token: admin.token, body: { inbox_id: inbox.id, name: 'Contact' } });
    expect(c.status, c.text).toBe(200);
    created = c.body;
    const conv = await h.api('POST', `${base}/conversations`, { token: admin.token, body: { source_id: created.payload.contact_inbox.source_id } });
    expect(conv.status, conv.text).toBe(200);
    conversation = conv.body;
    const post = async (token: string, body: Record<string, unknown>) => {
      const r = await h.api('POST', `${base}/conversations/${conversation.id}/messages`, { token, body });
      expect(r.status, r.text).toBe(200);
      return r.body;
    };
    incoming = await post(admin.token, { content: SEED_MESSAGE.content, message_type: 'incoming' });
    reply = await post(agent.token, { content: 'Hello from support', message_type: 'outgoing' });
    note = await post(agent.token, { content: 'internal only', private: true });
  });
  afterEach(() => disconnectAll());
  afterAll(async () => {
    await rx?.close();
    await h?.close();
  });

  const get = async (url: string, token = admin.token) => {
    const r = await h.api('GET', url, { token });
    expect(r.status, `${url}: ${r.text}`).toBe(200);
    return r.body;
  };

  it('POST /contacts: {payload:{contact:{…_contact, contact_inboxes}, contact_inbox:{inbox, source_id}}}', () => {
    expectShape(created, { payload: { contact: { ...CONTACT, contact_inboxes: 'array' }, contact_inbox: { inbox: 'object', source_id: 'string' } } }, 'POST /contacts');
    const { contact, contact_inbox } = created.payload;
    int(contact.id, 'contact.id');
    expect(contact.contact_inboxes).toHaveLength(1);
    expectShape(contact.contact_inboxes[0], CONTACT_INBOX, 'contact_inboxes[0]');
    expect(contact.contact_inboxes[0].inbox).toMatchObject({ id: inbox.id, name: 'API Channel', channel_type: 'Channel::Api' });
    expectShape(contact_inbox.inbox, { id: 'number', channel_id: 'number', account_id: 'number', name: 'string', channel_type: 'string' }, 'contact_inbox.inbox');
    expect(contact_inbox.source_id).toBe(contact.contact_inboxes[0].source_id);
  });

  it('GET /contacts/:id and GET /contacts: _contact in {payload} and {meta:{count,current_page}, payload}', async () => {
    const one = await get(`${base}/contacts/${created.payload.contact.id}`);
    expectShape(one, { payload: CONTACT }, 'GET /contacts/:id');
    // Listed contacts need an email, phone or identifier (reference §2): add one.
    const upd = await h.api('PATCH', `${base}/contacts/${created.payload.contact.id}`, { token: admin.token, body: { email: 'contact@example.com' } });
    expect(upd.status, upd.text).toBe(200);
    expectShape(upd.body, { payload: CONTACT }, 'PATCH /contacts/:id');
    const list = await get(`${base}/contacts`);
    expectShape(list, { meta: { count: 'number', current_page: 'number|string' }, payload: 'array' }, 'GET /contacts');
    expect(list.payload.length).toBeGreaterThan(0);
    for (const c of list.payload) expectShape(c, CONTACT, 'GET /contacts payload[]');
    const search = await get(`${base}/contacts/search?q=contact`);
    expectShape(search, { meta: { count: 'number', current_page: 'number|string', has_more: 'boolean' }, payload: 'array' }, 'GET /contacts/search');
    expect(search.payload.length).toBeGreaterThan(0);
    for (const c of search.payload) expectShape(c, CONTACT, 'GET /contacts/search payload[]');
    const convs = await get(`${base}/contacts/${created.payload.contact.id}/conversations`);
    expectShape(convs, { payload: 'array' }, 'GET /contacts/:id/conversations');
    expectShape(convs.payload[0], CONVERSATION, 'GET /contacts/:id/conversations payload[0]');
    const ci = await h.api('POST', `${base}/contacts/${created.payload.contact.id}/contact_inboxes`, { token: admin.token, body: { inbox_id: inbox.id } });
    expect(ci.status, ci.text).toBe(200);
    expectShape(ci.body, CONTACT_INBOX, 'POST /contacts/:id/contact_inboxes');
  });

  it('contact labels, active, filter and destroy_custom_attributes: {payload:[title]}, the list envelope, {payload:_contact}', async () => {
    const id = created.payload.contact.id;
    const set = await h.api('POST', `${base}/contacts/${id}/labels`, { token: admin.token, body: { labels: ['vip'] } });
    expect(set.status, set.text).toBe(200);
    expectShape(set.body, { payload: 'array' }, 'POST /contacts/:id/labels');
    expect(set.body.payload).toEqual(['vip']);
    const labels = await get(`${base}/contacts/${id}/labels`);
    expect(labels).toEqual({ payload: ['vip'] });
    await h.server.ctx.realtime.presence.touch(accountId, 'contact', id);
    const active = await get(`${base}/contacts/active`);
    expectShape(active, { meta: { count: 'number', current_page: 'number|string' }, payload: 'array' }, 'GET /contacts/active');
    expect(active.payload.map((c: any) => c.id)).toEqual([id]);
    expectShape(active.payload[0], { ...CONTACT, availability_status: 'string', contact_inboxes: 'array' }, 'GET /contacts/active payload[0]');
    expect(active.payload[0].availability_status).toBe('online');
    const filter = await h.api('POST', `${base}/contacts/filter`, {
      token: admin.token,
      body: { payload: [{ attribute_key: 'labels', filter_operator: 'equal_to', values: ['vip'], query_operator: null }] },
    });
    expect(filter.status, filter.text).toBe(200);
    expectShape(filter.body, { meta: { count: 'number', current_page: 'number|string' }, payload: 'array' }, 'POST /contacts/filter');
    expectShape(filter.body.payload[0], CONTACT, 'POST /contacts/filter payload[0]');
    const destroyed = await h.api('POST', `${base}/contacts/${id}/destroy_custom_attributes`, { token: admin.token, body: { custom_attributes: ['none'] } });
    expect(destroyed.status, destroyed.text).toBe(200);
    expectShape(destroyed.body, { payload: { ...CONTACT, contact_inboxes: 'array' } }, 'POST /contacts/:id/destroy_custom_attributes');
  });

  it('conversation JSON (_conversation incl. meta) from create, show and the list envelope', async () => {
    expectShape(conversation, CONVERSATION, 'POST /conversations');
    int(conversation.id, 'conversation.id');
    expect(conversation.meta.channel).toBe('Channel::Api');
    const show = await get(`${base}/conversations/${conversation.id}`);
    expectShape(show, CONVERSATION, 'GET /conversations/:id');
    expect(show.messages).toHaveLength(1);
    expectShape(show.messages[0], MESSAGE_PUSH, 'conversation.messages[0]');
    expectShape(show.last_non_activity_message, MESSAGE_PUSH, 'conversation.last_non_activity_message');

    const list = await get(`${base}/conversations`);
    expectShape(
      list,
      { data: { meta: { mine_count: 'number', assigned_count: 'number', unassigned_count: 'number', all_count: 'number' }, payload: 'array' } },
      'GET /conversations',
    );
    expect(list.data.payload.map((c: any) => c.id)).toEqual([conversation.id]);
    expectShape(list.data.payload[0], CONVERSATION, 'GET /conversations payload[0]');
    const meta = await get(`${base}/conversations/meta`);
    expectShape(meta, { meta: { mine_count: 'number', assigned_count: 'number', unassigned_count: 'number', all_count: 'number' } }, 'GET /conversations/meta');

    // search and filter: {meta: {counts…}, payload} with no data wrapper (reference search/filter.json).
    const COUNTS = { mine_count: 'number', unassigned_count: 'number', all_count: 'number' };
    const search = await get(`${base}/conversations/search?q=${encodeURIComponent('incoming message')}`);
    expectShape(search, { meta: COUNTS, payload: 'array' }, 'GET /conversations/search');
    expect(search.payload.map((c: any) => c.id)).toEqual([conversation.id]);
    expectShape(search.payload[0], CONVERSATION, 'GET /conversations/search payload[0]');
    const filter = await h.api('POST', `${base}/conversations/filter`, {
      token: admin.token,
      body: { payload: [{ attribute_key: 'status', filter_operator: 'equal_to', values: ['open'], query_operator: null }] },
    });
    expect(filter.status, filter.text).toBe(200);
    expectShape(filter.body, { meta: COUNTS, payload: 'array' }, 'POST /conversations/filter');
    expectShape(filter.body.payload[0], CONVERSATION, 'POST /conversations/filter payload[0]');
    const attachments = await get(`${base}/conversations/${conversation.id}/attachments`);
    expectShape(attachments, { meta: { total_count: 'number' }, payload: 'array' }, 'GET /conversations/:id/attachments');
  });

  it('message JSON: the seed example exactly, an outgoing reply and a private note', () => {
    expectShape(incoming, MESSAGE, 'incoming message');
    expect(incoming).toMatchObject({
      content: SEED_MESSAGE.content,
      inbox_id: inbox.id,
      conversation_id: conversation.id,
      message_type: 0,
      content_type: null,
      content_attributes: {},
      private: false,
      sender: { id: created.payload.contact.id, name: 'Contact', type: 'contact' },
    });
    int(incoming.id, 'message.id');
    int(incoming.message_type, 'message.message_type');
    int(incoming.created_at, 'message.created_at');
    expectShape(incoming.sender, CONTACT_PUSH, 'incoming.sender');

    expectShape(reply, MESSAGE, 'outgoing reply');
    expect(reply).toMatchObject({ message_type: 1, private: false, content_type: null, status: 'sent', sender: { id: agent.id, type: 'user', name: 'Agent Smith' } });
    expectShape(reply.sender, USER_PUSH, 'reply.sender');

    expectShape(note, MESSAGE, 'private note');
    expect(note).toMatchObject({ message_type: 1, private: true, sender: { id: agent.id, type: 'user' } });
  });

  it('messages list: {meta:{labels, additional_attributes, contact, agent_last_seen_at, assignee_last_seen_at}, payload:[_message]}', async () => {
    const list = await get(`${base}/conversations/${conversation.id}/messages`);
    expectShape(
      list,
      {
        meta: { labels: 'array', additional_attributes: 'object', contact: CONTACT_PUSH, agent_last_seen_at: 'string|null', assignee_last_seen_at: 'string|null' },
        payload: 'array',
      },
      'GET messages',
    );
    expect(list.payload.map((m: any) => m.id)).toEqual(expect.arrayContaining([incoming.id, reply.id, note.id]));
    for (const m of list.payload) expectShape(m, MESSAGE, `GET messages payload[${m.id}]`);
    const seed = list.payload.find((m: any) => m.id === incoming.id);
    expect(seed).toMatchObject({ message_type: 0, content_type: null, content_attributes: {}, private: false, sender: { type: 'contact', name: 'Contact' } });

    // Here (unlike the conversation JSON) the reference renders the last-seen columns as raw datetimes: ISO strings.
    const seenAt = Date.UTC(2026, 0, 2, 3, 4, 5, 600);
    await h.server.ctx.database.db.updateTable('conversations').set({ agent_last_seen_at: seenAt, assignee_last_seen_at: seenAt }).where('account_id', '=', accountId).execute();
    const seen = await get(`${base}/conversations/${conversation.id}/messages`);
    expect(seen.meta).toMatchObject({ agent_last_seen_at: '2026-01-02T03:04:05.600Z', assignee_last_seen_at: '2026-01-02T03:04:05.600Z' });
    const shown = await get(`${base}/conversations/${conversation.id}`);
    expect(shown).toMatchObject({ agent_last_seen_at: Math.floor(seenAt / 1000), assignee_last_seen_at: Math.floor(seenAt / 1000) });
  });

  it('inbox JSON: administrators see hmac_token and secret, agents do not', async () => {
    const asAdmin = await get(`${base}/inboxes/${inbox.id}`);
    expectShape(asAdmin, { ...INBOX, hmac_token: 'string', secret: 'string' }, 'GET /inboxes/:id (admin)');
    expect(asAdmin).toMatchObject({ channel_type: 'Channel::Api', webhook_url: rx.url, inbox_identifier: inbox.identifier });
    const listAdmin = await get(`${base}/inboxes`);
    expectShape(listAdmin, { payload: 'array' }, 'GET /inboxes (admin)');
    expectShape(listAdmin.payload[0], { ...INBOX, hmac_token: 'string', secret: 'string' }, 'GET /inboxes payload[0] (admin)');

    const asAgent = await get(`${base}/inboxes/${inbox.id}`, agent.token);
    expectShape(asAgent, INBOX, 'GET /inboxes/:id (agent)');
    expect(asAgent).not.toHaveProperty('hmac_token');
    expect(asAgent).not.toHaveProperty('secret');
    const listAgent = await get(`${base}/inboxes`, agent.token);
    expect(listAgent.payload.map((i: any) => i.id)).toEqual([inbox.id]);
    expectShape(listAgent.payload[0], INBOX, 'GET /inboxes payload[0] (agent)');
    expect(listAgent.payload[0]).not.toHaveProperty('secret');
  });

  it('agent JSON (GET /agents is a bare array; inbox members {payload}) and profile JSON', async () => {
    const agents = await get(`${base}/agents`);
    expect(Array.isArray(agents)).toBe(true);
    for (const a of agents) expectShape(a, AGENT, `GET /agents[${a.id}]`);
    expect(agents.find((a: any) => a.id === agent.id)).toMatchObject({ role: 'agent', name: 'Agent Smith' });
    const members = await get(`${base}/inbox_members/${inbox.id}`);
    expectShape(members, { payload: 'array' }, 'GET /inbox_members/:id');
    for (const a of members.payload) expectShape(a, AGENT, 'inbox member');

    const profile = await get('/api/v1/profile');
    expectShape(profile, PROFILE, 'GET /profile');
    expect(profile.accounts).toHaveLength(1);
    expectShape(profile.accounts[0], PROFILE_ACCOUNT, 'profile.accounts[0]');
    expect(profile).toMatchObject({ id: admin.id, access_token: admin.token, pubsub_token: admin.pubsub_token, account_id: accountId, role: 'administrator', type: 'user' });
  });

  it('teams, labels, canned responses: _team (bare arrays), team members, assignments {team_id}, meta.team, _label in {payload}, meta.labels, _canned_response', async () => {
    const TEAM: Spec = { id: 'number', name: 'string', description: 'string|null', allow_auto_assign: 'boolean', account_id: 'number', is_member: 'boolean' };
    const post = async (url: string, body: unknown) => {
      const r = await h.api('POST', url, { token: admin.token, body });
      expect(r.status, `${url}: ${r.text}`).toBe(200);
      return r.body;
    };
    const team = await post(`${base}/teams`, { team: { name: 'Shapes' } });
    expectShape(team, TEAM, 'POST /teams');
    const teams = await get(`${base}/teams`, agent.token);
    expect(Array.isArray(teams)).toBe(true);
    expectShape(teams[0], TEAM, 'GET /teams[0]');
    const members = await post(`${base}/teams/${team.id}/team_members`, { user_ids: [agent.id] });
    expect(Array.isArray(members)).toBe(true);
    expectShape(members[0], AGENT, 'POST /teams/:id/team_members[0]');
    expectShape((await get(`${base}/teams/${team.id}/team_members`))[0], AGENT, 'GET /teams/:id/team_members[0]');
    expectShape(await post(`${base}/conversations/${conversation.id}/assignments`, { team_id: team.id }), TEAM, 'POST assignments {team_id}');
    const shown = await get(`${base}/conversations/${conversation.id}`);
    expectShape(shown, CONVERSATION, 'GET /conversations/:id with a team');
    expectShape(shown.meta.team, { id: 'number', name: 'string', description: 'string|null', allow_auto_assign: 'boolean', account_id: 'number' }, 'meta.team');

    const LABEL: Spec = { id: 'number', title: 'string', description: 'string|null', color: 'string', show_on_sidebar: 'boolean' };
    expectShape(await post(`${base}/labels`, { label: { title: 'shapes', color: '#123456' } }), LABEL, 'POST /labels');
    const labels = await get(`${base}/labels`, agent.token);
    expectShape(labels, { payload: 'array' }, 'GET /labels');
    expectShape(labels.payload[0], LABEL, 'GET /labels payload[0]');
    const meta = await get(`${base}/conversations/meta`);
    expectShape(meta, { meta: { mine_count: 'number', all_count: 'number', inboxes: 'array', labels: 'array' } }, 'GET /conversations/meta');
    expectShape(meta.meta.labels[0], { id: 'number', title: 'string', open_count: 'number', unread_count: 'number' }, 'meta.labels[0]');

    const CANNED: Spec = { id: 'number', account_id: 'number', short_code: 'string', content: 'string', created_at: 'string', updated_at: 'string' };
    expectShape(await post(`${base}/canned_responses`, { canned_response: { short_code: 'shapes', content: 'Hello' } }), CANNED, 'POST /canned_responses');
    const canned = await get(`${base}/canned_responses?search=shap`, agent.token);
    expect(Array.isArray(canned)).toBe(true);
    expectShape(canned[0], CANNED, 'GET /canned_responses[0]');
    // Leave the shared conversation as the other tests expect it.
    await post(`${base}/conversations/${conversation.id}/assignments`, { team_id: 0 });
  });

  it('toggle_status: {meta:{}, payload:{success, conversation_id, current_status, snoozed_until}}', async () => {
    const spec: Spec = { meta: 'object', payload: { success: 'boolean', conversation_id: 'number', current_status: 'string', snoozed_until: 'null|number|string' } };
    const r = await h.api('POST', `${base}/conversations/${conversation.id}/toggle_status`, { token: admin.token, body: { status: 'resolved' } });
    expect(r.status, r.text).toBe(200);
    expectShape(r.body, spec, 'toggle_status');
    expect(r.body).toEqual({ meta: {}, payload: { success: true, conversation_id: conversation.id, current_status: 'resolved', snoozed_until: null } });
    const back = await h.api('POST', `${base}/conversations/${conversation.id}/toggle_status`, { token: admin.token });
    expect(back.status, back.text).toBe(200);
    expect(back.body.payload).toMatchObject({ current_status: 'open' });
  });

  it('update_last_seen, unread, custom_attributes, destroy_custom_attributes, retry and the empty bodies of mute, unmute and DELETE', async () => {
    // A conversation of its own, in an inbox without a callback: muting blocks its contact, DELETE removes it.
    const quiet = await h.inbox(accountId, { name: 'Quiet' });
    const c = await h.api('POST', `${base}/contacts`, { token: admin.token, body: { inbox_id: quiet.id, name: 'Shape Visitor' } });
    expect(c.status, c.text).toBe(200);
    const conv = await h.api('POST', `${base}/conversations`, { token: admin.token, body: { source_id: c.body.payload.contact_inbox.source_id } });
    expect(conv.status, conv.text).toBe(200);
    const one = `${base}/conversations/${conv.body.id}`;
    const post = async (path: string, body?: unknown) => {
      const r = await h.api('POST', `${one}${path}`, { token: admin.token, body });
      expect(r.status, `${path}: ${r.text}`).toBe(200);
      return r;
    };
    expect((await post('/messages', { content: 'hello', message_type: 'incoming' })).body.message_type).toBe(0);
    // ChannelX answers these two with the conversation (the reference with no body).
    for (const action of ['/update_last_seen', '/unread']) {
      const r = await post(action);
      expectShape(r.body, CONVERSATION, `POST ${action}`);
      expect(r.body.id).toBe(conv.body.id);
    }
    const set = await post('/custom_attributes', { custom_attributes: { plan: 'pro', seats: 3 } });
    expectShape(set.body, { custom_attributes: { plan: 'string', seats: 'number' } }, 'POST custom_attributes');
    const left = await post('/destroy_custom_attributes', { custom_attributes: ['plan'] });
    expect(left.body).toEqual({ custom_attributes: { seats: 3 } });

    const out = await post('/messages', { content: 'a reply', message_type: 'outgoing' });
    const failed = await h.api('PATCH', `${one}/messages/${out.body.id}`, { token: admin.token, body: { status: 'failed', external_error: 'gateway down' } });
    expect(failed.status, failed.text).toBe(200);
    const retried = await post(`/messages/${out.body.id}/retry`);
    expectShape(retried.body, MESSAGE, 'POST …/messages/:id/retry');
    expect(retried.body).toMatchObject({ id: out.body.id, status: 'sent', message_type: 1 });

    for (const action of ['/mute', '/unmute']) expect((await post(action)).text, action).toBe('');
    const del = await h.api('DELETE', one, { token: admin.token });
    expect([del.status, del.text]).toEqual([200, '']);
  });

  it('client API: inbox, contact, conversation and message shapes', async () => {
    const pub = `/public/api/v1/inboxes/${inbox.identifier}`;
    const papi = async (method: string, url: string, body?: unknown) => {
      const r = await h.api(method, `${pub}${url}`, body === undefined ? {} : { body });
      expect(r.status, `${method} ${url}: ${r.text}`).toBe(200);
      return r.body;
    };
    expectShape(await papi('GET', ''), PUBLIC_INBOX, 'public inbox');
    const contact = await papi('POST', '/contacts', { name: 'Widget User', email: 'widget@example.com' });
    expectShape(contact, PUBLIC_CONTACT, 'public contact (create)');
    const src = contact.source_id;
    expectShape(await papi('GET', `/contacts/${src}`), PUBLIC_CONTACT, 'public contact (show)');
    expectShape(await papi('PATCH', `/contacts/${src}`, { name: 'Widget User 2' }), PUBLIC_CONTACT, 'public contact (update)');

    const conv = await papi('POST', `/contacts/${src}/conversations`, {});
    expectShape(conv, PUBLIC_CONVERSATION, 'public conversation (create)');
    const msg = await papi('POST', `/contacts/${src}/conversations/${conv.id}/messages`, { content: 'hi from the widget' });
    expectShape(msg, PUBLIC_MESSAGE, 'public message (create)');
    expect(msg).toMatchObject({ content: 'hi from the widget', message_type: 0, conversation_id: conv.id, sender: { type: 'contact' } });
    expectShape(msg.sender, CONTACT_PUSH, 'public message sender');

    const list = await papi('GET', `/contacts/${src}/conversations`);
    expect(Array.isArray(list)).toBe(true);
    expectShape(list[0], PUBLIC_CONVERSATION, 'public conversations[0]');
    expectShape(list[0].messages[0], PUBLIC_MESSAGE, 'public conversations[0].messages[0]');
    expectShape(await papi('GET', `/contacts/${src}/conversations/${conv.id}`), PUBLIC_CONVERSATION, 'public conversation (show)');
    const msgs = await papi('GET', `/contacts/${src}/conversations/${conv.id}/messages`);
    expect(Array.isArray(msgs)).toBe(true);
    for (const m of msgs) expectShape(m, PUBLIC_MESSAGE, 'public messages[]');
    expectShape(await papi('POST', `/contacts/${src}/conversations/${conv.id}/toggle_status`), PUBLIC_CONVERSATION, 'public toggle_status');
  });

  it('the message_created callback body has the seed example keys and types', async () => {
    await waitUntil(() => rx.requests.some((r) => r.json?.event === 'message_created' && r.json?.id === incoming.id), 10_000, 'message_created');
    const body = rx.requests.find((r) => r.json?.event === 'message_created' && r.json?.id === incoming.id)!.json;
    expectShape(
      body,
      {
        id: 'number',
        content: 'string',
        message_type: 'string',
        sender: { id: 'number', name: 'string', type: 'string' },
        inbox: { id: 'number', name: 'string' },
        conversation: { channel: 'string', id: 'number', inbox_id: 'number', status: 'string' },
        event: 'string',
        // reference §4 message.webhook_data
        account: { id: 'number', name: 'string' },
        additional_attributes: 'object',
        content_attributes: 'object',
        content_type: 'string|null',
        created_at: 'string',
        private: 'boolean',
        source_id: 'string|null',
      },
      'message_created webhook',
    );
    expect(body).toMatchObject({
      id: incoming.id,
      content: SEED_MESSAGE.content,
      message_type: 'incoming',
      sender: { id: created.payload.contact.id, name: 'Contact', type: 'contact' },
      inbox: { id: inbox.id, name: 'API Channel' },
      conversation: { channel: 'Channel::Api', id: conversation.id, inbox_id: inbox.id, status: 'open' },
      event: 'message_created',
    });
    expectShape(
      body.sender,
      { account: 'object', additional_attributes: 'object', avatar: 'string', custom_attributes: 'object', email: 'string|null', identifier: 'string|null', phone_number: 'string|null', thumbnail: 'string', blocked: 'boolean' },
      'message_created sender (contact.webhook_data)',
    );
    // reference §4 conversation.webhook_data
    expectShape(
      body.conversation,
      {
        additional_attributes: 'object',
        can_reply: 'boolean',
        contact_inbox: { id: 'number', source_id: 'string' },
        messages: 'array',
        labels: 'array',
        meta: { sender: CONTACT_PUSH, assignee: 'object|null', assignee_type: 'string|null', team: 'object|null', hmac_verified: 'boolean' },
        custom_attributes: 'object',
        snoozed_until: 'null|string',
        unread_count: 'number',
        first_reply_created_at: 'null|string',
        priority: 'string|null',
        waiting_since: 'number',
        agent_last_seen_at: 'number',
        contact_last_seen_at: 'number',
        last_activity_at: 'number',
        timestamp: 'number',
        created_at: 'number',
        updated_at: 'number',
        account: { id: 'number', name: 'string' },
      },
      'message_created conversation',
    );
    expect(body.conversation.messages).toHaveLength(1);
    expectShape(body.conversation.messages[0], MESSAGE_PUSH, 'message_created conversation.messages[0]');
    int(body.conversation.messages[0].message_type, 'webhook conversation.messages[0].message_type');
    // The outgoing reply and the private note fire too, with the string message_type.
    await waitUntil(() => rx.requests.filter((r) => r.json?.event === 'message_created').length >= 3, 10_000, 'three message_created');
    const replyBody = rx.requests.find((r) => r.json?.event === 'message_created' && r.json?.id === reply.id)!.json;
    expect(replyBody).toMatchObject({ message_type: 'outgoing', private: false, sender: { id: agent.id, type: 'user' } });
    expectShape(replyBody.sender, { id: 'number', name: 'string', email: 'string', type: 'string' }, 'reply webhook sender');
    // The reply is the first reply: a raw datetime (ISO string) in webhook data, unix seconds in the conversation JSON.
    expect(replyBody.conversation.first_reply_created_at).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
    const shown = await get(`${base}/conversations/${conversation.id}`);
    int(shown.first_reply_created_at, 'conversation.first_reply_created_at');
    expect(shown.first_reply_created_at).toBe(Math.floor(Date.parse(replyBody.conversation.first_reply_created_at) / 1000));
  });

  it('/cable message.created push data to the contact', async () => {
    const sub = await subscribe(consumer(h), { pubsub_token: created.payload.contact_inbox.pubsub_token });
    expect(sub.state).toBe('connected');
    const r = await h.api('POST', `${base}/conversations/${conversation.id}/messages`, { token: agent.token, body: { content: 'live reply' } });
    expect(r.status, r.text).toBe(200);
    const m = await sub.next('message.created', (x) => x.data.id === r.body.id);
    expectShape(m.data, MESSAGE_PUSH, 'message.created data');
    int(m.data.message_type, 'push message_type');
    int(m.data.created_at, 'push created_at');
    expect(m.data).toMatchObject({ message_type: 1, conversation_id: conversation.id, sender: { id: agent.id, type: 'user' } });
    expectShape(m.data.sender, USER_PUSH, 'message.created sender');
  });
});

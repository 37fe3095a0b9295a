import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, NO_RATE_LIMITS, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { eventsSince, lastEventId } from '../support/conversations.js';
import { apiContact, apiConversation, apiMessage, consumer, disconnectAll, subscribe, until } from '../realtime/cable.js';

/**
 * Issue 12, conversations and messages against the reference's request specs: search, filter,
 * literal routes before /:id, mute/unmute, destroy_custom_attributes, attachments, DELETE,
 * conversation_type=unattended and the reference's types for unset values.
 */
describeEachDb('conversations parity', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let admin: TestUser;
  let grace: TestUser; // administrator with a name
  let ada: TestUser; // agent, member of `inbox` only
  let inbox: Awaited<ReturnType<TestServer['inbox']>>;
  let other: Awaited<ReturnType<TestServer['inbox']>>; // ada is not a member

  beforeAll(async () => {
    h = await startTestServer(dialect, NO_RATE_LIMITS);
    ({ accountId, admin } = await h.account());
    grace = await h.user(accountId, { name: 'Grace Hopper', role: 'administrator' });
    ada = await h.user(accountId, { name: 'Ada Lovelace' });
    inbox = await h.inbox(accountId, { members: [ada.id] });
    other = await h.inbox(accountId, { name: 'Other' });
  });
  afterAll(() => h.close());

  const base = () => `/api/v1/accounts/${accountId}`;
  const api = (method: string, path: string, token: string, body?: unknown) => h.api(method, `${base()}${path}`, { token, body });

  async function conversation(opts: { name?: string; email?: string; phone_number?: string; inboxId?: number; message?: string } = {}) {
    const c = await api('POST', '/contacts', admin.token, {
      inbox_id: opts.inboxId ?? inbox.id,
      name: opts.name ?? 'Visitor',
      ...(opts.email ? { email: opts.email } : {}),
      ...(opts.phone_number ? { phone_number: opts.phone_number } : {}),
    });
    expect(c.status, c.text).toBe(200);
    const conv = await api('POST', '/conversations', admin.token, { source_id: c.body.payload.contact_inbox.source_id, inbox_id: opts.inboxId ?? inbox.id });
    expect(conv.status, conv.text).toBe(200);
    if (opts.message) {
      const m = await api('POST', `/conversations/${conv.body.id}/messages`, admin.token, { content: opts.message, message_type: 'incoming' });
      expect(m.status, m.text).toBe(200);
    }
    return { id: conv.body.id as number, contactId: c.body.payload.contact.id as number, sourceId: c.body.payload.contact_inbox.source_id as string };
  }
  const show = async (id: number, token = admin.token) => (await api('GET', `/conversations/${id}`, token)).body;
  const lines = async (id: number) =>
    ((await api('GET', `/conversations/${id}/messages`, admin.token)).body.payload as any[]).filter((m) => m.message_type === 2).map((m) => m.content);

  describe('literal segments win over /:conversation_id', () => {
    it('GET /conversations/search, /meta and POST /filter are routes of their own; a non-numeric id is a 404 as in the reference', async () => {
      await conversation({ message: 'routing check' });
      const search = await api('GET', '/conversations/search?q=routing', admin.token);
      expect(search.status, search.text).toBe(200);
      expect(search.body.payload).toHaveLength(1);
      expect((await api('GET', '/conversations/search/', admin.token)).status).toBe(422); // q missing, not "id must be integer"
      expect((await api('GET', '/conversations/search/', admin.token)).body.error).toBe('Specify search string with parameter q');
      expect((await api('GET', '/conversations/meta', admin.token)).status).toBe(200);
      const filter = await api('POST', '/conversations/filter', admin.token, { payload: [{ attribute_key: 'status', filter_operator: 'equal_to', values: ['all'] }] });
      expect(filter.status, filter.text).toBe(200);
      expect((await api('POST', '/conversations/filter', admin.token, { payload: [] })).body.error).toMatch(/payload/);
      const bad = await api('GET', '/conversations/abc', admin.token);
      expect(bad.status).toBe(404);
      expect(bad.body).toEqual({ error: 'Resource could not be found' });
    });
  });

  describe('GET /conversations/search', () => {
    it('matches message text and the contact name, e-mail and phone, in every status, case-insensitively', async () => {
      const byText = await conversation({ message: 'My parcel ZEBRA-4411 never arrived' });
      const byName = await conversation({ name: 'Quentin Zebrowski' });
      const byEmail = await conversation({ email: 'zed.zebra@example.org' });
      const byPhone = await conversation({ phone_number: '+4915112349876' });
      const none = await conversation({ name: 'Nobody', message: 'hello there' });
      expect((await api('POST', `/conversations/${byText.id}/toggle_status`, admin.token, { status: 'resolved' })).status).toBe(200);

      const r = await api('GET', '/conversations/search?q=ZEBR', admin.token);
      expect(r.status).toBe(200);
      const ids = r.body.payload.map((c: any) => c.id).sort((a: number, b: number) => a - b);
      expect(ids).toEqual([byText.id, byName.id, byEmail.id].sort((a, b) => a - b));
      expect(ids).not.toContain(none.id);
      expect(r.body.meta).toMatchObject({ all_count: 3, unassigned_count: 3, mine_count: 0, assigned_count: 0, current_page: 1, total_pages: 1 });
      expect(r.body).not.toHaveProperty('data');
      expect(r.body.payload.find((c: any) => c.id === byText.id).status).toBe('resolved');

      expect((await api('GET', '/conversations/search?q=12349876', admin.token)).body.payload.map((c: any) => c.id)).toEqual([byPhone.id]);
      // status narrows when given
      expect((await api('GET', '/conversations/search?q=zebr&status=open', admin.token)).body.payload).toHaveLength(2);
      // Activity lines are not searched (only incoming and outgoing text).
      expect((await api('GET', '/conversations/search?q=marked%20resolved', admin.token)).body.payload).toEqual([]);
      // LIKE wildcards are literal
      expect((await api('GET', '/conversations/search?q=%25', admin.token)).body.payload).toEqual([]);
      expect((await api('GET', '/conversations/search?q=%20%20', admin.token)).status).toBe(422);
    });

    it('is scoped to the account and to the inboxes an agent may see', async () => {
      const mine = await conversation({ message: 'scopecheck in my inbox' });
      const hidden = await conversation({ message: 'scopecheck elsewhere', inboxId: other.id });
      const foreign = await h.account();
      const foreignInbox = await h.inbox(foreign.accountId);
      const fc = await h.api('POST', `/api/v1/accounts/${foreign.accountId}/contacts`, { token: foreign.admin.token, body: { inbox_id: foreignInbox.id, name: 'scopecheck' } });
      expect(fc.status).toBe(200);

      const asAdmin = await api('GET', '/conversations/search?q=scopecheck', admin.token);
      expect(asAdmin.body.payload.map((c: any) => c.id).sort()).toEqual([mine.id, hidden.id].sort());
      const asAgent = await api('GET', '/conversations/search?q=scopecheck', ada.token);
      expect(asAgent.status).toBe(200);
      expect(asAgent.body.payload.map((c: any) => c.id)).toEqual([mine.id]);
      expect(asAgent.body.meta.all_count).toBe(1);
      // Another account's search path is refused.
      expect((await h.api('GET', `/api/v1/accounts/${foreign.accountId}/conversations/search?q=scopecheck`, { token: admin.token })).status).toBe(401);
    });

    it('pages 25 at a time', async () => {
      for (let i = 0; i < 27; i++) await conversation({ name: `Pager ${i}`, message: `pagerword ${i}` });
      const one = await api('GET', '/conversations/search?q=pagerword', admin.token);
      const two = await api('GET', '/conversations/search?q=pagerword&page=2', admin.token);
      expect(one.body.payload).toHaveLength(25);
      expect(two.body.payload).toHaveLength(2);
      expect(one.body.meta).toMatchObject({ all_count: 27, current_page: 1, total_pages: 2 });
      expect(two.body.meta.current_page).toBe(2);
      const seen = new Set([...one.body.payload, ...two.body.payload].map((c: any) => c.id));
      expect(seen.size).toBe(27);
    });
  });

  describe('POST /conversations/filter', () => {
    const filter = (payload: unknown, token = admin.token, query = '') => api('POST', `/conversations/filter${query}`, token, { payload });
    const ids = (r: { body: any }) => (r.body.payload as any[]).map((c) => c.id).sort((a: number, b: number) => a - b);
    let a: { id: number }, b: { id: number }, c: { id: number }, hidden: { id: number };

    beforeAll(async () => {
      a = await conversation({ name: 'Filter A', message: 'a' });
      b = await conversation({ name: 'Filter B', message: 'b' });
      c = await conversation({ name: 'Filter C', message: 'c' });
      hidden = await conversation({ name: 'Filter H', message: 'h', inboxId: other.id });
      await api('POST', `/conversations/${a.id}/labels`, admin.token, { labels: ['fx-vip', 'fx-billing'] });
      await api('POST', `/conversations/${b.id}/labels`, admin.token, { labels: ['fx-billing'] });
      await api('POST', `/conversations/${a.id}/toggle_priority`, admin.token, { priority: 'urgent' });
      await api('POST', `/conversations/${b.id}/assignments`, admin.token, { assignee_id: ada.id });
      await api('POST', `/conversations/${c.id}/toggle_status`, admin.token, { status: 'pending' });
      await api('POST', `/conversations/${c.id}/custom_attributes`, admin.token, { custom_attributes: { fx_plan: 'Gold', fx_seats: 12, fx_trial: true } });
      const h2 = await api('POST', `/conversations/${hidden.id}/labels`, admin.token, { labels: ['fx-billing'] });
      expect(h2.status).toBe(200);
    });

    it('labels, status, priority, assignee and inbox, joined with AND / OR as the reference (AND binds tighter)', async () => {
      const billing = { attribute_key: 'labels', filter_operator: 'equal_to', values: ['fx-billing'], query_operator: null };
      const r = await filter([billing]);
      expect(r.status, r.text).toBe(200);
      expect(ids(r)).toEqual([a.id, b.id, hidden.id].sort((x, y) => x - y));
      expect(r.body.meta).toMatchObject({ all_count: 3, assigned_count: 1, unassigned_count: 2, mine_count: 0, current_page: 1 });
      expect(r.body).not.toHaveProperty('data');

      const urgentBilling = await filter([
        { ...billing, query_operator: 'and' },
        { attribute_key: 'priority', filter_operator: 'equal_to', values: ['urgent'], query_operator: null },
      ]);
      expect(ids(urgentBilling)).toEqual([a.id]);
      // (vip AND urgent) OR pending
      const or = await filter([
        { attribute_key: 'labels', filter_operator: 'equal_to', values: ['fx-vip'], query_operator: 'AND' },
        { attribute_key: 'priority', filter_operator: 'equal_to', values: ['urgent'], query_operator: 'OR' },
        { attribute_key: 'status', filter_operator: 'equal_to', values: ['pending'], query_operator: null },
      ]);
      expect(ids(or)).toEqual([a.id, c.id]);
      expect(ids(await filter([{ attribute_key: 'assignee_id', filter_operator: 'equal_to', values: [ada.id] }]))).toEqual([b.id]);
      expect(ids(await filter([{ attribute_key: 'assignee_id', filter_operator: 'equal_to', values: [String(ada.id)] }]))).toEqual([b.id]);
      const unassignedBilling = await filter([{ ...billing, query_operator: 'and' }, { attribute_key: 'assignee_id', filter_operator: 'is_not_present', values: [] }]);
      expect(ids(unassignedBilling)).toEqual([a.id, hidden.id].sort((x, y) => x - y));
      expect(ids(await filter([{ ...billing, query_operator: 'and' }, { attribute_key: 'inbox_id', filter_operator: 'equal_to', values: [other.id] }]))).toEqual([hidden.id]);
      expect(ids(await filter([{ ...billing, query_operator: 'and' }, { attribute_key: 'labels', filter_operator: 'not_equal_to', values: ['fx-vip'] }]))).toEqual(
        [b.id, hidden.id].sort((x, y) => x - y),
      );
      expect(ids(await filter([{ attribute_key: 'display_id', filter_operator: 'equal_to', values: [c.id] }]))).toEqual([c.id]);
      // status not_equal_to open keeps pending (and resolved) ones
      expect(ids(await filter([{ attribute_key: 'status', filter_operator: 'not_equal_to', values: ['open'], query_operator: 'and' }, { attribute_key: 'display_id', filter_operator: 'equal_to', values: [a.id, c.id] }]))).toEqual([c.id]);
      const team = await api('POST', '/teams', admin.token, { name: `fx-team-${dialect}` });
      expect(team.status, team.text).toBe(200);
      expect((await api('POST', `/conversations/${c.id}/assignments`, admin.token, { team_id: team.body.id })).status).toBe(200);
      expect(ids(await filter([{ attribute_key: 'team_id', filter_operator: 'equal_to', values: [team.body.id] }]))).toEqual([c.id]);
      const teamOrBilling = await filter([{ ...billing, query_operator: 'or' }, { attribute_key: 'team_id', filter_operator: 'is_present', values: [] }]);
      expect(ids(teamOrBilling)).toEqual([a.id, b.id, c.id, hidden.id].sort((x, y) => x - y));
      expect(ids(await filter([{ ...billing, query_operator: 'and' }, { attribute_key: 'team_id', filter_operator: 'is_present', values: [] }]))).toEqual([]);
    });

    it('dates and custom attributes', async () => {
      const today = new Date().toISOString().slice(0, 10);
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      const created = (op: string, v: unknown) => filter([{ attribute_key: 'created_at', filter_operator: op, values: [v], query_operator: 'and' }, { attribute_key: 'display_id', filter_operator: 'equal_to', values: [a.id] }]);
      expect(ids(await created('is_greater_than', yesterday))).toEqual([a.id]);
      expect(ids(await created('is_less_than', today))).toEqual([]);
      expect(ids(await created('days_before', 1))).toEqual([]);

      expect(ids(await filter([{ attribute_key: 'fx_plan', filter_operator: 'equal_to', values: ['gold'] }]))).toEqual([c.id]);
      expect(ids(await filter([{ attribute_key: 'fx_plan', filter_operator: 'contains', values: ['OL'] }]))).toEqual([c.id]);
      expect(ids(await filter([{ attribute_key: 'fx_seats', filter_operator: 'is_greater_than', values: [10] }]))).toEqual([c.id]);
      expect(ids(await filter([{ attribute_key: 'fx_seats', filter_operator: 'is_less_than', values: [10] }]))).toEqual([]);
      expect(ids(await filter([{ attribute_key: 'fx_trial', filter_operator: 'equal_to', values: [true] }]))).toEqual([c.id]);
    });

    it('is scoped to the account and to the inboxes an agent may see, and pages', async () => {
      const billing = [{ attribute_key: 'labels', filter_operator: 'equal_to', values: ['fx-billing'] }];
      const asAgent = await filter(billing, ada.token);
      expect(asAgent.status).toBe(200);
      expect(ids(asAgent)).toEqual([a.id, b.id].sort((x, y) => x - y));
      expect(asAgent.body.meta).toMatchObject({ all_count: 2, mine_count: 1 });
      const foreign = await h.account();
      const theirs = await h.api('POST', `/api/v1/accounts/${foreign.accountId}/conversations/filter`, { token: foreign.admin.token, body: { payload: billing } });
      expect(theirs.status).toBe(200);
      expect(theirs.body.payload).toEqual([]);
      expect((await h.api('POST', `/api/v1/accounts/${foreign.accountId}/conversations/filter`, { token: admin.token, body: { payload: billing } })).status).toBe(401);
      const page2 = await filter(billing, admin.token, '?page=2');
      expect(page2.body.payload).toEqual([]);
      expect(page2.body.meta).toMatchObject({ all_count: 3, current_page: 2 });
    });

    it('422 for an unknown attribute, operator or value, never a 500', async () => {
      const bad = async (payload: unknown, pattern: RegExp) => {
        const r = await filter(payload);
        expect(r.status, JSON.stringify(payload)).toBe(422);
        expect(r.body.message ?? r.body.error).toMatch(pattern);
      };
      await bad([{ attribute_key: 'nonexistent_key', filter_operator: 'equal_to', values: ['x'] }], /Invalid attribute key/);
      await bad([{ attribute_key: 'status', filter_operator: 'contains', values: ['open'] }], /Invalid operator/);
      await bad([{ attribute_key: 'status', filter_operator: 'bogus', values: ['open'] }], /Invalid operator/);
      await bad([{ attribute_key: 'status', filter_operator: 'equal_to', values: ['closed'] }], /status/);
      await bad([{ attribute_key: 'priority', filter_operator: 'equal_to', values: ['meh'] }], /priority/);
      await bad([{ attribute_key: 'assignee_id', filter_operator: 'equal_to', values: ['me'] }], /assignee_id/);
      await bad([{ attribute_key: 'assignee_id', filter_operator: 'equal_to', values: [1.5] }], /assignee_id/);
      await bad([{ attribute_key: 'created_at', filter_operator: 'is_greater_than', values: ['yesterday'] }], /created_at/);
      await bad([{ attribute_key: 'labels', filter_operator: 'equal_to', values: ['x'], query_operator: 'XOR' }, { attribute_key: 'status', filter_operator: 'equal_to', values: ['open'] }], /query_operator/);
      await bad([{ attribute_key: 'status', filter_operator: 'equal_to' }], /value/);
      await bad([{ attribute_key: "x'; drop table conversations; --", filter_operator: 'equal_to', values: ['x'] }], /Invalid attribute key/);
      expect((await api('POST', '/conversations/filter', admin.token, { nope: 1 })).status).toBe(422);
      expect((await api('POST', '/conversations/filter', admin.token, 'not json')).status).toBeGreaterThanOrEqual(400);
      expect((await api('POST', '/conversations/filter', admin.token, 'not json')).status).toBeLessThan(500);
    });
  });

  describe('conversation_type=unattended', () => {
    it('lists conversations without a first reply, or waiting since the last reply', async () => {
      const fresh = await conversation({ name: 'Unattended A', message: 'first question' });
      const answered = await conversation({ name: 'Unattended B', message: 'question' });
      expect((await api('POST', `/conversations/${answered.id}/messages`, admin.token, { content: 'answer' })).status).toBe(200);
      const waitingAgain = await conversation({ name: 'Unattended C', message: 'question' });
      expect((await api('POST', `/conversations/${waitingAgain.id}/messages`, admin.token, { content: 'answer' })).status).toBe(200);
      expect((await api('POST', `/conversations/${waitingAgain.id}/messages`, admin.token, { content: 'one more', message_type: 'incoming' })).status).toBe(200);
      // A private note is no reply.
      const noted = await conversation({ name: 'Unattended D', message: 'question' });
      expect((await api('POST', `/conversations/${noted.id}/messages`, admin.token, { content: 'note', private: true })).status).toBe(200);

      const r = await api('GET', '/conversations?conversation_type=unattended&q=unattended', admin.token);
      expect(r.status).toBe(200);
      const ids = r.body.data.payload.map((c: any) => c.id);
      expect(ids.sort()).toEqual([fresh.id, waitingAgain.id, noted.id].sort());
      expect(r.body.data.meta.all_count).toBe(3);
      expect((await api('GET', '/conversations/meta?conversation_type=unattended&q=unattended', admin.token)).body.meta.all_count).toBe(3);

      // Resolving clears waiting_since (as the reference): the answered-then-waiting one leaves the
      // unattended list of every status; the contact's next message makes it wait again. Muting resolves too.
      const unattended = async () => ((await api('GET', '/conversations?conversation_type=unattended&status=all&q=unattended', admin.token)).body.data.payload as any[]).map((c) => c.id).sort();
      expect((await api('POST', `/conversations/${waitingAgain.id}/toggle_status`, admin.token, { status: 'resolved' })).status).toBe(200);
      expect((await show(waitingAgain.id)).waiting_since).toBe(0);
      expect(await unattended()).toEqual([fresh.id, noted.id].sort());
      expect((await api('POST', `/conversations/${waitingAgain.id}/messages`, admin.token, { content: 'back again', message_type: 'incoming' })).status).toBe(200);
      expect(await show(waitingAgain.id)).toMatchObject({ status: 'open', waiting_since: expect.any(Number) });
      expect((await show(waitingAgain.id)).waiting_since).toBeGreaterThan(0);
      expect(await unattended()).toEqual([fresh.id, waitingAgain.id, noted.id].sort());
      expect((await api('POST', `/conversations/${waitingAgain.id}/mute`, admin.token)).status).toBe(200);
      expect(await show(waitingAgain.id)).toMatchObject({ status: 'resolved', waiting_since: 0 });
      expect(await unattended()).toEqual([fresh.id, noted.id].sort());
      expect((await api('GET', '/conversations?conversation_type=mention', admin.token)).body.data.payload).toEqual([]);
      expect((await api('GET', '/conversations?conversation_type=bogus', admin.token)).status).toBe(422);
    });
  });

  describe('unset values keep the reference types', () => {
    it('meta has no assignee, assignee_type or team when unassigned, and both when assigned; times are numbers', async () => {
      const c = await conversation();
      const unassigned = await show(c.id);
      for (const k of ['assignee', 'assignee_type', 'team']) expect(unassigned.meta).not.toHaveProperty(k);
      for (const k of ['last_activity_at', 'timestamp', 'created_at', 'waiting_since', 'first_reply_created_at', 'agent_last_seen_at']) {
        expect(typeof unassigned[k], k).toBe('number');
      }
      expect((await api('POST', `/conversations/${c.id}/assignments`, admin.token, { assignee_id: ada.id })).status).toBe(200);
      const assigned = await show(c.id);
      expect(assigned.meta).toMatchObject({ assignee: { id: ada.id, name: 'Ada Lovelace' }, assignee_type: 'User' });
      const listed = (await api('GET', '/conversations?assignee_type=unassigned', admin.token)).body.data.payload;
      for (const row of listed) expect(row.meta).not.toHaveProperty('assignee');
    });
  });

  describe('mute and unmute', () => {
    it('mute resolves and blocks the contact, writes its activity line and contact_updated; incoming messages then do not reopen', async () => {
      const c = await conversation({ name: 'Loud Customer', message: 'hi' });
      const before = await lastEventId(h);
      const r = await api('POST', `/conversations/${c.id}/mute`, grace.token);
      expect(r.status).toBe(200);
      expect(r.text).toBe('');
      const muted = await show(c.id);
      expect(muted).toMatchObject({ status: 'resolved', muted: true });
      expect(muted.meta.sender.blocked).toBe(true);
      expect(await lines(c.id)).toEqual(['Conversation was marked resolved by Grace Hopper', 'Grace Hopper has muted the conversation']);
      const evs = await eventsSince(h, before);
      expect(evs.map((e) => e.name)).toContain('contact.updated');
      expect(evs.find((e) => e.name === 'contact.updated')!.payload).toEqual({
        contact_id: c.contactId,
        changed_attributes: [{ blocked: { previous_value: false, current_value: true } }],
      });

      // Muting again changes nothing.
      const again = await lastEventId(h);
      expect((await api('POST', `/conversations/${c.id}/mute`, grace.token)).status).toBe(200);
      expect(await eventsSince(h, again)).toEqual([]);

      // A new message from the contact (Application API or client API) leaves it resolved.
      expect((await api('POST', `/conversations/${c.id}/messages`, admin.token, { content: 'are you there?', message_type: 'incoming' })).status).toBe(200);
      const pub = `/public/api/v1/inboxes/${inbox.identifier}/contacts/${c.sourceId}/conversations/${c.id}/messages`;
      expect((await h.api('POST', pub, { body: { content: 'hello??' } })).status).toBe(200);
      expect((await show(c.id)).status).toBe('resolved');

      // Unmute: the contact is unblocked, the status stays; the next message reopens.
      expect((await api('POST', `/conversations/${c.id}/unmute`, grace.token)).status).toBe(200);
      const unmuted = await show(c.id);
      expect(unmuted).toMatchObject({ status: 'resolved', muted: false });
      expect((await lines(c.id)).at(-1)).toBe('Grace Hopper has unmuted the conversation');
      expect((await api('POST', `/conversations/${c.id}/messages`, admin.token, { content: 'back', message_type: 'incoming' })).status).toBe(200);
      expect((await show(c.id)).status).toBe('open');
    });

    it('needs access to the inbox; another account is 401, an unknown conversation 404', async () => {
      const hidden = await conversation({ inboxId: other.id });
      expect((await api('POST', `/conversations/${hidden.id}/mute`, ada.token)).status).toBe(401);
      expect((await show(hidden.id)).muted).toBe(false);
      expect((await api('POST', '/conversations/999999/mute', admin.token)).status).toBe(404);
      const foreign = await h.account();
      expect((await h.api('POST', `/api/v1/accounts/${foreign.accountId}/conversations/${hidden.id}/mute`, { token: admin.token })).status).toBe(401);
    });
  });

  describe('custom attributes', () => {
    it('destroy_custom_attributes removes the keys sent and returns what is left', async () => {
      const created = await api('POST', '/conversations', admin.token, {
        source_id: (await api('POST', '/contacts', admin.token, { inbox_id: inbox.id, name: 'Attrs' })).body.payload.contact_inbox.source_id,
        inbox_id: inbox.id,
        custom_attributes: { plan: 'pro', seats: 3, region: 'eu' },
      });
      const id = created.body.id;
      const before = await lastEventId(h);
      const r = await api('POST', `/conversations/${id}/destroy_custom_attributes`, admin.token, { custom_attributes: ['plan', 'nope'] });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ custom_attributes: { seats: 3, region: 'eu' } });
      expect((await show(id)).custom_attributes).toEqual({ seats: 3, region: 'eu' });
      const evs = await eventsSince(h, before);
      expect(evs.map((e) => e.name)).toEqual(['conversation.updated']);
      expect(evs[0].payload.changed_attributes).toEqual([
        { custom_attributes: { previous_value: { plan: 'pro', seats: 3, region: 'eu' }, current_value: { seats: 3, region: 'eu' } } },
      ]);
      // A single key as a string (form clients); nothing to remove records nothing.
      expect((await api('POST', `/conversations/${id}/destroy_custom_attributes`, admin.token, { custom_attributes: 'seats' })).body).toEqual({ custom_attributes: { region: 'eu' } });
      const quiet = await lastEventId(h);
      expect((await api('POST', `/conversations/${id}/destroy_custom_attributes`, admin.token, { custom_attributes: ['gone'] })).status).toBe(200);
      expect(await eventsSince(h, quiet)).toEqual([]);
      expect((await api('POST', `/conversations/${id}/destroy_custom_attributes`, admin.token, {})).status).toBe(422);
      expect((await api('POST', `/conversations/${id}/destroy_custom_attributes`, admin.token, { custom_attributes: [{ a: 1 }] })).status).toBe(422);
    });
  });

  describe('GET /conversations/:id/attachments', () => {
    it("answers the reference's shape; empty, as ChannelX stores no files", async () => {
      const c = await conversation({ message: 'no files here' });
      const r = await api('GET', `/conversations/${c.id}/attachments?page=1`, admin.token);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ meta: { total_count: 0 }, payload: [] });
      const hidden = await conversation({ inboxId: other.id });
      expect((await api('GET', `/conversations/${hidden.id}/attachments`, ada.token)).status).toBe(401);
      expect((await api('GET', `/conversations/${c.id}/attachments?page=0`, admin.token)).status).toBe(422);
    });
  });

  describe('DELETE /conversations/:id', () => {
    afterEach(() => disconnectAll());
    it("administrators delete a conversation with its messages and labels in one go; the inbox's agents hear conversation.deleted, contacts and webhooks nothing", async () => {
      // An inbox with a callback: every other event of it is queued for delivery (to a port nobody serves).
      const hooked = await h.inbox(accountId, { name: 'Hooked', members: [ada.id], webhook_url: 'http://127.0.0.1:9/callback' });
      const visitor = await apiContact(h, admin.token, accountId, hooked.id, 'Doomed Visitor');
      const c = await apiConversation(h, admin.token, accountId, hooked.id, visitor);
      await apiMessage(h, admin.token, accountId, c.displayId, { content: 'delete me', message_type: 'incoming' });
      expect((await api('POST', `/conversations/${c.displayId}/labels`, admin.token, { labels: ['gone'] })).status).toBe(200);
      const db = h.server.ctx.database.db;
      expect((await db.selectFrom('messages').select('id').where('conversation_id', '=', c.id).execute()).length).toBeGreaterThan(0);

      // An agent of the inbox may not (401, as on every administrator route of the reference); another account's admin neither.
      const denied = await api('DELETE', `/conversations/${c.displayId}`, ada.token);
      expect([denied.status, denied.body]).toEqual([401, { error: 'You are not authorized to do this action' }]);
      // The role is checked before the conversation is looked up: an unknown id tells an agent nothing more.
      const unknown = await api('DELETE', '/conversations/999999', ada.token);
      expect([unknown.status, unknown.body]).toEqual([401, { error: 'You are not authorized to do this action' }]);
      const foreign = await h.account();
      expect((await h.api('DELETE', `/api/v1/accounts/${accountId}/conversations/${c.displayId}`, { token: foreign.admin.token })).status).toBe(401);
      expect((await h.api('DELETE', `/api/v1/accounts/${foreign.accountId}/conversations/${c.displayId}`, { token: foreign.admin.token })).status).toBe(404);
      expect((await show(c.displayId)).id).toBe(c.displayId);

      const member = await subscribe(consumer(h), { pubsub_token: ada.pubsub_token, account_id: accountId, user_id: ada.id });
      const outsider = await h.user(accountId, { name: 'Not In The Inbox' });
      const stranger = await subscribe(consumer(h), { pubsub_token: outsider.pubsub_token, account_id: accountId, user_id: outsider.id });
      const contact = await subscribe(consumer(h), { pubsub_token: visitor.pubsubToken });
      const before = await lastEventId(h);
      const r = await api('DELETE', `/conversations/${c.displayId}`, grace.token);
      expect(r.status).toBe(200);
      expect(r.text).toBe('');
      expect((await api('GET', `/conversations/${c.displayId}`, admin.token)).status).toBe(404);
      expect(await db.selectFrom('messages').select('id').where('conversation_id', '=', c.id).execute()).toEqual([]);
      expect(await db.selectFrom('conversation_labels').select('id').where('conversation_id', '=', c.id).execute()).toEqual([]);
      const evs = await eventsSince(h, before);
      expect(evs.map((e) => [e.name, e.payload])).toEqual([
        ['conversation.deleted', { conversation_id: c.id, display_id: c.displayId, inbox_id: hooked.id, performer: { type: 'user', id: grace.id } }],
      ]);

      const heard = await member.next('conversation.deleted');
      expect(heard.data).toEqual({ id: c.displayId, inbox_id: hooked.id, account_id: accountId, performer: expect.objectContaining({ type: 'user', id: grace.id, name: 'Grace Hopper' }) });
      // Later events reach the contact and the other agent after any conversation.deleted would have.
      const next = await apiConversation(h, admin.token, accountId, hooked.id, visitor);
      await apiMessage(h, admin.token, accountId, next.displayId, { content: 'still here', message_type: 'outgoing' });
      await contact.next('message.created', (m) => m.data.conversation_id === next.displayId);
      expect(contact.received.map((m) => m.event)).not.toContain('conversation.deleted');
      // The outsider is no member of the inbox: it never hears of the deletion (administrators would).
      await member.next('message.created', (m) => m.data.conversation_id === next.displayId);
      const marker = await apiContact(h, admin.token, accountId, other.id, 'Marker'); // contact.created goes to every agent
      await stranger.next('contact.created', (m) => m.data.id === marker.contactId);
      expect(stranger.received.map((m) => m.event)).not.toContain('conversation.deleted');
      // Webhooks: the later events were queued for the callback, the deletion never.
      const queued = async () => (await db.selectFrom('webhook_deliveries').select(['event_id', 'event_name']).where('account_id', '=', accountId).execute());
      await until(async () => (await queued()).some((d) => d.event_name === 'message_created'), 'the callback delivery of the later message');
      expect((await queued()).filter((d) => d.event_id === evs[0].id)).toEqual([]);

      expect((await api('DELETE', `/conversations/${c.displayId}`, grace.token)).status).toBe(404);
      // The contact stays.
      expect((await api('GET', `/contacts/${visitor.contactId}`, admin.token)).status).toBe(200);
    });
  });
});

import { describe, expect, it } from 'vitest';
import { describeEachDb, type TestServer } from '../support/harness.js';
import { counts, createContact, createConversation, eventsSince, lastEventId, postMessage, scene, useScene, type Scene } from '../support/conversations.js';

describeEachDb('conversations API', (dialect) => {
  let h: TestServer;
  let s: Scene;
  useScene(dialect, (started) => ({ h, s } = started));

  describe('create', () => {
    it('opens a conversation from a source_id, numbered per account, with the reference JSON', async () => {
      const { contact, sourceId } = await createContact(h, s, { email: 'c@example.com' });
      const before = await lastEventId(h);
      const conv = await createConversation(h, s, { source_id: sourceId });
      expect(conv).toMatchObject({
        meta: { sender: { id: contact.id, email: 'c@example.com' }, channel: 'Channel::Api', hmac_verified: false },
        account_id: s.accountId,
        inbox_id: s.inbox.id,
        status: 'open',
        priority: null,
        labels: [],
        messages: [],
        muted: false,
        can_reply: true,
        unread_count: 0,
        custom_attributes: {},
        additional_attributes: {},
        snoozed_until: null,
      });
      // Unassigned, without a team: the reference leaves these keys out (never null).
      for (const k of ['assignee', 'assignee_type', 'team']) expect(conv.meta).not.toHaveProperty(k);
      expect(conv.uuid).toMatch(/^[0-9a-f-]{36}$/);
      for (const k of ['id', 'created_at', 'timestamp', 'last_activity_at', 'agent_last_seen_at', 'waiting_since', 'first_reply_created_at']) {
        expect(Number.isInteger(conv[k]), k).toBe(true);
      }
      expect(typeof conv.updated_at).toBe('number');
      const evs = await eventsSince(h, before);
      expect(evs.map((e) => e.name)).toEqual(['conversation.created']);
      const row = await h.server.ctx.database.db.selectFrom('conversations').select('id').where('display_id', '=', conv.id).where('account_id', '=', s.accountId).executeTakeFirstOrThrow();
      expect(evs[0].payload).toEqual({ conversation_id: row.id, performer: { type: 'user', id: s.admin.id } });

      const next = await createConversation(h, s, { source_id: sourceId });
      expect(next.id).toBe(conv.id + 1);
      const other = await scene(h);
      expect((await createConversation(h, other)).id).toBe(1);
    });

    it('opens one from inbox_id + contact_id (session found or created) with status, assignee, attributes and a first message', async () => {
      const agent = await h.user(s.accountId, { name: 'Agent Smith' });
      await h.server.ctx.database.db.insertInto('inbox_members').values({ inbox_id: s.inbox.id, user_id: agent.id, created_at: Date.now() }).execute();
      const { contact } = await createContact(h, s);
      const before = await counts(h);
      const conv = await createConversation(h, s, {
        inbox_id: s.inbox.id,
        contact_id: contact.id,
        status: 'pending',
        assignee_id: agent.id,
        custom_attributes: { order: 'A-1' },
        additional_attributes: { browser: 'x' },
        message: { content: 'Hello from us' },
      });
      expect(conv).toMatchObject({
        status: 'pending',
        custom_attributes: { order: 'A-1' },
        additional_attributes: { browser: 'x' },
        meta: { assignee: { id: agent.id, name: 'Agent Smith', role: 'agent' }, assignee_type: 'User' },
      });
      expect(conv.messages).toHaveLength(1);
      expect(conv.messages[0]).toMatchObject({ content: 'Hello from us', message_type: 1, conversation_id: conv.id, sender: { id: s.admin.id, type: 'user' } });
      const after = await counts(h);
      expect(after.contact_inboxes).toBe(before.contact_inboxes + 1);
      expect(after.messages).toBe(before.messages + 1);
    });

    it('validates: missing session, unknown source_id (404), bad status, bad assignee — nothing written', async () => {
      const { sourceId } = await createContact(h, s);
      const before = await counts(h);
      const none = await h.api('POST', `${s.base}/conversations`, { token: s.admin.token, body: {} });
      expect(none.status).toBe(422);
      expect(none.body.error).toMatch(/source_id/);
      expect((await h.api('POST', `${s.base}/conversations`, { token: s.admin.token, body: { source_id: 'nope' } })).status).toBe(404);
      const status = await h.api('POST', `${s.base}/conversations`, { token: s.admin.token, body: { source_id: sourceId, status: 'closed' } });
      expect(status.status).toBe(422);
      const outsider = await scene(h);
      const assignee = await h.api('POST', `${s.base}/conversations`, { token: s.admin.token, body: { source_id: sourceId, assignee_id: outsider.admin.id } });
      expect(assignee.status).toBe(422);
      expect(assignee.body.attributes).toEqual(['assignee_id']);
      const longAttr = await h.api('POST', `${s.base}/conversations`, { token: s.admin.token, body: { source_id: sourceId, custom_attributes: { x: 'y'.repeat(1500) } } });
      expect(longAttr.status).toBe(422);
      const badMessage = await h.api('POST', `${s.base}/conversations`, { token: s.admin.token, body: { source_id: sourceId, message: { content: '' } } });
      expect(badMessage.status).toBe(422);
      expect(await counts(h)).toEqual(before);
    });

    it('reuses the latest conversation when the inbox is locked to a single conversation', async () => {
      const locked = await scene(h, { lock: true });
      const { sourceId } = await createContact(h, locked);
      const a = await createConversation(h, locked, { source_id: sourceId });
      const b = await createConversation(h, locked, { source_id: sourceId });
      expect(b.id).toBe(a.id);
    });

    it('opens a blocked contact\'s conversation resolved', async () => {
      const { sourceId } = await createContact(h, s, { blocked: true });
      expect((await createConversation(h, s, { source_id: sourceId })).status).toBe('resolved');
    });
  });

  describe('list and meta', () => {
    it('filters by status, assignee_type, inbox, labels, q; counts before the assignee filter; pages of 25', async () => {
      const t = await scene(h);
      const second = await h.inbox(t.accountId, { name: 'Second' });
      const agent = await h.user(t.accountId);
      const convs = [];
      for (let i = 0; i < 28; i++) convs.push(await createConversation(h, t));
      const secondContact = await createContact(h, { ...t, inbox: second });
      const inSecond = await createConversation(h, t, { source_id: secondContact.sourceId });
      const tok = t.admin.token;
      await h.api('POST', `${t.base}/conversations/${convs[0].id}/assignments`, { token: tok, body: { assignee_id: t.admin.id } });
      await h.api('POST', `${t.base}/conversations/${convs[1].id}/assignments`, { token: tok, body: { assignee_id: t.admin.id } });
      await h.api('POST', `${t.base}/conversations/${convs[2].id}/assignments`, { token: tok, body: { assignee_id: agent.id } }); // not a member: refused
      await h.api('POST', `${t.base}/conversations/${convs[3].id}/toggle_status`, { token: tok, body: { status: 'resolved' } });
      await h.api('POST', `${t.base}/conversations/${convs[4].id}/labels`, { token: tok, body: { labels: ['vip', 'billing'] } });
      await h.api('POST', `${t.base}/conversations/${convs[5].id}/labels`, { token: tok, body: { labels: ['billing'] } });
      await postMessage(h, t, convs[6].id, { content: 'My Invoice 100% wrong', message_type: 'incoming' });

      const list = (q = '') => h.api('GET', `${t.base}/conversations${q}`, { token: tok });
      const p1 = await list();
      expect(p1.status).toBe(200);
      expect(p1.body.data.meta).toEqual({ mine_count: 2, assigned_count: 2, unassigned_count: 26, all_count: 28, current_page: 1, total_pages: 2 });
      expect(p1.body.data.payload).toHaveLength(25);
      expect(p1.body.data.payload[0].id).toBe(convs[6].id); // most recent activity first
      const p2 = await list('?page=2');
      expect(p2.body.data.payload).toHaveLength(3);
      expect(p2.body.data.meta.current_page).toBe(2);
      const mine = await list('?assignee_type=me');
      expect(mine.body.data.meta).toMatchObject({ mine_count: 2, all_count: 28, total_pages: 1 });
      expect(mine.body.data.payload.map((c: any) => c.id).sort()).toEqual([convs[0].id, convs[1].id].sort());
      expect((await list('?assignee_type=unassigned')).body.data.payload).toHaveLength(25);
      expect((await list('?assignee_type=assigned')).body.data.payload).toHaveLength(2);
      const resolved = await list('?status=resolved');
      expect(resolved.body.data.payload.map((c: any) => c.id)).toEqual([convs[3].id]);
      expect(resolved.body.data.meta.all_count).toBe(1);
      expect((await list('?status=all')).body.data.meta.all_count).toBe(29);
      expect((await list(`?inbox_id=${second.id}`)).body.data.payload.map((c: any) => c.id)).toEqual([inSecond.id]);
      const billing = await list('?labels[]=billing');
      expect(billing.body.data.payload.map((c: any) => c.id).sort()).toEqual([convs[4].id, convs[5].id].sort());
      expect((await list('?labels[]=vip&labels[]=nothing')).body.data.payload.map((c: any) => c.id)).toEqual([convs[4].id]);
      expect((await list('?q=invoice%20100%25')).body.data.payload.map((c: any) => c.id)).toEqual([convs[6].id]);
      expect((await list('?q=zzz')).body.data.meta).toMatchObject({ all_count: 0, total_pages: 0 });
      expect((await list(`?source_id=${secondContact.sourceId}`)).body.data.payload.map((c: any) => c.id)).toEqual([inSecond.id]);
      expect((await list('?sort_by=created_at_asc')).body.data.payload[0].id).toBe(convs[0].id);
      expect((await list('?status=nope')).status).toBe(422);
      expect((await list('?page=99999999999')).status).toBe(422);
      expect((await list('?q=%00')).status).toBe(422);
      expect((await list('?sort_by=nope')).status).toBe(422);

      const meta = await h.api('GET', `${t.base}/conversations/meta`, { token: tok });
      expect(meta.status).toBe(200);
      // The reference's four counts, plus the ChannelX per-inbox and per-label extension (test/conversations/read-state.test.ts).
      const { inboxes, labels, ...counts } = meta.body.meta;
      expect(counts).toEqual({ mine_count: 2, assigned_count: 2, unassigned_count: 26, all_count: 28 });
      expect(Array.isArray(inboxes)).toBe(true);
      expect(labels).toEqual([]); // ChannelX extension: per account label; this account has none
      const metaAll = await h.api('GET', `${t.base}/conversations/meta?status=all`, { token: tok });
      expect(metaAll.body.meta.all_count).toBe(29);
    });

    it('shows agents only the conversations of their inboxes; admins all', async () => {
      const t = await scene(h);
      const agent = await h.user(t.accountId);
      const mine = await h.inbox(t.accountId, { name: 'Mine', members: [agent.id] });
      const hidden = await createConversation(h, t);
      const visible = await createConversation(h, t, { source_id: (await createContact(h, { ...t, inbox: mine })).sourceId });
      const asAgent = await h.api('GET', `${t.base}/conversations`, { token: agent.token });
      expect(asAgent.body.data.payload.map((c: any) => c.id)).toEqual([visible.id]);
      expect(asAgent.body.data.meta.all_count).toBe(1);
      const asAdmin = await h.api('GET', `${t.base}/conversations`, { token: t.admin.token });
      expect(asAdmin.body.data.meta.all_count).toBe(2);
      const get = await h.api('GET', `${t.base}/conversations/${hidden.id}`, { token: agent.token });
      expect(get.status).toBe(401);
      for (const [m, path, body] of [
        ['POST', 'toggle_status', {}],
        ['POST', 'messages', { content: 'x' }],
        ['GET', 'messages', undefined],
        ['POST', 'labels', { labels: ['a'] }],
        ['POST', 'assignments', { assignee_id: agent.id }],
      ] as const) {
        const r = await h.api(m, `${t.base}/conversations/${hidden.id}/${path}`, { token: agent.token, body });
        expect(r.status, path).toBe(401);
      }
      expect((await h.api('GET', `${t.base}/conversations/${visible.id}`, { token: agent.token })).status).toBe(200);
      const contactConvs = await h.api('GET', `${t.base}/contacts/${hidden.meta.sender.id}/conversations`, { token: agent.token });
      expect(contactConvs.body.payload).toEqual([]);
    });

    it("isolates accounts: another account's conversation is a 404, another account's path a 401", async () => {
      const other = await scene(h);
      const theirs = await createConversation(h, other);
      const ours = await createConversation(h, s);
      const probe = await h.api('GET', `${s.base}/conversations/${theirs.id + 1000}`, { token: s.admin.token });
      expect(probe.status).toBe(404);
      expect(probe.body).toEqual({ error: 'Resource could not be found' });
      const cross = await h.api('GET', `${other.base}/conversations/${theirs.id}`, { token: s.admin.token });
      expect(cross.status).toBe(401);
      const crossWrite = await postMessage(h, other, theirs.id, { content: 'hi' }, s.admin.token);
      expect(crossWrite.status).toBe(401);
      const theirSource = (await createContact(h, other)).sourceId;
      const bySource = await h.api('POST', `${s.base}/conversations`, { token: s.admin.token, body: { source_id: theirSource } });
      expect(bySource.status).toBe(404);
      expect(ours.account_id).toBe(s.accountId);
    });
  });

  describe('actions', () => {
    it('toggles status (open ↔ resolved, explicit statuses, snoozed_until) and records status_changed + updated', async () => {
      const conv = await createConversation(h, s);
      const url = `${s.base}/conversations/${conv.id}/toggle_status`;
      const before = await lastEventId(h);
      const r1 = await h.api('POST', url, { token: s.admin.token });
      expect(r1.status).toBe(200);
      expect(r1.body).toEqual({ meta: {}, payload: { success: true, conversation_id: conv.id, current_status: 'resolved', snoozed_until: null } });
      const evs = await eventsSince(h, before);
      // The change's events, then its activity message's message.created (src/conversations/activity.ts).
      expect(evs.map((e) => e.name)).toEqual(['conversation.status_changed', 'conversation.updated', 'message.created']);
      expect(evs[1].payload.changed_attributes).toEqual([{ status: { previous_value: 'open', current_value: 'resolved' } }]);
      expect((await h.api('POST', url, { token: s.admin.token })).body.payload.current_status).toBe('open');
      const until = Math.floor(Date.now() / 1000) + 3600;
      const snooze = await h.api('POST', url, { token: s.admin.token, body: { status: 'snoozed', snoozed_until: String(until) } });
      expect(snooze.body.payload).toMatchObject({ current_status: 'snoozed', snoozed_until: until });
      const shown = await h.api('GET', `${s.base}/conversations/${conv.id}`, { token: s.admin.token });
      expect(shown.body).toMatchObject({ status: 'snoozed', snoozed_until: until });
      expect((await h.api('POST', url, { token: s.admin.token })).body.payload).toMatchObject({ current_status: 'open', snoozed_until: null });
      expect((await h.api('POST', url, { token: s.admin.token, body: { status: 'pending' } })).body.payload.current_status).toBe('pending');
      const absurd = await h.api('POST', url, { token: s.admin.token, body: { status: 'snoozed', snoozed_until: 1e300 } });
      expect(absurd.status).toBe(422);
      const bad = await h.api('POST', url, { token: s.admin.token, body: { status: 'closed' } });
      expect(bad.status).toBe(422);
      expect(bad.body.message).toMatch(/status must be one of/);
      const same = await lastEventId(h);
      await h.api('POST', url, { token: s.admin.token, body: { status: 'pending' } });
      expect(await lastEventId(h)).toBe(same); // no change, no event
    });

    it('makes the agent who opens a conversation its assignee', async () => {
      const agent = await h.user(s.accountId);
      await h.server.ctx.database.db.insertInto('inbox_members').values({ inbox_id: s.inbox.id, user_id: agent.id, created_at: Date.now() }).execute();
      const conv = await createConversation(h, s, { status: 'pending' });
      const r = await h.api('POST', `${s.base}/conversations/${conv.id}/toggle_status`, { token: agent.token, body: { status: 'open' } });
      expect(r.body.payload.current_status).toBe('open');
      const shown = await h.api('GET', `${s.base}/conversations/${conv.id}`, { token: agent.token });
      expect(shown.body.meta.assignee.id).toBe(agent.id);
    });

    it('sets priority by toggle_priority (empty 200) and PATCH, validating values', async () => {
      const conv = await createConversation(h, s);
      const before = await lastEventId(h);
      const r = await h.api('POST', `${s.base}/conversations/${conv.id}/toggle_priority`, { token: s.admin.token, body: { priority: 'urgent' } });
      expect(r.status).toBe(200);
      expect(r.text).toBe('');
      const evs = await eventsSince(h, before);
      expect(evs.map((e) => e.name)).toEqual(['conversation.updated', 'message.created']); // + the activity line
      expect(evs[0].payload.changed_attributes).toEqual([{ priority: { previous_value: null, current_value: 'urgent' } }]);
      const patched = await h.api('PATCH', `${s.base}/conversations/${conv.id}`, { token: s.admin.token, body: { priority: 'low' } });
      expect(patched.status).toBe(200);
      expect(patched.body.priority).toBe('low');
      const cleared = await h.api('PATCH', `${s.base}/conversations/${conv.id}`, { token: s.admin.token, body: { priority: null } });
      expect(cleared.body.priority).toBeNull();
      const bad = await h.api('POST', `${s.base}/conversations/${conv.id}/toggle_priority`, { token: s.admin.token, body: { priority: 'asap' } });
      expect(bad.status).toBe(422);
    });

    it('records typing events without touching the conversation', async () => {
      const conv = await createConversation(h, s);
      const before = await lastEventId(h);
      const on = await h.api('POST', `${s.base}/conversations/${conv.id}/toggle_typing_status`, { token: s.admin.token, body: { typing_status: 'on', is_private: 'true' } });
      expect(on.status).toBe(200);
      await h.api('POST', `${s.base}/conversations/${conv.id}/toggle_typing_status`, { token: s.admin.token, body: { typing_status: 'off' } });
      const evs = await eventsSince(h, before);
      expect(evs.map((e) => [e.name, e.payload.typist, e.payload.is_private])).toEqual([
        ['conversation.typing_on', { type: 'user', id: s.admin.id }, true],
        ['conversation.typing_off', { type: 'user', id: s.admin.id }, false],
      ]);
      expect((await h.api('POST', `${s.base}/conversations/${conv.id}/toggle_typing_status`, { token: s.admin.token, body: { typing_status: 'maybe' } })).status).toBe(422);
      const shown = await h.api('GET', `${s.base}/conversations/${conv.id}`, { token: s.admin.token });
      expect(shown.body.updated_at).toBe(conv.updated_at);
    });

    it('assigns members with inbox access (agent JSON), refuses others (422), unassigns with null or 0', async () => {
      const agent = await h.user(s.accountId, { name: 'Member' });
      const outsider = await h.user(s.accountId, { name: 'Not in inbox' });
      await h.server.ctx.database.db.insertInto('inbox_members').values({ inbox_id: s.inbox.id, user_id: agent.id, created_at: Date.now() }).execute();
      const conv = await createConversation(h, s);
      const url = `${s.base}/conversations/${conv.id}/assignments`;
      const before = await lastEventId(h);
      const r = await h.api('POST', url, { token: s.admin.token, body: { assignee_id: String(agent.id) } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: agent.id, account_id: s.accountId, name: 'Member', role: 'agent', email: agent.email, confirmed: true });
      expect(r.body).not.toHaveProperty('pubsub_token');
      const evs = await eventsSince(h, before);
      expect(evs.map((e) => e.name)).toEqual(['assignee.changed', 'conversation.updated', 'message.created']); // + the activity line
      expect(evs[0].payload).toMatchObject({ previous_assignee_id: null });
      const denied = await h.api('POST', url, { token: s.admin.token, body: { assignee_id: outsider.id } });
      expect(denied.status).toBe(422);
      expect(denied.body.message).toMatch(/access to the inbox/);
      expect((await h.api('POST', url, { token: s.admin.token, body: { assignee_id: 999999 } })).status).toBe(422);
      const admin = await h.api('POST', url, { token: s.admin.token, body: { assignee_id: s.admin.id } });
      expect(admin.body.role).toBe('administrator');
      for (const v of [null, 0]) {
        const un = await h.api('POST', url, { token: s.admin.token, body: { assignee_id: v } });
        expect(un.status).toBe(200);
        expect(un.body).toBeNull();
      }
      const shown = await h.api('GET', `${s.base}/conversations/${conv.id}`, { token: s.admin.token });
      expect(shown.body.meta).not.toHaveProperty('assignee');
    });

    it('replaces labels and reads them back', async () => {
      const conv = await createConversation(h, s);
      const url = `${s.base}/conversations/${conv.id}/labels`;
      expect((await h.api('GET', url, { token: s.admin.token })).body).toEqual({ payload: [] });
      const before = await lastEventId(h);
      const set = await h.api('POST', url, { token: s.admin.token, body: { labels: ['vip', ' billing ', 'vip'] } });
      expect(set.body).toEqual({ payload: ['vip', 'billing'] });
      const replaced = await h.api('POST', url, { token: s.admin.token, body: { labels: ['support'] } });
      expect(replaced.body).toEqual({ payload: ['support'] });
      expect((await h.api('GET', url, { token: s.admin.token })).body).toEqual({ payload: ['support'] });
      expect((await h.api('GET', `${s.base}/conversations/${conv.id}`, { token: s.admin.token })).body.labels).toEqual(['support']);
      const evs = await eventsSince(h, before);
      // Each replacement: conversation.updated, then its activity lines (added; added + removed).
      expect(evs.map((e) => e.name)).toEqual(['conversation.updated', 'message.created', 'conversation.updated', 'message.created', 'message.created']);
      expect(evs[2].payload.changed_attributes).toEqual([{ label_list: { previous_value: ['vip', 'billing'], current_value: ['support'] } }]);
      expect((await h.api('POST', url, { token: s.admin.token, body: { labels: ['bad\u0000label'] } })).status).toBe(422);
      expect((await h.api('POST', url, { token: s.admin.token, body: {} })).body).toEqual({ payload: [] });
    });

    it('sets custom attributes as the reference: replaced, or merged with merge: true', async () => {
      const conv = await createConversation(h, s, { custom_attributes: { a: 1 } });
      const url = `${s.base}/conversations/${conv.id}/custom_attributes`;
      const r = await h.api('POST', url, { token: s.admin.token, body: { custom_attributes: { b: 'two' }, merge: true } });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ custom_attributes: { a: 1, b: 'two' } });
      const str = await h.api('POST', url, { token: s.admin.token, body: { custom_attributes: '{"a":3}', merge: 'true' } });
      expect(str.body.custom_attributes).toEqual({ a: 3, b: 'two' });
      const replaced = await h.api('POST', url, { token: s.admin.token, body: { custom_attributes: { c: true } } });
      expect(replaced.body).toEqual({ custom_attributes: { c: true } });
      expect((await h.api('GET', `${s.base}/conversations/${conv.id}`, { token: s.admin.token })).body.custom_attributes).toEqual({ c: true });
      expect((await h.api('POST', url, { token: s.admin.token, body: { custom_attributes: { n: 99_999_999_999 } } })).status).toBe(422);
      expect((await h.api('POST', url, { token: s.admin.token, body: {} })).status).toBe(422);
    });
  });
});

import { afterEach, expect, it } from 'vitest';
import { describeEachDb, type TestServer } from '../support/harness.js';
import { createContact, createConversation, postMessage, useScene, type Scene } from '../support/conversations.js';
import { consumer, disconnectAll, subscribe } from '../realtime/cable.js';
import { addInboxMembers } from '../../src/inboxes/repository.js';

/**
 * Issue 11, what the dashboard's conversation list needs from the server: read state
 * (update_last_seen, unread, unread_count), per-inbox counts in /conversations/meta, and the
 * search box (q also matches the contact's name, e-mail and phone number).
 */
describeEachDb('conversation read state, per-inbox counts and search', (dialect) => {
  let h: TestServer;
  let s: Scene;
  useScene(dialect, (started) => ({ h, s } = started));
  afterEach(() => disconnectAll());

  const conv = (displayId: number, token = s.admin.token) => h.api('GET', `${s.base}/conversations/${displayId}`, { token });
  const incoming = async (displayId: number, content = 'hello') => {
    const r = await postMessage(h, s, displayId, { content, message_type: 'incoming' });
    expect(r.status, r.text).toBe(200);
    return r.body;
  };
  const meta = async (token = s.admin.token, query = '', base = s.base) => {
    const r = await h.api('GET', `${base}/conversations/meta${query}`, { token });
    expect(r.status, r.text).toBe(200);
    return r.body.meta;
  };
  const listIds = async (q: string, token: string, base: string) => {
    const r = await h.api('GET', `${base}/conversations?status=all&q=${encodeURIComponent(q)}`, { token });
    expect(r.status, r.text).toBe(200);
    return (r.body.data.payload as { id: number }[]).map((c) => c.id).sort((a, b) => a - b);
  };

  it('unread_count counts incoming messages after agent_last_seen_at, in show and in the list', async () => {
    const c = await createConversation(h, s);
    expect(c.unread_count).toBe(0);
    await incoming(c.id, 'one');
    await incoming(c.id, 'two');
    // Outgoing messages and private notes are never unread.
    expect((await postMessage(h, s, c.id, { content: 'reply' })).status).toBe(200);
    expect((await postMessage(h, s, c.id, { content: 'note', private: true })).status).toBe(200);
    expect((await conv(c.id)).body.unread_count).toBe(2);
    const list = await h.api('GET', `${s.base}/conversations`, { token: s.admin.token });
    expect(list.body.data.payload.find((x: { id: number }) => x.id === c.id).unread_count).toBe(2);
  });

  it('update_last_seen: unread_count 0, agent_last_seen_at now; assignee_last_seen_at only for the assignee', async () => {
    const agent = await h.user(s.accountId, { name: 'Assignee' });
    await addInboxMembers(h.server.ctx.database.db, s.inbox.id, [agent.id]);
    const c = await createConversation(h, s);
    await incoming(c.id);
    const before = Math.floor(Date.now() / 1000);

    const r = await h.api('POST', `${s.base}/conversations/${c.id}/update_last_seen`, { token: s.admin.token });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ id: c.id, unread_count: 0, assignee_last_seen_at: 0 });
    expect(r.body.agent_last_seen_at).toBeGreaterThanOrEqual(before);
    expect((await conv(c.id)).body.unread_count).toBe(0);

    expect((await h.api('POST', `${s.base}/conversations/${c.id}/assignments`, { token: s.admin.token, body: { assignee_id: agent.id } })).status).toBe(200);
    await incoming(c.id, 'again');
    expect((await conv(c.id)).body.unread_count).toBe(1);
    const byAssignee = await h.api('POST', `${s.base}/conversations/${c.id}/update_last_seen`, { token: agent.token });
    expect(byAssignee.status).toBe(200);
    expect(byAssignee.body.unread_count).toBe(0);
    expect(byAssignee.body.assignee_last_seen_at).toBeGreaterThanOrEqual(before);
  });

  it('unread: the last incoming message is unread again; without incoming messages nothing is unread', async () => {
    const c = await createConversation(h, s);
    await incoming(c.id, 'a');
    await incoming(c.id, 'b');
    expect((await h.api('POST', `${s.base}/conversations/${c.id}/update_last_seen`, { token: s.admin.token })).body.unread_count).toBe(0);
    const r = await h.api('POST', `${s.base}/conversations/${c.id}/unread`, { token: s.admin.token });
    expect(r.status, r.text).toBe(200);
    expect(r.body.id).toBe(c.id);
    expect(r.body.unread_count).toBeGreaterThanOrEqual(1);
    expect((await conv(c.id)).body.unread_count).toBe(r.body.unread_count);

    const quiet = await createConversation(h, s);
    const q = await h.api('POST', `${s.base}/conversations/${quiet.id}/unread`, { token: s.admin.token });
    expect(q.status).toBe(200);
    expect(q.body).toMatchObject({ unread_count: 0, agent_last_seen_at: 0, assignee_last_seen_at: 0 });
  });

  it('both routes: 404 for a conversation outside the account, 401 for an agent outside its inbox, 401 without a token', async () => {
    const c = await createConversation(h, s);
    const outsider = await h.user(s.accountId, { name: 'Outsider' });
    for (const action of ['update_last_seen', 'unread']) {
      expect((await h.api('POST', `${s.base}/conversations/999999/${action}`, { token: s.admin.token })).status).toBe(404);
      const notAnId = await h.api('POST', `${s.base}/conversations/abc/${action}`, { token: s.admin.token });
      expect([notAnId.status, notAnId.body]).toEqual([404, { error: 'Resource could not be found' }]);
      expect((await h.api('POST', `${s.base}/conversations/${c.id}/${action}`, { token: outsider.token })).status).toBe(401);
      expect((await h.api('POST', `${s.base}/conversations/${c.id}/${action}`)).status).toBe(401);
    }
    const other = await h.account();
    expect((await h.api('POST', `/api/v1/accounts/${other.accountId}/conversations/${c.id}/update_last_seen`, { token: other.admin.token })).status).toBe(404);
    // Chatwoot clients post an empty JSON body, or `{}`: both are fine.
    for (const body of ['', '{}']) {
      const r = await h.api('POST', `${s.base}/conversations/${c.id}/update_last_seen`, { token: s.admin.token, body, headers: { 'content-type': 'application/json' } });
      expect(r.status, r.text).toBe(200);
    }
    const junk = await h.api('POST', `${s.base}/conversations/${c.id}/unread`, { token: s.admin.token, body: '{not json', headers: { 'content-type': 'application/json' } });
    expect(junk.status).toBeGreaterThanOrEqual(400);
    expect(junk.status).toBeLessThan(500);
  });

  it('reading sends conversation.updated (unread_count 0) to the other agents, never to the contact; reading a read conversation sends nothing', async () => {
    const member = await h.user(s.accountId, { name: 'Watcher' });
    await addInboxMembers(h.server.ctx.database.db, s.inbox.id, [member.id]);
    const { sourceId, contact } = await createContact(h, s, { name: 'Reader test' });
    const c = await createConversation(h, s, { source_id: sourceId });
    const pubsub = (await h.server.ctx.database.db.selectFrom('contact_inboxes').select('pubsub_token').where('source_id', '=', sourceId).executeTakeFirstOrThrow()).pubsub_token;
    await incoming(c.id);
    const watcher = await subscribe(consumer(h), { pubsub_token: member.pubsub_token, account_id: s.accountId, user_id: member.id });
    const visitor = await subscribe(consumer(h), { pubsub_token: pubsub });
    expect(contact.id).toBeGreaterThan(0);

    expect((await h.api('POST', `${s.base}/conversations/${c.id}/update_last_seen`, { token: s.admin.token })).status).toBe(200);
    const seen = await watcher.next('conversation.updated', (m) => m.data.id === c.id && m.data.unread_count === 0);
    expect(seen.data.performer).toMatchObject({ id: s.admin.id, type: 'user' });
    expect((await h.api('POST', `${s.base}/conversations/${c.id}/unread`, { token: s.admin.token })).status).toBe(200);
    await watcher.next('conversation.updated', (m) => m.data.id === c.id && m.data.unread_count >= 1);
    expect((await h.api('POST', `${s.base}/conversations/${c.id}/update_last_seen`, { token: s.admin.token })).status).toBe(200);
    expect((await h.api('POST', `${s.base}/conversations/${c.id}/update_last_seen`, { token: s.admin.token })).status).toBe(200);
    await h.server.ctx.dispatcher.drain();
    await watcher.none('conversation.updated', 300);
    const updates = watcher.received.filter((m) => m.event === 'conversation.updated' && m.data.id === c.id);
    expect(updates.map((m) => m.data.unread_count > 0)).toEqual([false, true, false]);
    expect(visitor.received.filter((m) => m.event === 'conversation.updated')).toEqual([]);
    // No webhook for reading: the outbox holds no conversation.updated for it.
    const convId = (await h.server.ctx.database.db.selectFrom('conversations').select('id').where('account_id', '=', s.accountId).where('display_id', '=', c.id).executeTakeFirstOrThrow()).id;
    const events = await h.server.ctx.database.db.selectFrom('events').select(['name', 'payload']).where('account_id', '=', s.accountId).execute();
    const mine = events.filter((e) => JSON.parse(e.payload).conversation_id === convId).map((e) => e.name);
    expect(mine.filter((n) => n === 'conversation.seen')).toHaveLength(3);
    expect(mine).not.toContain('conversation.updated');
  });

  it('meta.inboxes: open and unread-open counts per visible inbox; agents see only theirs; other keys unchanged', async () => {
    const { accountId, admin } = await h.account();
    const base = `/api/v1/accounts/${accountId}`;
    const a = await h.inbox(accountId, { name: 'A' });
    const b = await h.inbox(accountId, { name: 'B' });
    const empty = await h.inbox(accountId, { name: 'Empty' });
    const agent = await h.user(accountId, { name: 'B agent' });
    await addInboxMembers(h.server.ctx.database.db, b.id, [agent.id]);
    const scene: Scene = { accountId, admin, inbox: a, base };
    const make = async (inbox: typeof a) => createConversation(h, { ...scene, inbox });
    const a1 = await make(a);
    const a2 = await make(a);
    const a3 = await make(a);
    const b1 = await make(b);
    for (const id of [a1.id, a2.id, b1.id]) expect((await postMessage(h, scene, id, { content: 'hi', message_type: 'incoming' })).status).toBe(200);
    expect((await h.api('POST', `${base}/conversations/${a2.id}/update_last_seen`, { token: admin.token })).status).toBe(200);
    expect((await h.api('POST', `${base}/conversations/${a3.id}/toggle_status`, { token: admin.token, body: { status: 'resolved' } })).status).toBe(200);

    const m = await meta(admin.token, '', base);
    expect(Object.keys(m).sort()).toEqual(['all_count', 'assigned_count', 'inboxes', 'labels', 'mine_count', 'unassigned_count']);
    expect(m.all_count).toBe(3);
    expect(m.inboxes).toEqual([
      { inbox_id: a.id, open_count: 2, unread_count: 1 },
      { inbox_id: b.id, open_count: 1, unread_count: 1 },
      { inbox_id: empty.id, open_count: 0, unread_count: 0 },
    ]);
    // The list's filters narrow the counts, never meta.inboxes.
    const filtered = await meta(admin.token, `?inbox_id=${b.id}&status=resolved`, base);
    expect(filtered.all_count).toBe(0);
    expect(filtered.inboxes).toEqual(m.inboxes);
    const mine = await meta(agent.token, '', base);
    expect(mine.all_count).toBe(1);
    expect(mine.inboxes).toEqual([{ inbox_id: b.id, open_count: 1, unread_count: 1 }]);
    // Another account's conversations never count.
    expect((await meta(s.admin.token)).inboxes.every((i: { inbox_id: number }) => i.inbox_id === s.inbox.id)).toBe(true);
    expect((await h.api('GET', `${base}/conversations/meta?status=bogus`, { token: admin.token })).status).toBe(422);
  });

  it('q matches message content and the contact name, e-mail and phone number (case-insensitive, LIKE characters literal), scoped to visible inboxes', async () => {
    const { accountId, admin } = await h.account();
    const base = `/api/v1/accounts/${accountId}`;
    const inbox = await h.inbox(accountId);
    const hidden = await h.inbox(accountId, { name: 'Hidden' });
    const agent = await h.user(accountId);
    await addInboxMembers(h.server.ctx.database.db, inbox.id, [agent.id]);
    const scene: Scene = { accountId, admin, inbox, base };
    const withContact = async (body: Record<string, unknown>, where = inbox) => {
      const sc = { ...scene, inbox: where };
      const { sourceId } = await createContact(h, sc, body);
      return createConversation(h, sc, { source_id: sourceId });
    };
    const byName = await withContact({ name: 'Zebulon Quartz' });
    const byEmail = await withContact({ name: 'E', email: 'Grace.Hopper@Navy.example' });
    const byPhone = await withContact({ name: 'P', phone_number: '+15551234567' });
    const byMessage = await withContact({ name: 'M' });
    expect((await postMessage(h, scene, byMessage.id, { content: 'my order 100% broken', message_type: 'incoming' })).status).toBe(200);
    const hiddenOne = await withContact({ name: 'Zebulon Hidden' }, hidden);

    expect(await listIds('zebulon', admin.token, base)).toEqual([byName.id, hiddenOne.id].sort((x, y) => x - y));
    expect(await listIds('zebulon', agent.token, base)).toEqual([byName.id]);
    expect(await listIds('hopper@navy', admin.token, base)).toEqual([byEmail.id]);
    expect(await listIds('5551234', admin.token, base)).toEqual([byPhone.id]);
    expect(await listIds('100% BROKEN', admin.token, base)).toEqual([byMessage.id]);
    expect(await listIds('100_', admin.token, base)).toEqual([]);
    expect(await listIds('%', admin.token, base)).toEqual([byMessage.id]);
    expect(await listIds('nobody-matches-this', admin.token, base)).toEqual([]);
    // The counts follow the same filter.
    const m = await h.api('GET', `${base}/conversations/meta?status=all&q=zebulon`, { token: admin.token });
    expect(m.body.meta.all_count).toBe(2);
    // Another account's contact of the same name is never found.
    const elsewhere = await h.account();
    expect((await h.api('GET', `/api/v1/accounts/${elsewhere.accountId}/conversations?status=all&q=zebulon`, { token: elsewhere.admin.token })).body.data.payload).toEqual([]);
    expect((await h.api('GET', `${base}/conversations?q=${'x'.repeat(256)}`, { token: admin.token })).status).toBe(422);
  });
});

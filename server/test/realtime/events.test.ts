import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { now } from '../../src/kernel/db.js';
import { describeEachDb, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { apiContact, apiConversation, apiMessage, consumer, disconnectAll, insertContactSession, subscribe, type TestSubscription } from './cable.js';

describeEachDb('/cable events: audiences and push data', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let admin: TestUser;
  let member: TestUser;
  let outsider: TestUser;
  let inboxId: number;

  beforeAll(async () => {
    h = await startTestServer(dialect);
    ({ accountId, admin } = await h.account());
    member = await h.user(accountId, { name: 'Member Agent' });
    outsider = await h.user(accountId, { name: 'Other Inbox Agent' });
    inboxId = (await h.inbox(accountId, { members: [member.id] })).id;
  });
  afterEach(() => disconnectAll());
  afterAll(() => h.close());

  const agentSub = (u: TestUser) => subscribe(consumer(h), { pubsub_token: u.pubsub_token, account_id: accountId, user_id: u.id });
  const secrets = () => [admin.pubsub_token, member.pubsub_token, outsider.pubsub_token, admin.token, member.token];
  const noSecrets = (s: TestSubscription, extra: string[] = []) => {
    const text = JSON.stringify(s.received);
    for (const secret of [...secrets(), ...extra]) expect(text).not.toContain(secret);
  };

  /** A contact session + conversation through the API, with the contact subscribed. */
  async function contactWithConversation() {
    const contact = await apiContact(h, admin.token, accountId, inboxId);
    const conv = await apiConversation(h, admin.token, accountId, inboxId, contact);
    const sub = await subscribe(consumer(h), { pubsub_token: contact.pubsubToken });
    expect(sub.state).toBe('connected');
    return { contact, conv, sub };
  }

  it("delivers the agent's reply to the contact as message.created with the push payload, never a private note", async () => {
    const { contact, conv, sub } = await contactWithConversation();
    const adminSub = await agentSub(admin);
    const note = await apiMessage(h, member.token, accountId, conv.displayId, { content: 'internal only', private: true });
    const reply = await apiMessage(h, member.token, accountId, conv.displayId, { content: 'Hello from support', message_type: 'outgoing', echo_id: 'tmp-42' });

    const m = await sub.next('message.created', (x) => x.data.id === reply.id);
    expect(m.data).toMatchObject({
      id: reply.id,
      content: 'Hello from support',
      account_id: accountId,
      inbox_id: inboxId,
      conversation_id: conv.displayId,
      message_type: 1,
      private: false,
      status: 'sent',
      echo_id: 'tmp-42',
      sender: { id: member.id, type: 'user', name: 'Member Agent' },
      conversation: { contact_inbox: { source_id: contact.sourceId } },
    });
    expect(typeof m.data.created_at).toBe('number');
    expect(m.data.conversation).toHaveProperty('unread_count');
    expect(m.data.conversation).toHaveProperty('last_activity_at');
    expect(m.data.conversation).toHaveProperty('assignee_id');

    // The agent side gets both; the contact never gets the note.
    await adminSub.next('message.created', (x) => x.data.id === note.id);
    await adminSub.next('message.created', (x) => x.data.id === reply.id);
    const seen = await sub.none('message.created', 300);
    expect(seen.map((x) => x.data.id)).toEqual([reply.id]);
    expect(seen.some((x) => x.data.private)).toBe(false);
    noSecrets(sub, [contact.pubsubToken]);
    noSecrets(adminSub, [contact.pubsubToken]);
  });

  it('never sends activity messages to the contact', async () => {
    const { conv, sub } = await contactWithConversation();
    const adminSub = await agentSub(admin);
    const ctx = h.server.ctx;
    const id = await ctx.database.transaction(async (trx) => {
      const t = now();
      const row = await trx
        .insertInto('messages')
        .values({
          account_id: accountId, inbox_id: inboxId, conversation_id: conv.id, content: 'Conversation was resolved', message_type: 2,
          content_type: 'text', content_attributes: '{}', additional_attributes: '{}', private: 0, status: 0, source_id: null,
          sender_type: null, sender_id: null, echo_id: null, created_at: t, updated_at: t,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await ctx.events(trx, accountId, 'message.created', { message_id: row.id, conversation_id: conv.id });
      return row.id;
    });
    await adminSub.next('message.created', (x) => x.data.id === id && x.data.message_type === 2);
    expect(await sub.none('message.created', 300)).toEqual([]);
  });

  it("does not send one contact's events to another contact", async () => {
    const a = await contactWithConversation();
    const b = await contactWithConversation();
    const reply = await apiMessage(h, admin.token, accountId, a.conv.displayId, { content: 'for A only' });
    await a.sub.next('message.created', (x) => x.data.id === reply.id);
    expect(await b.sub.none('message.created', 300)).toEqual([]);
  });

  it('sends conversation.created to inbox members and administrators, not to agents of other inboxes', async () => {
    const [adminSub, memberSub, outsiderSub] = await Promise.all([agentSub(admin), agentSub(member), agentSub(outsider)]);
    const contact = await apiContact(h, admin.token, accountId, inboxId);
    const conv = await apiConversation(h, admin.token, accountId, inboxId, contact);
    for (const s of [adminSub, memberSub]) {
      const m = await s.next('conversation.created', (x) => x.data.id === conv.displayId);
      expect(m.data).toMatchObject({ id: conv.displayId, inbox_id: inboxId, account_id: accountId, status: 'open' });
      expect(m.data.meta.sender).toMatchObject({ id: contact.contactId, type: 'contact' });
      noSecrets(s, [contact.pubsubToken]);
    }
    expect(await outsiderSub.none('conversation.created', 300)).toEqual([]);
    expect(outsiderSub.received.filter((x) => x.event.startsWith('conversation.') || x.event.startsWith('message.'))).toEqual([]);
  });

  it('typing: the contact gets conversation.typing_on/off from an agent, the typist does not; private typing stays with agents', async () => {
    const { conv, sub } = await contactWithConversation();
    const [adminSub, memberSub] = await Promise.all([agentSub(admin), agentSub(member)]);
    const typing = (status: string, isPrivate = false) =>
      h.api('POST', `/api/v1/accounts/${accountId}/conversations/${conv.displayId}/toggle_typing_status`, {
        token: member.token,
        body: { typing_status: status, is_private: isPrivate },
      });
    expect((await typing('on')).status).toBe(200);
    const on = await sub.next('conversation.typing_on');
    expect(on.data).toMatchObject({ conversation: { id: conv.displayId }, user: { id: member.id, type: 'user' }, is_private: false, account_id: accountId });
    await adminSub.next('conversation.typing_on');
    expect((await typing('off')).status).toBe(200);
    await sub.next('conversation.typing_off');
    expect((await typing('on', true)).status).toBe(200);
    await adminSub.next('conversation.typing_on', (x) => x.data.is_private === true);
    await new Promise((r) => setTimeout(r, 300));
    expect(memberSub.received.filter((x) => x.event.startsWith('conversation.typing'))).toEqual([]);
    expect(sub.received.filter((x) => x.event === 'conversation.typing_on')).toHaveLength(1);
  });

  it("typing by the contact (client API event) reaches the agents but not the contact's own socket", async () => {
    const { contact, conv, sub } = await contactWithConversation();
    const adminSub = await agentSub(admin);
    const ctx = h.server.ctx;
    await ctx.database.transaction((trx) =>
      ctx.events(trx, accountId, 'conversation.typing_on', { conversation_id: conv.id, typist: { type: 'contact', id: contact.contactId }, is_private: false }),
    );
    const m = await adminSub.next('conversation.typing_on');
    expect(m.data.user).toMatchObject({ id: contact.contactId, type: 'contact' });
    expect(await sub.none('conversation.typing_on', 300)).toEqual([]);
  });

  it("fans a verified contact out to the contact's verified sessions in the same inbox only", async () => {
    const contact = await apiContact(h, admin.token, accountId, inboxId);
    const db = h.server.ctx.database.db;
    await db.updateTable('contact_inboxes').set({ hmac_verified: 1 }).where('pubsub_token', '=', contact.pubsubToken).execute();
    const inbox2 = (await h.inbox(accountId, { name: 'Second' })).id;
    const verifiedHere = await insertContactSession(h, accountId, inboxId, { contactId: contact.contactId, hmacVerified: true });
    const verifiedElsewhere = await insertContactSession(h, accountId, inbox2, { contactId: contact.contactId, hmacVerified: true });
    const unverified = await insertContactSession(h, accountId, inboxId, { contactId: contact.contactId });
    const conv = await apiConversation(h, admin.token, accountId, inboxId, contact);
    const tokens = [contact.pubsubToken, verifiedHere.pubsub_token, verifiedElsewhere.pubsub_token, unverified.pubsub_token];
    const subs = await Promise.all(tokens.map((t) => subscribe(consumer(h), { pubsub_token: t })));
    const reply = await apiMessage(h, admin.token, accountId, conv.displayId, { content: 'to every verified session' });
    await subs[0].next('message.created', (x) => x.data.id === reply.id);
    await subs[1].next('message.created', (x) => x.data.id === reply.id);
    // The same rule as the client API: another inbox's session, or an unverified one, sees nothing.
    expect(await subs[2].none('message.created', 300)).toEqual([]);
    expect(await subs[3].none('message.created', 300)).toEqual([]);
  });

  it('sends contact events to every agent of the account and to no contact', async () => {
    const { sub } = await contactWithConversation();
    const outsiderSub = await agentSub(outsider);
    const created = await apiContact(h, admin.token, accountId, inboxId, 'Newcomer');
    const m = await outsiderSub.next('contact.created', (x) => x.data.id === created.contactId);
    expect(m.data).toMatchObject({ id: created.contactId, name: 'Newcomer', type: 'contact', account_id: accountId });
    expect(await sub.none('contact.created', 200)).toEqual([]);
  });

  it('status changes reach agents and the contact; assignee.changed reaches agents only', async () => {
    const { conv, sub } = await contactWithConversation();
    const adminSub = await agentSub(admin);
    const r = await h.api('POST', `/api/v1/accounts/${accountId}/conversations/${conv.displayId}/toggle_status`, { token: admin.token, body: { status: 'resolved' } });
    expect(r.status).toBe(200);
    for (const s of [sub, adminSub]) {
      const m = await s.next('conversation.status_changed', (x) => x.data.id === conv.displayId);
      expect(m.data).toMatchObject({ id: conv.displayId, status: 'resolved', account_id: accountId });
    }
    const a = await h.api('POST', `/api/v1/accounts/${accountId}/conversations/${conv.displayId}/assignments`, { token: admin.token, body: { assignee_id: member.id } });
    expect(a.status).toBe(200);
    const m = await adminSub.next('assignee.changed', (x) => x.data.id === conv.displayId);
    expect(m.data.meta.assignee).toMatchObject({ id: member.id, type: 'user' });
    expect(await sub.none('assignee.changed', 300)).toEqual([]);
  });

  it('message.updated (delivery status from the integration) carries previous_changes', async () => {
    const { conv, sub } = await contactWithConversation();
    const reply = await apiMessage(h, admin.token, accountId, conv.displayId, { content: 'will be read' });
    const r = await h.api('PATCH', `/api/v1/accounts/${accountId}/conversations/${conv.displayId}/messages/${reply.id}`, { token: admin.token, body: { status: 'read' } });
    expect(r.status).toBe(200);
    const m = await sub.next('message.updated', (x) => x.data.id === reply.id);
    expect(m.data).toMatchObject({ id: reply.id, status: 'read', previous_changes: { status: ['sent', 'read'] }, account_id: accountId });
  });

  it('keeps accounts apart', async () => {
    const other = await h.account();
    const otherSub = await subscribe(consumer(h), { pubsub_token: other.admin.pubsub_token, account_id: other.accountId, user_id: other.admin.id });
    const { conv, sub } = await contactWithConversation();
    const reply = await apiMessage(h, admin.token, accountId, conv.displayId, { content: 'account one' });
    await sub.next('message.created', (x) => x.data.id === reply.id);
    await new Promise((r) => setTimeout(r, 200));
    expect(otherSub.received).toEqual([]);
  });
});

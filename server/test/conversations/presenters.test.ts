import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { createContact, createConversation, postMessage, scene, type Scene } from '../support/conversations.js';
import { loadMessagePushData, loadMessageWebhookData } from '../../src/messages/presenters.js';
import { loadConversationPushData, loadConversationWebhookData } from '../../src/conversations/presenters.js';
import { loadContactPushData, loadContactWebhookData } from '../../src/contacts/presenters.js';

/** Every key anywhere in a JSON value. */
function allKeys(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => allKeys(x, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (out.add(k), allKeys(x, out));
  return out;
}
const SECRET_KEYS = ['pubsub_token', 'hmac_token', 'secret', 'access_token', 'token'];

describeEachDb('presenters for webhooks and sockets', (dialect) => {
  let h: TestServer;
  let s: Scene;
  let db: TestServer['server']['ctx']['database']['db'];
  const internalId = async (displayId: number) =>
    (await db.selectFrom('conversations').select('id').where('account_id', '=', s.accountId).where('display_id', '=', displayId).executeTakeFirstOrThrow()).id;

  beforeAll(async () => {
    h = await startTestServer(dialect);
    s = await scene(h);
    db = h.server.ctx.database.db;
  });
  afterAll(() => h.close());

  it('message webhook data matches the seed callback example (incoming, sender.type contact) and carries no secrets', async () => {
    const { contact, sourceId } = await createContact(h, s, { name: 'contact-name', email: 'cn@example.com' });
    const conv = await createConversation(h, s, { source_id: sourceId });
    const m = (await postMessage(h, s, conv.id, { content: 'This is an incoming message from API Channel\\\nline two\n\n', message_type: 'incoming', source_id: 'ext-9' })).body;
    const data = (await loadMessageWebhookData(db, m.id))!;
    expect(data).toMatchObject({
      id: m.id,
      content: 'This is an incoming message from API Channel\nline two',
      message_type: 'incoming',
      private: false,
      content_type: null,
      content_attributes: {},
      additional_attributes: {},
      source_id: 'ext-9',
      sender: { id: contact.id, name: 'contact-name', email: 'cn@example.com', type: 'contact', account: { id: s.accountId } },
      inbox: { id: s.inbox.id, name: 'API Channel' },
      account: { id: s.accountId, name: expect.any(String) },
      conversation: {
        channel: 'Channel::Api',
        id: conv.id,
        inbox_id: s.inbox.id,
        status: 'open',
        account: { id: s.accountId },
        contact_inbox: { source_id: sourceId, hmac_verified: false },
        meta: { sender: { id: contact.id, type: 'contact' }, assignee: null, hmac_verified: false },
      },
    });
    expect(new Date(data.created_at as string).toISOString()).toBe(data.created_at);
    const nested = (data.conversation as any).messages;
    expect(nested).toHaveLength(1);
    expect(nested[0]).toMatchObject({ id: m.id, message_type: 0, conversation_id: conv.id, content: 'This is an incoming message from API Channel\nline two' });
    expect(Number.isInteger(nested[0].created_at)).toBe(true);
    for (const k of SECRET_KEYS) expect(allKeys(data).has(k), k).toBe(false);
  });

  it('private notes: top-level content/private are the note, conversation.messages shows the last public message; user sender', async () => {
    const conv = await createConversation(h, s);
    const pub = (await postMessage(h, s, conv.id, { content: 'public reply' })).body;
    const note = (await postMessage(h, s, conv.id, { content: 'internal note', private: true })).body;
    const data = (await loadMessageWebhookData(db, note.id))!;
    expect(data).toMatchObject({ content: 'internal note', private: true, message_type: 'outgoing' });
    expect(data.sender).toEqual({ id: s.admin.id, name: 'Admin', email: s.admin.email, type: 'user' });
    expect((data.conversation as any).messages.map((x: any) => x.id)).toEqual([pub.id]);
  });

  it('message push data: columns, integer type, unix created_at, display id, conversation summary, sender, echo_id', async () => {
    const { sourceId } = await createContact(h, s);
    const conv = await createConversation(h, s, { source_id: sourceId });
    const m = (await postMessage(h, s, conv.id, { content: 'hi', message_type: 'incoming', echo_id: 'e-1' })).body;
    const data = (await loadMessagePushData(db, m.id))!;
    expect(data).toMatchObject({
      id: m.id,
      content: 'hi',
      account_id: s.accountId,
      inbox_id: s.inbox.id,
      conversation_id: conv.id,
      message_type: 0,
      private: false,
      status: 'sent',
      content_type: null,
      content_attributes: {},
      sender_type: 'Contact',
      echo_id: 'e-1',
      conversation: { assignee_id: null, unread_count: 1, contact_inbox: { source_id: sourceId } },
      sender: { type: 'contact' },
    });
    expect(Number.isInteger(data.created_at)).toBe(true);
    expect(Number.isInteger((data.conversation as any).last_activity_at)).toBe(true);
    // Unread = incoming messages after the agents' last visit: read, then one more message, then unread again.
    expect((await h.api('POST', `${s.base}/conversations/${conv.id}/update_last_seen`, { token: s.admin.token })).status).toBe(200);
    expect(((await loadMessagePushData(db, m.id)) as any).conversation.unread_count).toBe(0);
    const later = (await postMessage(h, s, conv.id, { content: 'and another', message_type: 'incoming' })).body;
    expect(((await loadMessagePushData(db, later.id)) as any).conversation.unread_count).toBe(1);
    expect((await h.api('POST', `${s.base}/conversations/${conv.id}/unread`, { token: s.admin.token })).status).toBe(200);
    expect(((await loadMessagePushData(db, later.id)) as any).conversation.unread_count).toBe(1);
    for (const k of SECRET_KEYS) expect(allKeys(data).has(k), k).toBe(false);
  });

  it('conversation push and webhook data: display id, contact_inbox without pubsub_token, account in webhook data', async () => {
    const agent = await h.user(s.accountId, { name: 'Assignee' });
    await db.insertInto('inbox_members').values({ inbox_id: s.inbox.id, user_id: agent.id, created_at: Date.now() }).execute();
    const conv = await createConversation(h, s, { assignee_id: agent.id });
    await h.api('POST', `${s.base}/conversations/${conv.id}/labels`, { token: s.admin.token, body: { labels: ['vip'] } });
    const id = await internalId(conv.id);
    const push = (await loadConversationPushData(db, id))!;
    expect(push).toMatchObject({
      id: conv.id,
      inbox_id: s.inbox.id,
      channel: 'Channel::Api',
      status: 'open',
      labels: ['vip'],
      messages: [],
      meta: { assignee: { id: agent.id, name: 'Assignee', type: 'user' }, assignee_type: 'User', sender: { type: 'contact' } },
    });
    expect(push).not.toHaveProperty('account');
    const hook = (await loadConversationWebhookData(db, id))!;
    expect(hook).toMatchObject({ id: conv.id, account: { id: s.accountId }, contact_inbox: { id: expect.any(Number) } });
    for (const d of [push, hook]) for (const k of SECRET_KEYS) expect(allKeys(d).has(k), k).toBe(false);
  });

  it('contact webhook data has no type key; push data has type contact', async () => {
    const { contact } = await createContact(h, s, { email: 'wh@example.com', custom_attributes: { tier: 'gold' } });
    const hook = (await loadContactWebhookData(db, contact.id))!;
    expect(hook).toMatchObject({ id: contact.id, email: 'wh@example.com', custom_attributes: { tier: 'gold' }, account: { id: s.accountId }, avatar: '', thumbnail: '' });
    expect(hook).not.toHaveProperty('type');
    expect(await loadContactPushData(db, contact.id)).toMatchObject({ id: contact.id, type: 'contact' });
  });

  it('every loader returns null when the row is gone', async () => {
    const { contact, sourceId } = await createContact(h, s);
    const conv = await createConversation(h, s, { source_id: sourceId });
    const m = (await postMessage(h, s, conv.id, { content: 'bye' })).body;
    const id = await internalId(conv.id);
    await h.api('DELETE', `${s.base}/contacts/${contact.id}`, { token: s.admin.token });
    expect(await loadMessagePushData(db, m.id)).toBeNull();
    expect(await loadMessageWebhookData(db, m.id)).toBeNull();
    expect(await loadConversationPushData(db, id)).toBeNull();
    expect(await loadConversationWebhookData(db, id)).toBeNull();
    expect(await loadContactWebhookData(db, contact.id)).toBeNull();
    expect(await loadContactPushData(db, contact.id)).toBeNull();
  });
});

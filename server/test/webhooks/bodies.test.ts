import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { recordEvent } from '../../src/kernel/events/outbox.js';
import { EventReader } from '../../src/kernel/events/read.js';
import type { AnyOutboxEvent } from '../../src/kernel/events/types.js';
import { webhookBodies } from '../../src/webhooks/bodies.js';
import { MESSAGE_TYPE } from '../../src/kernel/constants.js';
import { webhookBody, webhookEventOf } from '../../src/webhooks/presenters.js';

/**
 * Issue 13: the webhook listener builds the bodies of a whole batch from data loaded once for it
 * (src/webhooks/bodies.ts). Every body must be byte for byte what `webhookBody` builds for the
 * event alone (its own queries, the shape the conformance and webhook tests hold): messages of
 * every kind and sender, conversation events with changed attributes, typing by a contact and by
 * an agent, contact and inbox events, several conversations and two accounts in one batch.
 */
describeEachDb('webhook bodies built per batch', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect);
  });
  afterAll(() => h?.close());

  async function tenant(name: string) {
    const { accountId, admin } = await h.account({ name });
    const agent = await h.user(accountId, { name: `Agent of ${name}` });
    const base = `/api/v1/accounts/${accountId}`;
    const api = async (method: string, p: string, body?: unknown, token = admin.token) => {
      const r = await h.api(method, `${base}${p}`, { token, body });
      expect(r.status, `${method} ${p}: ${JSON.stringify(r.body)}`).toBe(200);
      return r.body;
    };
    const inbox = await api('POST', '/inboxes', { name: `Inbox of ${name}`, channel: { type: 'api' } });
    await api('POST', '/inbox_members', { inbox_id: inbox.id, user_ids: [agent.id] });
    const conversations: { id: number; displayId: number; contactId: number }[] = [];
    for (const who of ['Ada', 'Linus']) {
      const c = await api('POST', '/contacts', { inbox_id: inbox.id, name: who, email: `${who.toLowerCase()}-${accountId}@example.com` });
      const conv = await api('POST', '/conversations', { source_id: c.payload.contact_inbox.source_id, inbox_id: inbox.id });
      const row = await h.server.ctx.database.db
        .selectFrom('conversations')
        .select('id')
        .where('account_id', '=', accountId)
        .where('display_id', '=', conv.id)
        .executeTakeFirstOrThrow();
      conversations.push({ id: row.id, displayId: conv.id, contactId: c.payload.contact.id });
    }
    return { accountId, admin, agent, api, inbox, conversations };
  }

  it('every body of a mixed batch has the bytes the event builds alone', { timeout: 60_000 }, async () => {
    const database = h.server.ctx.database;
    const start = Number((await database.db.selectFrom('events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst())?.m ?? 0);
    const A = await tenant('Acme');
    const B = await tenant('Bolt');
    const messageIds: number[] = [];
    for (const t of [A, B]) {
      const [c1, c2] = t.conversations;
      const msgs = `/conversations/${c1.displayId}/messages`;
      messageIds.push((await t.api('POST', msgs, { content: 'Hello **there**', message_type: 'incoming', echo_id: 'e-1' })).id);
      messageIds.push((await t.api('POST', msgs, { content: 'An answer', message_type: 'outgoing' })).id);
      messageIds.push((await t.api('POST', msgs, { content: 'A note', message_type: 'outgoing', private: true }, t.agent.token)).id);
      messageIds.push((await t.api('POST', `/conversations/${c2.displayId}/messages`, { content: 'Other one', message_type: 'incoming' })).id);
      await t.api('POST', `/conversations/${c1.displayId}/toggle_status`, { status: 'resolved' });
      await t.api('POST', `/conversations/${c2.displayId}/custom_attributes`, { custom_attributes: { plan: 'gold' } });
      await t.api('POST', `/conversations/${c2.displayId}/labels`, { labels: ['vip'] });
      await t.api('POST', `/conversations/${c1.displayId}/assignments`, { assignee_id: t.agent.id });
      await t.api('PATCH', `/contacts/${c1.contactId}`, { name: 'Ada L.' });
      await t.api('PATCH', `/inboxes/${t.inbox.id}`, { name: `Renamed ${t.accountId}` });
      // Typing by the agent and by the contact, and a message update, as services record them.
      await database.transaction(async (trx) => {
        await recordEvent(trx, dialect, t.accountId, 'conversation.typing_on', { conversation_id: c1.id, typist: { type: 'user', id: t.agent.id }, is_private: false });
        await recordEvent(trx, dialect, t.accountId, 'conversation.typing_off', { conversation_id: c2.id, typist: { type: 'contact', id: c2.contactId }, is_private: false });
        await recordEvent(trx, dialect, t.accountId, 'message.updated', {
          message_id: messageIds[messageIds.length - 1],
          conversation_id: c2.id,
          previous_changes: { status: ['sent', 'read'] },
        });
        // Gone subjects: no body either way.
        await recordEvent(trx, dialect, t.accountId, 'message.created', { message_id: 999_999_999, conversation_id: c1.id });
        await recordEvent(trx, dialect, t.accountId, 'conversation.updated', { conversation_id: 999_999_999 });
      });
    }

    const events = (await new EventReader(database).read(database.db, start, 1000)).filter((e) => webhookEventOf(e.name)) as AnyOutboxEvent[];
    const names = new Set(events.map((e) => e.name));
    for (const n of ['message.created', 'message.updated', 'conversation.created', 'conversation.status_changed', 'conversation.updated', 'conversation.typing_on', 'conversation.typing_off', 'contact.created', 'contact.updated', 'inbox.created', 'inbox.updated']) {
      expect(names.has(n as AnyOutboxEvent['name']), n).toBe(true);
    }

    const batched = await webhookBodies(database.db, events);
    const activity = new Set(
      (await database.db.selectFrom('messages').select('id').where('message_type', '=', MESSAGE_TYPE.activity).execute()).map((m) => m.id),
    );
    let compared = 0;
    for (const e of events) {
      // Activity lines (status, assignment) are routed nowhere: no body (next test).
      const alone = (e.name === 'message.created' || e.name === 'message.updated') && activity.has(e.payload.message_id) ? null : await webhookBody(database.db, e);
      const got = batched.get(e.id);
      expect(batched.has(e.id), `event ${e.id} ${e.name}`).toBe(true);
      if (alone === null) {
        expect(got ?? null, `${e.name} ${e.id}`).toBeNull();
        continue;
      }
      expect(got?.body, `${e.name} ${e.id}`).toBe(alone);
      if (e.name === 'message.created' || e.name === 'message.updated') expect(got?.messageId).toBe(e.payload.message_id);
      else expect(got?.messageId).toBeNull();
      compared++;
    }
    expect(compared).toBeGreaterThan(30);
    // The same bodies one event at a time (a batch of one, as the dispatcher isolates a failing batch).
    for (const e of events.slice(0, 12)) expect((await webhookBodies(database.db, [e])).get(e.id)?.body ?? null).toBe(batched.get(e.id)?.body ?? null);
  });

  it('an activity message has no webhook body (activity messages never leave as webhooks)', async () => {
    const t = await tenant('Quiet');
    const database = h.server.ctx.database;
    const [c] = t.conversations;
    const start = Number((await database.db.selectFrom('events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst())?.m ?? 0);
    await t.api('POST', `/conversations/${c.displayId}/toggle_status`, { status: 'resolved' }); // writes an activity line
    const events = (await new EventReader(database).read(database.db, start, 100)) as AnyOutboxEvent[];
    const activity = [];
    for (const e of events) {
      if (e.name !== 'message.created') continue;
      const m = await database.db.selectFrom('messages').select('message_type').where('id', '=', e.payload.message_id).executeTakeFirstOrThrow();
      if (m.message_type === MESSAGE_TYPE.activity) activity.push(e);
    }
    expect(activity.length).toBeGreaterThan(0);
    const bodies = await webhookBodies(database.db, activity);
    for (const e of activity) expect(bodies.get(e.id)).toBeNull();
  });
});

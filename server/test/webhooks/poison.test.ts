import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { recordEvent } from '../../src/kernel/events/outbox.js';
import { now } from '../../src/kernel/db.js';
import { startReceiver, waitUntil, type Receiver } from './support.js';

/**
 * Issue 9, item 1, with the real webhooks listener: a message whose stored JSON is nested so deep
 * that building the webhook body overflows the stack (JSON.stringify) used to stop every webhook of
 * every account for good. Now that event becomes a dead event of the account, and later events of
 * every account are delivered. The poison is written below the HTTP edge (which limits depth), the
 * way any path to a stored value could.
 */
describeEachDb('webhooks: one poisoned event does not stop deliveries', (dialect) => {
  let h: TestServer;
  let rx: Receiver;

  beforeAll(async () => {
    h = await startTestServer(dialect, { WEBHOOK_RETRY_SCHEDULE: '0.2,0.2,0.2' });
    h.server.ctx.dispatcher.setRetryPolicy({ backoffMs: 5, transientMs: 5, transientMaxMs: 50 });
    rx = await startReceiver();
  });
  afterAll(async () => {
    await rx?.close();
    await h?.close();
  });

  async function tenant(tag: string) {
    const { accountId, admin } = await h.account();
    const api = (method: string, p: string, body?: unknown) => h.api(method, `/api/v1/accounts/${accountId}${p}`, { token: admin.token, body });
    const hook = await api('POST', '/webhooks', { webhook: { url: `${rx.url}?tenant=${tag}`, subscriptions: ['message_created'] } });
    expect(hook.status).toBe(200);
    const inbox = await h.inbox(accountId);
    const c = await api('POST', '/contacts', { inbox_id: inbox.id, name: `contact ${tag}` });
    expect(c.status).toBe(200);
    const conv = await api('POST', '/conversations', { source_id: c.body.payload.contact_inbox.source_id, inbox_id: inbox.id });
    expect(conv.status).toBe(200);
    const post = async (content: string) => {
      const m = await api('POST', `/conversations/${conv.body.id}/messages`, { content, message_type: 'incoming' });
      expect(m.status).toBe(200);
      return m.body.id as number;
    };
    return { accountId, admin, api, inbox, contactId: c.body.payload.contact.id as number, displayId: conv.body.id as number, post };
  }

  it('the poisoned message of account A is recorded as dead; later messages of A and B are delivered', async () => {
    const A = await tenant('a');
    const B = await tenant('b');
    const bodies = () => rx.requests.map((r) => r.json).filter((j) => j?.event === 'message_created');

    // A message of A whose content_attributes nest 50 000 levels deep, with its outbox event.
    const conv = await h.server.ctx.database.db
      .selectFrom('conversations')
      .select('id')
      .where('account_id', '=', A.accountId)
      .where('display_id', '=', A.displayId)
      .executeTakeFirstOrThrow();
    const deep = '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000);
    const poisonId = await h.server.ctx.database.transaction(async (trx) => {
      const t = now();
      const m = await trx
        .insertInto('messages')
        .values({
          account_id: A.accountId,
          inbox_id: A.inbox.id,
          conversation_id: conv.id,
          content: 'poison',
          message_type: 0,
          content_type: 'text',
          content_attributes: deep,
          additional_attributes: '{}',
          private: 0,
          status: 0,
          source_id: null,
          sender_type: 'Contact',
          sender_id: A.contactId,
          echo_id: null,
          created_at: t,
          updated_at: t,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordEvent(trx, dialect, A.accountId, 'message.created', { message_id: m.id, conversation_id: conv.id });
      return m.id;
    });

    const a1 = await A.post('after the poison, in A');
    const b1 = await B.post('after the poison, in B');
    await waitUntil(() => bodies().some((b) => b.id === a1) && bodies().some((b) => b.id === b1), 20_000, 'messages after the poisoned one');
    expect(bodies().some((b) => b.id === poisonId)).toBe(false);

    const dead = await A.api('GET', '/dead_events');
    expect(dead.status).toBe(200);
    expect(dead.body.payload).toHaveLength(1);
    expect(dead.body.payload[0]).toMatchObject({ listener: 'webhooks', event: 'message.created', account_id: A.accountId, attempts: 3 });
    expect(dead.body.payload[0].error).toMatch(/Maximum call stack size exceeded/);
    const events = await h.server.ctx.database.db.selectFrom('events').select(['id', 'payload']).where('account_id', '=', A.accountId).execute();
    const poisonEvent = events.find((e) => JSON.parse(e.payload).message_id === poisonId)!;
    expect(dead.body.payload[0].event_id).toBe(Number(poisonEvent.id));
    // B has nothing to see; A's is not B's to see.
    expect((await B.api('GET', '/dead_events')).body.payload).toEqual([]);
    expect((await h.api('GET', `/api/v1/accounts/${A.accountId}/dead_events`, { token: B.admin.token })).status).toBe(401);

    // And it stays that way: the next message of A is delivered too.
    const a2 = await A.post('and later');
    await waitUntil(() => bodies().some((b) => b.id === a2), 20_000, 'a later message of A');
  });
});

import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { consumer, disconnectAll, insertContactSession, subscribe } from './cable.js';

describeEachDb('/cable presence: update_presence → presence.update', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect);
  });
  afterEach(() => disconnectAll());
  afterAll(() => h.close());

  it('answers an agent with the account users and contacts online, and a contact with users only', async () => {
    const { accountId, admin } = await h.account();
    const inbox = await h.inbox(accountId);
    const busyAlways = await h.user(accountId);
    await h.server.ctx.database.db
      .updateTable('account_users')
      .set({ availability: 2, auto_offline: 0 })
      .where('user_id', '=', busyAlways.id)
      .execute();
    const offlineAgent = await h.user(accountId);
    const { contactId, pubsub_token } = await insertContactSession(h, accountId, inbox.id);

    const contact = await subscribe(consumer(h), { pubsub_token });
    contact.sub.perform('update_presence');
    const forContact = await contact.next('presence.update');
    expect(forContact.data).toEqual({ account_id: accountId, users: { [busyAlways.id]: 'busy' } });

    const agent = await subscribe(consumer(h), { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });
    agent.sub.perform('update_presence');
    const forAgent = await agent.next('presence.update');
    expect(forAgent.data).toEqual({
      account_id: accountId,
      users: { [admin.id]: 'online', [busyAlways.id]: 'busy' },
      contacts: { [contactId]: 'online' },
    });
    expect(forAgent.data.users).not.toHaveProperty(String(offlineAgent.id));

    // Only the subscriber's own stream gets it: the contact saw one presence.update, not the agent's.
    expect(contact.received.filter((m) => m.event === 'presence.update')).toHaveLength(1);
  });

  it('keeps accounts apart', async () => {
    const a = await h.account();
    const b = await h.account();
    const inboxB = await h.inbox(b.accountId);
    const { pubsub_token } = await insertContactSession(h, b.accountId, inboxB.id);
    const contactB = await subscribe(consumer(h), { pubsub_token });
    contactB.sub.perform('update_presence');
    await contactB.next('presence.update');
    const agentA = await subscribe(consumer(h), { pubsub_token: a.admin.pubsub_token, account_id: a.accountId, user_id: a.admin.id });
    agentA.sub.perform('update_presence');
    const m = await agentA.next('presence.update');
    expect(m.data).toEqual({ account_id: a.accountId, users: { [a.admin.id]: 'online' }, contacts: {} });
  });

  it('exposes a synchronous lookup for presenters on this node', async () => {
    const { accountId, admin } = await h.account();
    const presence = h.server.ctx.realtime!.presence;
    expect(presence.isPresent(accountId, admin.id)).toBe(false);
    const agent = await subscribe(consumer(h), { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });
    agent.sub.perform('update_presence');
    await agent.next('presence.update');
    expect(presence.isPresent(accountId, admin.id)).toBe(true);
  });
});

import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Value } from 'typebox/value';
import { CABLE_EVENTS } from '../../src/realtime/event-schemas.js';
import { describeEachDb, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { apiContact, apiConversation, consumer, disconnectAll, subscribe, until, type TestSubscription } from './cable.js';

/**
 * Collision detection (issue 11): the agent subscription's `viewing` action and the
 * `conversation.viewing` event it sends to the account's other agents who can see the inbox.
 */
describeEachDb('/cable viewing (collision detection)', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let admin: TestUser;
  let alice: TestUser; // member of the inbox
  let bob: TestUser; // member of the inbox
  let carol: TestUser; // agent of the account, not a member of the inbox
  let inboxId: number;
  let conv: { displayId: number; id: number };
  let contactToken: string;

  beforeAll(async () => {
    h = await startTestServer(dialect);
    ({ accountId, admin } = await h.account());
    alice = await h.user(accountId, { name: 'Alice' });
    bob = await h.user(accountId, { name: 'Bob' });
    carol = await h.user(accountId, { name: 'Carol' });
    inboxId = (await h.inbox(accountId, { members: [alice.id, bob.id] })).id;
    const contact = await apiContact(h, admin.token, accountId, inboxId, 'Viewed');
    contactToken = contact.pubsubToken;
    conv = await apiConversation(h, admin.token, accountId, inboxId, contact);
  });
  afterEach(() => disconnectAll());
  afterAll(() => h.close());

  const agent = (u: TestUser, acct = accountId) => subscribe(consumer(h), { pubsub_token: u.pubsub_token, account_id: acct, user_id: u.id });
  const viewing = (s: TestSubscription, conversation_id: unknown, extra: Record<string, unknown> = {}) => s.sub.perform('viewing', { conversation_id, ...extra });
  const views = (s: TestSubscription) => s.received.filter((m) => m.event === 'conversation.viewing');
  const checkSchema = (data: unknown) => expect([...Value.Errors(CABLE_EVENTS['conversation.viewing'], data)].map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);

  it('B sees A viewing (and typing); A’s own sockets, an agent outside the inbox and the contact do not; admins do', async () => {
    const a1 = await agent(alice);
    const a2 = await agent(alice);
    const b = await agent(bob);
    const c = await agent(carol);
    const boss = await agent(admin);
    const visitor = await subscribe(consumer(h), { pubsub_token: contactToken });

    viewing(a1, conv.displayId);
    const seen = await b.next('conversation.viewing', (m) => m.data.viewing === true);
    checkSchema(seen.data);
    expect(seen.data).toEqual({
      account_id: accountId,
      conversation_id: conv.displayId,
      user: { id: alice.id, name: 'Alice', available_name: 'Alice', avatar_url: '', type: 'user', availability_status: expect.any(String), thumbnail: '' },
      viewing: true,
    });
    await boss.next('conversation.viewing', (m) => m.data.user.id === alice.id);

    viewing(a1, conv.displayId, { typing: true });
    const typing = await b.next('conversation.viewing', (m) => m.data.typing === true);
    checkSchema(typing.data);
    expect(typing.data).toMatchObject({ conversation_id: conv.displayId, viewing: true, typing: true });

    await b.none('conversation.viewing', 300);
    expect(views(a1)).toEqual([]);
    expect(views(a2)).toEqual([]);
    expect(views(c)).toEqual([]);
    expect(visitor.received.filter((m) => m.event === 'conversation.viewing')).toEqual([]);
  });

  // The first test has administrators only receive; an administrator viewing goes through the query
  // without the inbox-membership condition (it once bound a JS boolean, which SQLite refuses).
  it('an administrator viewing any inbox’s conversation (member or not) is seen by the inbox’s agents', async () => {
    const boss = await agent(admin);
    const b = await agent(bob);
    const c = await agent(carol);
    viewing(boss, conv.displayId);
    const seen = await b.next('conversation.viewing', (m) => m.data.user.id === admin.id && m.data.viewing === true);
    checkSchema(seen.data);
    expect(seen.data).toMatchObject({ account_id: accountId, conversation_id: conv.displayId, viewing: true, user: { id: admin.id, type: 'user' } });
    viewing(boss, conv.displayId, { typing: true });
    await b.next('conversation.viewing', (m) => m.data.user.id === admin.id && m.data.typing === true);
    viewing(boss, null);
    await b.next('conversation.viewing', (m) => m.data.user.id === admin.id && m.data.viewing === false);
    await b.none('conversation.viewing', 300);
    expect(views(c)).toEqual([]);
  });

  it('leaving (null), switching and closing the socket say viewing:false for the conversation left', async () => {
    const contact2 = await apiContact(h, admin.token, accountId, inboxId, 'Second');
    const conv2 = await apiConversation(h, admin.token, accountId, inboxId, contact2);
    const a = await agent(alice);
    const b = await agent(bob);

    viewing(a, conv.displayId);
    await b.next('conversation.viewing', (m) => m.data.conversation_id === conv.displayId && m.data.viewing);
    viewing(a, null);
    const left = await b.next('conversation.viewing', (m) => m.data.conversation_id === conv.displayId && !m.data.viewing);
    checkSchema(left.data);

    viewing(a, conv.displayId);
    await until(() => views(b).filter((m) => m.data.conversation_id === conv.displayId && m.data.viewing).length === 2, 'viewing again');
    viewing(a, conv2.displayId);
    await b.next('conversation.viewing', (m) => m.data.conversation_id === conv2.displayId && m.data.viewing);
    await until(() => views(b).filter((m) => m.data.conversation_id === conv.displayId && !m.data.viewing).length === 2, 'switch leaves the first');

    // Unsubscribing (the dashboard's session ends) says viewing:false too.
    a.sub.unsubscribe();
    await b.next('conversation.viewing', (m) => m.data.conversation_id === conv2.displayId && !m.data.viewing);

    // A socket that closes while viewing says viewing:false.
    const a3c = consumer(h);
    const a3 = await subscribe(a3c, { pubsub_token: alice.pubsub_token, account_id: accountId, user_id: alice.id });
    viewing(a3, conv2.displayId);
    await until(() => views(b).filter((m) => m.data.conversation_id === conv2.displayId && m.data.viewing).length === 2, 'viewing from a new socket');
    a3c.disconnect();
    await until(() => views(b).filter((m) => m.data.conversation_id === conv2.displayId && !m.data.viewing).length === 2, 'close says viewing:false');
  });

  it('ignores a conversation of another account, one outside the agent’s inboxes, malformed ids and contacts performing it', async () => {
    const other = await h.account();
    const otherInbox = (await h.inbox(other.accountId)).id;
    const foreign = await apiConversation(h, other.admin.token, other.accountId, otherInbox, await apiContact(h, other.admin.token, other.accountId, otherInbox, 'Foreign'));
    const hiddenInbox = (await h.inbox(accountId, { name: 'Hidden', members: [carol.id] })).id;
    const hidden = await apiConversation(h, admin.token, accountId, hiddenInbox, await apiContact(h, admin.token, accountId, hiddenInbox, 'Hidden'));

    const a = await agent(alice);
    const b = await agent(bob);
    const boss = await agent(admin);
    const c = await agent(carol);
    const visitor = await subscribe(consumer(h), { pubsub_token: contactToken });

    viewing(a, 999_999); // no such conversation in the account
    viewing(a, hidden.displayId); // Alice is not a member of that inbox
    for (const bad of ['x', -1, 0, 1.5, 2 ** 40, { id: conv.displayId }, [conv.displayId], true]) viewing(a, bad);
    viewing(a, conv.displayId, { typing: 'yes' });
    a.sub.perform('viewing', {}); // no conversation_id at all
    visitor.sub.perform('viewing', { conversation_id: conv.displayId });
    // Then a valid one from another agent: it arrives while the ignored ones would have.
    viewing(c, hidden.displayId);
    await boss.next('conversation.viewing', (m) => m.data.user.id === carol.id && m.data.conversation_id === hidden.displayId);
    await b.none('conversation.viewing', 400);
    expect(views(b)).toEqual([]);
    expect(views(boss).filter((m) => m.data.user.id === alice.id)).toEqual([]);
    // Carol's view of her inbox reached the admin, never Alice or Bob (they cannot see that inbox).
    expect(views(a)).toEqual([]);

    // A display id means the subscription's account's conversation: the other account never hears of it.
    const foreignAdmin = await agent(other.admin, other.accountId);
    expect(foreignAdmin.state).toBe('connected');
    viewing(a, foreign.displayId);
    await b.next('conversation.viewing', (m) => m.data.account_id === accountId && m.data.conversation_id === foreign.displayId);
    await foreignAdmin.none('conversation.viewing', 300);
    expect(views(foreignAdmin)).toEqual([]);
  });

  it('repeats within a second are dropped; a heartbeat later is sent again; too many statements are ignored', async () => {
    const own = await apiConversation(h, admin.token, accountId, inboxId, await apiContact(h, admin.token, accountId, inboxId, 'Rate'));
    const a = await agent(alice);
    const b = await agent(bob);
    // Earlier tests' sockets may still be saying goodbye: count this conversation's frames only.
    const mine = () => views(b).filter((m) => m.data.conversation_id === own.displayId);
    viewing(a, own.displayId);
    viewing(a, own.displayId);
    viewing(a, own.displayId);
    await b.next('conversation.viewing', (m) => m.data.conversation_id === own.displayId && m.data.viewing);
    await b.none('conversation.viewing', 300);
    expect(mine()).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1100));
    viewing(a, own.displayId); // the 20 s heartbeat, here after a second
    await until(() => mine().length === 2, 'heartbeat');

    // Alternating statements are not repeats, but past 30 in 10 s they are ignored.
    for (let i = 0; i < 60; i++) viewing(a, i % 2 ? own.displayId : null);
    await b.none('conversation.viewing', 800);
    expect(mine().length).toBeLessThanOrEqual(2 + 30);
    expect(mine().length).toBeGreaterThan(2 + 10);
  });
});

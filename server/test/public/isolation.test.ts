import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { startReceiver, type Receiver } from '../webhooks/support.js';
import { consumer, disconnectAll, subscribe } from '../realtime/cable.js';
import { LIMITS_OFF, PublicClient, appApi, eventsOf, hashOf, writeCounts, type Inbox } from './helpers.js';

const NOT_FOUND = { error: 'Resource could not be found' };

describeEachDb('client API: one contact cannot reach another’s conversations', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let admin: TestUser;
  let inbox: Inbox;
  let otherInbox: Inbox;
  let alice: PublicClient;
  let bob: PublicClient;
  let app: ReturnType<typeof appApi>;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    h = await startTestServer(dialect, LIMITS_OFF);
    ({ accountId, admin } = await h.account());
    inbox = await h.inbox(accountId, { name: 'Shop', webhook_url: receiver.url });
    otherInbox = await h.inbox(accountId, { name: 'Other' });
    alice = new PublicClient(h);
    bob = new PublicClient(h);
    app = appApi(h, accountId, admin);
  });
  afterEach(() => disconnectAll());
  afterAll(async () => {
    await h?.close();
    await receiver?.close();
  });

  it('guessing display ids and message ids gets a 404 for every id that is not the caller’s own, and changes nothing', async () => {
    const a = await alice.session(inbox, { name: 'Alice', identifier: 'alice', identifier_hash: hashOf(inbox.hmac_token, 'alice') });
    const b = await bob.session(inbox, { name: 'Bob', identifier: 'bob', identifier_hash: hashOf(inbox.hmac_token, 'bob') });
    const aConv = await alice.conversation(inbox, a.source_id);
    const bConvs = [await bob.conversation(inbox, b.source_id), await bob.conversation(inbox, b.source_id)];
    const bMsg = await bob.message(inbox, b.source_id, bConvs[0].id, { content: 'bob’s private matter' });
    expect(bMsg.status).toBe(200);
    // a conversation of another inbox of the same account (via the Application API)
    const created = await app.post('/contacts', { name: 'Carl', inbox_id: otherInbox.id });
    const foreign = await app.post('/conversations', { source_id: created.body.payload.contact_inbox.source_id, inbox_id: otherInbox.id });
    expect(foreign.status).toBe(200);
    // and one of another account
    const other = await h.account();
    const otherAccInbox = await h.inbox(other.accountId);
    const stranger = new PublicClient(h);
    const st = await stranger.session(otherAccInbox);
    await stranger.conversation(otherAccInbox, st.source_id);

    const before = await writeCounts(h);
    const base = `${alice.contactUrl(inbox, a.source_id)}/conversations`;
    const maxId = Math.max(...bConvs.map((c) => c.id), foreign.body.id, aConv.id) + 3;
    for (let id = 1; id <= maxId; id++) {
      if (id === aConv.id) continue;
      const attempts = [
        alice.call('GET', `${base}/${id}`),
        alice.call('GET', `${base}/${id}/messages`),
        alice.call('POST', `${base}/${id}/messages`, { content: 'intrusion' }),
        alice.call('POST', `${base}/${id}/toggle_status`, {}),
        alice.call('POST', `${base}/${id}/toggle_typing`, { typing_status: 'on' }),
        alice.call('POST', `${base}/${id}/update_last_seen`, {}),
        alice.call('PATCH', `${base}/${id}/messages/${bMsg.body.id}`, { submitted_values: [{ name: 'x', value: 'y' }] }),
      ];
      for (const r of await Promise.all(attempts)) {
        expect(r.status, `display id ${id}`).toBe(404);
        expect(r.body).toEqual(NOT_FOUND);
      }
    }
    // Bob's message id through Alice's own conversation: 404 as well.
    const viaOwn = await alice.call('PATCH', `${base}/${aConv.id}/messages/${bMsg.body.id}`, { submitted_values: [{ name: 'x' }] });
    expect(viaOwn.status).toBe(404);
    expect(await writeCounts(h)).toEqual(before);
    const list = await alice.call('GET', base);
    expect(list.body.map((c: { id: number }) => c.id)).toEqual([aConv.id]);
    expect(list.text).not.toContain('bob’s private matter');
  });

  it('a source_id only works in its own inbox, and never in another account', async () => {
    const a = await alice.session(inbox, { name: 'Alice 2' });
    const conv = await alice.conversation(inbox, a.source_id);
    expect((await alice.call('GET', alice.contactUrl(otherInbox, a.source_id))).status).toBe(404);
    expect((await alice.call('GET', `${alice.contactUrl(otherInbox, a.source_id)}/conversations/${conv.id}`)).status).toBe(404);
    const other = await h.account();
    const otherAccInbox = await h.inbox(other.accountId);
    expect((await alice.call('GET', alice.contactUrl(otherAccInbox, a.source_id))).status).toBe(404);
  });

  it('the flow end to end: contact → conversation → message; the agent sees it, the webhook and /cable carry it', async () => {
    const s = await alice.session(inbox, { name: 'Eve', email: 'eve@example.com' });
    const sub = await subscribe(consumer(h), { pubsub_token: s.pubsub_token });
    expect(sub.state).toBe('connected');
    const conv = await alice.conversation(inbox, s.source_id);
    const sent = await alice.message(inbox, s.source_id, conv.id, { content: 'I need help', echo_id: 'e-1' });
    expect(sent.status).toBe(200);

    // Application API: an incoming message from the contact
    const agentView = await app.get(`/conversations/${conv.id}/messages`);
    expect(agentView.body.payload.at(-1)).toMatchObject({ id: sent.body.id, message_type: 0, sender: { type: 'contact', id: s.id } });
    const ev = (await eventsOf(h, 'message.created')).find((e) => e.payload.message_id === sent.body.id);
    expect(ev).toBeDefined();

    // the API-channel callback
    await receiver.waitFor(1);
    const hooks = () => receiver.requests.filter((r) => r.json?.event === 'message_created' && r.json?.id === sent.body.id);
    for (let i = 0; i < 200 && !hooks().length; i++) await new Promise((ok) => setTimeout(ok, 25));
    expect(hooks()[0].json).toMatchObject({ message_type: 'incoming', content: 'I need help', sender: { id: s.id, type: 'contact' } });
    expect(hooks()[0].body).not.toContain(s.pubsub_token);

    // the contact's socket: its own message (with echo_id), the agent's reply, but never a private note
    const own = await sub.next('message.created', (m) => m.data.id === sent.body.id);
    expect(own.data.echo_id).toBe('e-1');
    await app.post(`/conversations/${conv.id}/messages`, { content: 'private note for agents', private: true });
    const reply = await app.post(`/conversations/${conv.id}/messages`, { content: 'How can I help?' });
    const got = await sub.next('message.created', (m) => m.data.id === reply.body.id);
    expect(got.data.content).toBe('How can I help?');
    expect(sub.received.some((m) => JSON.stringify(m).includes('private note for agents'))).toBe(false);

    const list = await alice.call('GET', `${alice.contactUrl(inbox, s.source_id)}/conversations/${conv.id}/messages`);
    expect(list.body.map((m: { content: string }) => m.content)).toEqual(['I need help', 'How can I help?']);
  });

  it('Idempotency-Key replays a message create instead of writing it twice', async () => {
    const s = await alice.session(inbox, { name: 'Ida' });
    const conv = await alice.conversation(inbox, s.source_id);
    const url = `${alice.contactUrl(inbox, s.source_id)}/conversations/${conv.id}/messages`;
    const first = await alice.call('POST', url, { content: 'once' }, { 'idempotency-key': 'k-1' });
    const second = await alice.call('POST', url, { content: 'once' }, { 'idempotency-key': 'k-1' });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(second.headers['idempotent-replayed']).toBe('true');
    // another session using the same key gets its own message
    const t = await bob.session(inbox, { name: 'Other Ida' });
    const tConv = await bob.conversation(inbox, t.source_id);
    const third = await bob.call('POST', `${bob.contactUrl(inbox, t.source_id)}/conversations/${tConv.id}/messages`, { content: 'once' }, { 'idempotency-key': 'k-1' });
    expect(third.status).toBe(200);
    expect(third.body.id).not.toBe(first.body.id);
  });

  it('no response leaked a token, a secret or another session’s pubsub_token', async () => {
    const secrets = [admin.token, inbox.hmac_token, inbox.secret, otherInbox.hmac_token, otherInbox.secret];
    await alice.scanForLeaks(secrets);
    await bob.scanForLeaks(secrets);
  });
});

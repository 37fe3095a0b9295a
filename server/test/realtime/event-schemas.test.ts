import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Value } from 'typebox/value';
import { CABLE_EVENTS, CableEnvelope, type CableEventName } from '../../src/realtime/event-schemas.js';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { apiContact, apiConversation, apiMessage, consumer, disconnectAll, subscribe, type CableMessage } from './cable.js';

/** Every socket push the server sends matches its schema in src/realtime/event-schemas.ts (closed objects: no undeclared key). */
describeEachDb('/cable event schemas', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect);
  });
  afterEach(() => disconnectAll());
  afterAll(() => h.close());

  const problems = (m: CableMessage) => {
    const schema = CABLE_EVENTS[m.event as CableEventName];
    if (!schema) return [`no schema for ${m.event}`];
    return [...Value.Errors(schema, m.data)].map((e) => `${m.event} ${e.instancePath}: ${e.message}`);
  };

  it('validates a push of every event, to agents and to contacts', async () => {
    const { accountId, admin } = await h.account();
    const member = await h.user(accountId, { name: 'Member' });
    const inboxId = (await h.inbox(accountId, { members: [member.id] })).id;
    const agent = await subscribe(consumer(h), { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });
    const api = (method: string, path: string, body?: unknown) => h.api(method as 'POST', `/api/v1/accounts/${accountId}${path}`, { token: admin.token, body });

    const contact = await apiContact(h, admin.token, accountId, inboxId, 'Schema Contact');
    const conv = await apiConversation(h, admin.token, accountId, inboxId, contact);
    const visitor = await subscribe(consumer(h), { pubsub_token: contact.pubsubToken });
    const reply = await apiMessage(h, member.token, accountId, conv.displayId, { content: 'hi', message_type: 'outgoing', echo_id: 'e-1' });
    const incoming = await apiMessage(h, admin.token, accountId, conv.displayId, { content: 'from the contact', message_type: 'incoming' });
    expect((await api('PATCH', `/conversations/${conv.displayId}/messages/${reply.id}`, { status: 'read' })).status).toBe(200);
    expect((await api('POST', `/conversations/${conv.displayId}/toggle_status`, { status: 'resolved' })).status).toBe(200);
    expect((await api('POST', `/conversations/${conv.displayId}/assignments`, { assignee_id: member.id })).status).toBe(200);
    const team = await api('POST', '/teams', { team: { name: 'Schema Team' } });
    expect(team.status).toBe(200);
    expect((await api('POST', `/conversations/${conv.displayId}/assignments`, { team_id: team.body.id })).status).toBe(200);
    for (const typing_status of ['on', 'off'])
      expect((await h.api('POST', `/api/v1/accounts/${accountId}/conversations/${conv.displayId}/toggle_typing_status`, { token: member.token, body: { typing_status } })).status).toBe(200);
    // Nothing writes conversation.read through the API yet; its schema still holds for what the listener would send.
    const ctx = h.server.ctx;
    await ctx.database.transaction((trx) => ctx.events(trx, accountId, 'conversation.read', { conversation_id: conv.id, performer: { type: 'contact', id: contact.contactId } }));
    expect((await api('PATCH', `/contacts/${contact.contactId}`, { name: 'Renamed' })).status).toBe(200);
    const doomed = await apiContact(h, admin.token, accountId, inboxId, 'Doomed');
    expect((await api('DELETE', `/contacts/${doomed.contactId}`)).status).toBe(200);
    const gone = await apiConversation(h, admin.token, accountId, inboxId, contact);
    expect((await api('DELETE', `/conversations/${gone.displayId}`)).status).toBe(200);
    agent.sub.perform('update_presence');
    visitor.sub.perform('update_presence');
    // Collision detection: the member opens the conversation (and types); the admin hears of it.
    const viewer = await subscribe(consumer(h), { pubsub_token: member.pubsub_token, account_id: accountId, user_id: member.id });
    viewer.sub.perform('viewing', { conversation_id: conv.displayId, typing: true });

    const events = Object.keys(CABLE_EVENTS) as CableEventName[];
    for (const event of events) await agent.next(event);
    for (const event of ['message.created', 'message.updated', 'conversation.status_changed', 'conversation.typing_on', 'presence.update']) await visitor.next(event);
    await agent.next('message.created', (m) => m.data.id === incoming.id);

    const all = [...agent.received, ...visitor.received];
    expect(all.flatMap(problems)).toEqual([]);
    for (const m of all) expect(Value.Check(CableEnvelope, m)).toBe(true);
    // The shapes the schemas admit were really exercised: a user and a contact as sender, a performer, an echo id.
    const created = all.filter((m) => m.event === 'message.created').map((m) => m.data);
    expect(created.some((d) => d.sender?.type === 'user' && d.echo_id === 'e-1')).toBe(true);
    expect(created.some((d) => d.sender?.type === 'contact')).toBe(true);
    expect(agent.received.some((m) => m.event === 'conversation.read' && m.data.performer?.type === 'contact')).toBe(true);
    expect(agent.received.some((m) => m.event === 'conversation.status_changed' && m.data.performer?.type === 'user')).toBe(true);
  });

  it('fails on a key the schema does not declare, and on an envelope whose data belongs to another event', async () => {
    const data = { id: 1, account_id: 2 };
    expect(Value.Check(CABLE_EVENTS['contact.deleted'], data)).toBe(true);
    expect(Value.Check(CABLE_EVENTS['contact.deleted'], { ...data, pubsub_token: 'x' })).toBe(false);
    expect(Value.Check(CableEnvelope, { event: 'contact.deleted', data })).toBe(true);
    expect(Value.Check(CableEnvelope, { event: 'presence.update', data })).toBe(false);
  });

  it('publishes the schemas as OpenAPI components', async () => {
    const doc = (await h.api('GET', '/api-docs/json')).body;
    const schemas = doc.components.schemas;
    for (const name of ['CableEnvelope', 'CableMessageCreated', 'CableConversationEvent', 'CableTyping', 'CablePresenceUpdate']) expect(schemas).toHaveProperty(name);
    expect(schemas.CableEnvelope.anyOf.map((s: any) => s.properties.event.enum[0]).sort()).toEqual(Object.keys(CABLE_EVENTS).sort());
  });
});

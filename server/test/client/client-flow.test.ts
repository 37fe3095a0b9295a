import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  CableClient,
  ChannelxError,
  createApplicationClient,
  createClientApi,
  unwrap,
  type CableEventMap,
  type WebSocketConstructor,
} from '@channelx/client';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { expectSeedShape, scene } from '../support/conversations.js';

/**
 * packages/client against a real server (real fetch and a real socket, no inject): the seed's
 * three calls through the Application API client, and the client API flow with /cable delivering
 * the agent's reply as a typed event. The client is imported by its package name, as the
 * dashboard and the SDK will; vitest compiles its TypeScript source.
 */

describeEachDb('@channelx/client against a real server', (dialect) => {
  let h: TestServer;
  const sockets: CableClient[] = [];
  beforeAll(async () => {
    h = await startTestServer(dialect);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await h.close();
  });

  it("the seed's three calls: contact with the inbox id → conversation by source_id → incoming message", async () => {
    const { accountId, admin, inbox } = await scene(h);
    const api = createApplicationClient({ baseUrl: h.url, token: admin.token });
    const account_id = accountId;

    const contact = await unwrap(
      api.POST('/api/v1/accounts/{account_id}/contacts', { params: { path: { account_id } }, body: { inbox_id: inbox.id, name: 'Contact' } }),
    );
    const sourceId = contact.payload.contact.contact_inboxes?.[0]?.source_id;
    expect(typeof sourceId).toBe('string');

    const conversation = await unwrap(
      api.POST('/api/v1/accounts/{account_id}/conversations', { params: { path: { account_id } }, body: { source_id: sourceId } }),
    );
    expect(Number.isInteger(conversation.id)).toBe(true);

    const message = await unwrap(
      api.POST('/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages', {
        params: { path: { account_id, conversation_id: conversation.id } },
        body: { content: 'This is an incoming message from API Channel', message_type: 'incoming' },
      }),
    );
    expectSeedShape(message);
    expect(message.message_type).toBe(0);
    expect(message.sender?.type).toBe('contact');

    // Errors arrive as ChannelxError with the status and the error body.
    const refused = createApplicationClient({ baseUrl: h.url, token: 'not-a-token' });
    const err = await unwrap(refused.GET('/api/v1/profile')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelxError);
    expect((err as ChannelxError).status).toBe(401);
  });

  it('client API: contact → conversation → message → list, and /cable brings the agent reply as a typed event', async () => {
    const { accountId, admin, inbox } = await scene(h);
    const pub = createClientApi({ baseUrl: h.url, inboxIdentifier: inbox.identifier });
    expect((await pub.inbox()).identifier).toBe(inbox.identifier);

    const contact = await pub.createContact({ name: 'Widget visitor', email: `visitor-${dialect}@example.com` });
    const session = pub.session(contact.source_id);
    expect((await session.contact()).id).toBe(contact.id);

    const conversation = await session.createConversation();
    const sent = await session.sendMessage(conversation.id, { content: 'Hello from the widget' });
    expect(sent.message_type).toBe(0);

    // The contact's socket, subscribed with the session's pubsub_token.
    const cable = new CableClient(`${h.url.replace(/^http/, 'ws')}/cable`, { WebSocket: WebSocket as unknown as WebSocketConstructor });
    sockets.push(cable);
    await cable.connect();
    const room = await cable.subscribe({ channel: 'RoomChannel', pubsub_token: contact.pubsub_token });
    const seen: Array<CableEventMap['message.created']> = [];
    room.on('message.created', (data) => seen.push(data));

    // The agent replies through the Application API.
    const api = createApplicationClient({ baseUrl: h.url, token: admin.token });
    await unwrap(
      api.POST('/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages', {
        params: { path: { account_id: accountId, conversation_id: conversation.id } },
        body: { content: 'Hi, how can we help?' },
      }),
    );

    const reply = await room.next('message.created', (m) => m.content === 'Hi, how can we help?');
    expect(reply.message_type).toBe(1);
    expect(reply.conversation_id).toBe(conversation.id);
    expect(reply.sender?.type).toBe('user');
    expect(seen.map((m) => m.content)).toContain('Hi, how can we help?');

    const listed = await session.messages(conversation.id);
    expect(listed.map((m) => m.content)).toEqual(['Hello from the widget', 'Hi, how can we help?']);
    expect((await session.conversations()).map((c) => c.id)).toContain(conversation.id);

    // A wrong token is refused by the server, and the promise says so.
    await expect(cable.subscribe({ channel: 'RoomChannel', pubsub_token: 'wrong' })).rejects.toThrow(/rejected/);
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { expectSeedShape, scene, SEED_MESSAGE } from '../support/conversations.js';

const run = promisify(execFile);

/** One curl call as a reader of the seed would type it; returns the status and the parsed body. */
async function curl(args: string[]) {
  const { stdout } = await run('curl', ['-sS', '-w', '\n%{http_code}', ...args]);
  const i = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(i + 1)), body: JSON.parse(stdout.slice(0, i)) };
}

describeEachDb("the seed's three calls with curl", (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect);
  });
  afterAll(() => h.close());

  it('create a contact with the inbox id → a conversation with its source_id → an incoming message', async () => {
    const { admin, inbox, base: path } = await scene(h); // the inbox is named 'API Channel'
    const base = `${h.url}${path}`;
    const headers = ['-H', `api_access_token: ${admin.token}`, '-H', 'Content-Type: application/json'];

    // 1. Create a contact — pass the inbox ID of the API channel.
    const contact = await curl(['-X', 'POST', `${base}/contacts`, ...headers, '-d', JSON.stringify({ inbox_id: inbox.id, name: 'Contact' })]);
    expect(contact.status).toBe(200);
    const sourceId = contact.body.payload.contact.contact_inboxes[0].source_id;
    expect(typeof sourceId).toBe('string');

    // 2. Create a conversation — use the source_id from the previous step.
    const conversation = await curl(['-X', 'POST', `${base}/conversations`, ...headers, '-d', JSON.stringify({ source_id: sourceId })]);
    expect(conversation.status).toBe(200);
    const conversationId = conversation.body.id;
    expect(Number.isInteger(conversationId)).toBe(true);

    // 3. Create a message — use the conversation ID.
    const message = await curl([
      '-X',
      'POST',
      `${base}/conversations/${conversationId}/messages`,
      ...headers,
      '-d',
      JSON.stringify({ content: 'This is an incoming message from API Channel', message_type: 'incoming' }),
    ]);
    expect(message.status).toBe(200);
    expectSeedShape(message.body);
    expect(message.body).toMatchObject({
      content: SEED_MESSAGE.content,
      inbox_id: inbox.id,
      conversation_id: conversationId,
      message_type: 0,
      content_type: null,
      content_attributes: {},
      private: false,
      sender: { id: contact.body.payload.contact.id, name: 'Contact', type: 'contact' },
    });

    // "The conversation then appears on the agent dashboard."
    const list = await curl([`${base}/conversations`, '-H', `api_access_token: ${admin.token}`]);
    expect(list.body.data.payload.map((c: any) => c.id)).toEqual([conversationId]);
    expect(list.body.data.payload[0].messages[0].content).toBe(SEED_MESSAGE.content);
  });

  it('also takes the same calls as form fields (curl -d key=value) and a trailing slash', async () => {
    const { admin, inbox, base: path } = await scene(h);
    const base = `${h.url}${path}`;
    const auth = ['-H', `api_access_token: ${admin.token}`];
    const contact = await curl(['-X', 'POST', `${base}/contacts/`, ...auth, '-d', `inbox_id=${inbox.id}`, '-d', 'name=Form Contact']);
    expect(contact.status).toBe(200);
    const conv = await curl(['-X', 'POST', `${base}/conversations`, ...auth, '-d', `source_id=${contact.body.payload.contact_inbox.source_id}`]);
    expect(conv.status).toBe(200);
    const msg = await curl(['-X', 'POST', `${base}/conversations/${conv.body.id}/messages`, ...auth, '-d', 'content=hello', '-d', 'message_type=incoming']);
    expect(msg.status).toBe(200);
    expect(msg.body).toMatchObject({ content: 'hello', message_type: 0, content_type: null, sender: { type: 'contact', name: 'Form Contact' } });
  });
});

describeEachDb('OpenAPI document of the conversations engine', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect);
  });
  afterAll(() => h.close());

  it('documents every contacts, conversations and messages route with tags and summaries', async () => {
    const doc = await h.api('GET', '/api-docs/json');
    expect(doc.status).toBe(200);
    const A = '/api/v1/accounts/{account_id}';
    const expected: [string, string, string][] = [
      ['post', `${A}/contacts`, 'Contacts'],
      ['get', `${A}/contacts`, 'Contacts'],
      ['get', `${A}/contacts/search`, 'Contacts'],
      ['get', `${A}/contacts/{id}`, 'Contacts'],
      ['put', `${A}/contacts/{id}`, 'Contacts'],
      ['patch', `${A}/contacts/{id}`, 'Contacts'],
      ['delete', `${A}/contacts/{id}`, 'Contacts'],
      ['get', `${A}/contacts/{id}/conversations`, 'Contacts'],
      ['post', `${A}/contacts/{id}/contact_inboxes`, 'Contacts'],
      ['post', `${A}/conversations`, 'Conversations'],
      ['get', `${A}/conversations`, 'Conversations'],
      ['get', `${A}/conversations/meta`, 'Conversations'],
      ['get', `${A}/conversations/{conversation_id}`, 'Conversations'],
      ['patch', `${A}/conversations/{conversation_id}`, 'Conversations'],
      ['post', `${A}/conversations/{conversation_id}/toggle_status`, 'Conversations'],
      ['post', `${A}/conversations/{conversation_id}/toggle_priority`, 'Conversations'],
      ['post', `${A}/conversations/{conversation_id}/toggle_typing_status`, 'Conversations'],
      ['post', `${A}/conversations/{conversation_id}/assignments`, 'Conversation Assignments'],
      ['get', `${A}/conversations/{conversation_id}/labels`, 'Conversation Labels'],
      ['post', `${A}/conversations/{conversation_id}/labels`, 'Conversation Labels'],
      ['post', `${A}/conversations/{conversation_id}/custom_attributes`, 'Conversations'],
      ['get', `${A}/conversations/{conversation_id}/messages`, 'Messages'],
      ['post', `${A}/conversations/{conversation_id}/messages`, 'Messages'],
      ['patch', `${A}/conversations/{conversation_id}/messages/{message_id}`, 'Messages'],
      ['delete', `${A}/conversations/{conversation_id}/messages/{message_id}`, 'Messages'],
    ];
    for (const [method, p, tag] of expected) {
      const op = doc.body.paths[p]?.[method];
      expect(op, `${method} ${p}`).toBeDefined();
      expect(op.tags).toEqual([tag]);
      expect(op.summary).toEqual(expect.any(String));
    }
    const create = doc.body.paths[`${A}/conversations/{conversation_id}/messages`].post;
    expect(Object.keys(create.requestBody.content['application/json'].schema.properties)).toEqual(
      expect.arrayContaining(['content', 'message_type', 'private', 'content_type', 'content_attributes', 'source_id', 'echo_id']),
    );
  });
});

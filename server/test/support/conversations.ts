import { afterAll, beforeAll, expect } from 'vitest';
import { startTestServer, type DialectName, type TestServer, type TestUser } from './harness.js';

/** Factories for the conversations engine tests: everything goes through the HTTP API. */

export type Scene = {
  accountId: number;
  admin: TestUser;
  inbox: Awaited<ReturnType<TestServer['inbox']>>;
  base: string;
};

export async function scene(h: TestServer, opts: { lock?: boolean } = {}): Promise<Scene> {
  const { accountId, admin } = await h.account();
  const inbox = await h.inbox(accountId);
  if (opts.lock) {
    await h.server.ctx.database.db.updateTable('inboxes').set({ lock_to_single_conversation: 1 }).where('id', '=', inbox.id).execute();
  }
  return { accountId, admin, inbox, base: `/api/v1/accounts/${accountId}` };
}

/**
 * The setup the conversations suites share: a server on `dialect` with a scene (account, admin, API
 * inbox), started before the block's tests and closed after them. `bind` receives both once started.
 */
export function useScene(dialect: DialectName, bind: (started: { h: TestServer; s: Scene }) => void, opts: { lock?: boolean } = {}) {
  let h: TestServer | undefined;
  beforeAll(async () => {
    h = await startTestServer(dialect);
    bind({ h, s: await scene(h, opts) });
  });
  afterAll(() => h?.close());
}

export async function createContact(h: TestServer, s: Scene, body: Record<string, unknown> = {}, token = s.admin.token) {
  const r = await h.api('POST', `${s.base}/contacts`, { token, body: { name: 'Contact', inbox_id: s.inbox.id, ...body } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return { contact: r.body.payload.contact, sourceId: r.body.payload.contact_inbox.source_id as string };
}

export async function createConversation(h: TestServer, s: Scene, body: Record<string, unknown> = {}, token = s.admin.token) {
  let sourceId = body.source_id as string | undefined;
  if (!sourceId && body.contact_id === undefined) sourceId = (await createContact(h, s)).sourceId;
  const r = await h.api('POST', `${s.base}/conversations`, { token, body: { ...(sourceId ? { source_id: sourceId } : {}), ...body } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

export async function postMessage(h: TestServer, s: Scene, displayId: number, body: Record<string, unknown>, token = s.admin.token) {
  return h.api('POST', `${s.base}/conversations/${displayId}/messages`, { token, body });
}

/** The seed's example message, the binding shape: every key with the same JSON type. */
export const SEED_MESSAGE = {
  id: 0,
  content: 'This is an incoming message from API Channel',
  inbox_id: 0,
  conversation_id: 0,
  message_type: 0,
  content_type: null,
  content_attributes: {},
  private: false,
  sender: { id: 0, name: 'Contact', type: 'contact' },
};
const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Every key of the seed's message (and of its sender) is present with the seed's JSON type. */
export function expectSeedShape(body: Record<string, any>) {
  for (const [k, v] of Object.entries(SEED_MESSAGE)) {
    expect(body, `key ${k}`).toHaveProperty(k);
    expect(typeOf(body[k]), `type of ${k}`).toBe(typeOf(v));
  }
  for (const [k, v] of Object.entries(SEED_MESSAGE.sender)) expect(typeOf(body.sender[k]), `type of sender.${k}`).toBe(typeOf(v));
}

/** Row counts of the tables a request may write. */
export async function counts(h: TestServer) {
  const db = h.server.ctx.database.db;
  const n = async (t: 'contacts' | 'contact_inboxes' | 'conversations' | 'messages' | 'events' | 'conversation_labels') =>
    Number((await db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return {
    contacts: await n('contacts'),
    contact_inboxes: await n('contact_inboxes'),
    conversations: await n('conversations'),
    messages: await n('messages'),
    events: await n('events'),
    labels: await n('conversation_labels'),
  };
}

/** Events recorded after `sinceId`, parsed. */
export async function eventsSince(h: TestServer, sinceId = 0) {
  const rows = await h.server.ctx.database.db.selectFrom('events').selectAll().where('id', '>', sinceId).orderBy('id').execute();
  return rows.map((r) => ({ id: Number(r.id), name: r.name, accountId: r.account_id, payload: JSON.parse(r.payload) }));
}

export async function lastEventId(h: TestServer): Promise<number> {
  const row = await h.server.ctx.database.db
    .selectFrom('events')
    .select((eb) => eb.fn.max('id').as('m'))
    .executeTakeFirst();
  return Number(row?.m ?? 0);
}

import crypto from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startChildNode, type ChildNode } from '../support/child-node.js';
import { pgUrl, redisUrl, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { apiContact, apiConversation, apiMessage, consumer, disconnectAll, rawSocket, subscribe, withTimeout } from './cable.js';

/**
 * Two server processes on one PostgreSQL schema and one Redis: node A runs in this process (the
 * harness), node B is a child `node --import tsx src/main.ts`. A socket on B must receive what is
 * committed on A. A unique Redis channel prefix per run keeps parallel runs apart.
 */
const PG = pgUrl();
const REDIS = redisUrl();
if (!PG || !REDIS) {
  console.warn(`\n${'!'.repeat(78)}\n!! cross-node /cable test SKIPPED: needs PostgreSQL and Redis (pg=${!!PG}, redis=${!!REDIS})\n${'!'.repeat(78)}\n`);
}

(PG && REDIS ? describe : describe.skip)('/cable across nodes (PostgreSQL + Redis)', () => {
  const prefix = `channelx:test:${process.pid}:${crypto.randomBytes(4).toString('hex')}:`;
  let a: TestServer;
  let b: ChildNode;
  let accountId: number;
  let admin: TestUser;
  let inboxId: number;
  const wsB = () => b.url.replace(/^http/, 'ws') + '/cable';

  beforeAll(async () => {
    a = await startTestServer('postgres', { REDIS_URL: REDIS!, CABLE_REDIS_PREFIX: prefix });
    b = await startChildNode({
      DATABASE_URL: a.databaseUrl,
      REDIS_URL: REDIS!,
      CABLE_REDIS_PREFIX: prefix,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    });
    ({ accountId, admin } = await a.account());
    inboxId = (await a.inbox(accountId)).id;
  }, 90_000);
  afterEach(() => disconnectAll());
  afterAll(async () => {
    if (b?.proc.exitCode === null) b.proc.kill('SIGKILL');
    await a?.close();
  });

  it('a contact socket on node B receives the agent reply created on node A, once; node A sockets too', async () => {
    const contact = await apiContact(a, admin.token, accountId, inboxId);
    const conv = await apiConversation(a, admin.token, accountId, inboxId, contact);
    const onB = await subscribe(consumer(wsB()), { pubsub_token: contact.pubsubToken });
    const onA = await subscribe(consumer(a), { pubsub_token: contact.pubsubToken });
    const agentOnB = await subscribe(consumer(wsB()), { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });
    expect([onB.state, onA.state, agentOnB.state]).toEqual(['connected', 'connected', 'connected']);

    const reply = await apiMessage(a, admin.token, accountId, conv.displayId, { content: 'crossing nodes' });
    const m = await onB.next('message.created', (x) => x.data.id === reply.id, 10_000);
    expect(m.data).toMatchObject({ content: 'crossing nodes', conversation_id: conv.displayId, message_type: 1, account_id: accountId });
    await onA.next('message.created', (x) => x.data.id === reply.id, 10_000);
    await agentOnB.next('message.created', (x) => x.data.id === reply.id, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(onB.received.filter((x) => x.event === 'message.created' && x.data.id === reply.id)).toHaveLength(1);
    expect(onA.received.filter((x) => x.event === 'message.created' && x.data.id === reply.id)).toHaveLength(1);
  });

  it('presence is shared through Redis: a contact pinging on node B is online for an agent on node A', async () => {
    const contact = await apiContact(a, admin.token, accountId, inboxId);
    const onB = await subscribe(consumer(wsB()), { pubsub_token: contact.pubsubToken });
    onB.sub.perform('update_presence');
    await onB.next('presence.update', undefined, 10_000);
    const agentOnA = await subscribe(consumer(a), { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });
    agentOnA.sub.perform('update_presence');
    const p = await agentOnA.next('presence.update', undefined, 10_000);
    expect(p.data.contacts).toMatchObject({ [contact.contactId]: 'online' });
  });

  it("knows through Redis whether any node listens to an account (the listener skips accounts nobody watches)", async () => {
    const other = await a.account();
    const rooms = a.server.ctx.realtime!.rooms;
    expect(await rooms.hasAudience(other.accountId)).toBe(false);
    const onB = await subscribe(consumer(wsB()), { pubsub_token: other.admin.pubsub_token, account_id: other.accountId, user_id: other.admin.id });
    expect(onB.state).toBe('connected');
    expect(await rooms.hasAudience(other.accountId)).toBe(true);
  });

  it('node B shutting down (SIGTERM) tells its sockets server_restart, reconnect: true', async () => {
    const s = await rawSocket(wsB());
    s.send({ command: 'subscribe', identifier: JSON.stringify({ channel: 'RoomChannel', pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id }) });
    await s.frame((f) => f.type === 'confirm_subscription');
    b.proc.kill('SIGTERM');
    expect(await s.frame((f) => f.type === 'disconnect', 10_000)).toEqual({ type: 'disconnect', reason: 'server_restart', reconnect: true });
    await withTimeout(s.closed, 10_000, 'not closed');
    const code = await withTimeout(new Promise((r) => (b.proc.exitCode !== null ? r(b.proc.exitCode) : b.proc.on('exit', r))), 20_000, 'node B did not exit');
    expect(code).toBe(0);
  }, 40_000);
});

import crypto from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startChildNode, type ChildNode } from '../support/child-node.js';
import { pgUrl, redisUrl, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { apiContact, apiConversation, consumer, disconnectAll, subscribe } from './cable.js';

/**
 * conversation.viewing across nodes: an agent viewing on node A (this process) is seen by an agent
 * on node B (a child process on the same PostgreSQL schema and Redis), and closing says viewing:false.
 */
const PG = pgUrl();
const REDIS = redisUrl();
if (!PG || !REDIS) {
  console.warn(`\n!! cross-node viewing test SKIPPED: needs PostgreSQL and Redis (pg=${!!PG}, redis=${!!REDIS})\n`);
}

(PG && REDIS ? describe : describe.skip)('/cable viewing across nodes (PostgreSQL + Redis)', () => {
  const prefix = `channelx:test:${process.pid}:${crypto.randomBytes(4).toString('hex')}:`;
  let a: TestServer;
  let b: ChildNode;
  let accountId: number;
  let admin: TestUser;
  let alice: TestUser;
  let inboxId: number;
  const wsB = () => b.url.replace(/^http/, 'ws') + '/cable';

  beforeAll(async () => {
    a = await startTestServer('postgres', { REDIS_URL: REDIS!, CABLE_REDIS_PREFIX: prefix });
    b = await startChildNode({ DATABASE_URL: a.databaseUrl, REDIS_URL: REDIS!, CABLE_REDIS_PREFIX: prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    ({ accountId, admin } = await a.account());
    alice = await a.user(accountId, { name: 'Alice' });
    inboxId = (await a.inbox(accountId, { members: [alice.id] })).id;
  }, 90_000);
  afterEach(() => disconnectAll());
  afterAll(async () => {
    if (b?.proc.exitCode === null) b.proc.kill('SIGKILL');
    await a?.close();
  });

  it('an agent on node B sees an agent viewing on node A, and viewing:false when that socket closes', async () => {
    const conv = await apiConversation(a, admin.token, accountId, inboxId, await apiContact(a, admin.token, accountId, inboxId));
    const watcher = await subscribe(consumer(wsB()), { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });
    const viewerConsumer = consumer(a);
    const viewer = await subscribe(viewerConsumer, { pubsub_token: alice.pubsub_token, account_id: accountId, user_id: alice.id });
    viewer.sub.perform('viewing', { conversation_id: conv.displayId });
    const seen = await watcher.next('conversation.viewing', (m) => m.data.viewing, 10_000);
    expect(seen.data).toMatchObject({ account_id: accountId, conversation_id: conv.displayId, user: { id: alice.id, name: 'Alice' } });
    viewerConsumer.disconnect();
    await watcher.next('conversation.viewing', (m) => !m.data.viewing, 10_000);
  });
});

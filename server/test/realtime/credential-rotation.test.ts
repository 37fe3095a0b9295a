import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadConfig } from '../../src/config.js';
import { createServer, type Server } from '../../src/server.js';
import { EventEmitter } from 'node:events';
import { now } from '../../src/kernel/db.js';
import { Hub } from '../../src/realtime/hub.js';
import type { Conn } from '../../src/realtime/connection.js';
import { describeEachDb, pgUrl, redisUrl, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { rawSocket, type RawSocket } from './cable.js';

/**
 * Issue 9 item 8: rotating a user's credentials (access-token reset, password change) rotates the
 * pubsub_token too, and every socket subscribed with the old one is told `unauthorized` (no
 * reconnect) and closed, on every node; the old token no longer subscribes, the new one does, and
 * nobody else's socket is touched.
 */

const PASSWORD = 'password123'; // the harness's account administrator
const UNAUTHORIZED = { type: 'disconnect', reason: 'unauthorized', reconnect: false };

type AgentSocket = { s: RawSocket; identifier: string; state: 'confirm_subscription' | 'reject_subscription' };

const wsUrl = (httpUrl: string) => httpUrl.replace(/^http/, 'ws') + '/cable';
const sockets: RawSocket[] = [];

/** A raw socket subscribed (or refused) as the agent with the given pubsub_token. */
async function agentSocket(url: string, user: { id: number; pubsub_token: string }, accountId: number): Promise<AgentSocket> {
  const s = await rawSocket(url);
  sockets.push(s);
  await s.frame((f) => f?.type === 'welcome');
  const identifier = JSON.stringify({ channel: 'RoomChannel', pubsub_token: user.pubsub_token, account_id: accountId, user_id: user.id });
  s.send({ command: 'subscribe', identifier });
  const f = await s.frame((x) => x?.identifier === identifier && /^(confirm|reject)_subscription$/.test(x.type), 10_000);
  return { s, identifier, state: f.type };
}

/** Proves the socket is still open and subscribed: update_presence comes back as presence.update. */
async function stillLive(a: AgentSocket) {
  expect(a.s.ws.readyState).toBe(WebSocket.OPEN);
  a.s.send({ command: 'message', identifier: a.identifier, data: JSON.stringify({ action: 'update_presence' }) });
  const f = await a.s.frame((x) => x?.identifier === a.identifier && x.message?.event === 'presence.update', 10_000);
  expect(f.message.data.account_id).toEqual(expect.any(Number));
  expect(a.s.frames).not.toContainEqual(expect.objectContaining({ type: 'disconnect' }));
}

/** The socket was told `unauthorized` without reconnect, then closed. */
async function kickedOut(a: AgentSocket) {
  const f = await a.s.frame((x) => x?.type === 'disconnect', 10_000);
  expect(f).toEqual(UNAUTHORIZED);
  expect((await a.s.closed).code).toBe(1008);
}

function closeAll() {
  for (const s of sockets.splice(0)) if (s.ws.readyState === WebSocket.OPEN || s.ws.readyState === WebSocket.CONNECTING) s.ws.terminate();
}

describeEachDb('/cable: rotating credentials disconnects the old pubsub_token', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect);
  });
  afterAll(async () => {
    closeAll();
    await h.close();
  });

  const url = () => wsUrl(h.url);
  const rotationEvents = (userId: number) =>
    h.server.ctx.database.db.selectFrom('events').selectAll().where('name', '=', 'user.credentials_rotated').execute()
      .then((rows) => rows.filter((r) => JSON.parse(r.payload).user_id === userId));

  it('access-token reset: the old socket is disconnected, the old pubsub_token refused, the new one accepted; others untouched', async () => {
    const { accountId, admin } = await h.account();
    const peer = await h.user(accountId, { role: 'administrator' });
    const old = await agentSocket(url(), admin, accountId);
    const bystander = await agentSocket(url(), peer, accountId);
    expect([old.state, bystander.state]).toEqual(['confirm_subscription', 'confirm_subscription']);

    const r = await h.api('POST', '/api/v1/profile/reset_access_token', { token: admin.token });
    expect(r.status).toBe(200);
    expect(r.body.access_token).not.toBe(admin.token);
    expect(r.body.pubsub_token).toEqual(expect.any(String));
    expect(r.body.pubsub_token).not.toBe(admin.pubsub_token);
    // the response's token is the stored one (the dashboard reconnects with it)
    expect((await h.api('GET', '/api/v1/profile', { token: r.body.access_token })).body.pubsub_token).toBe(r.body.pubsub_token);

    await kickedOut(old);
    expect((await agentSocket(url(), admin, accountId)).state).toBe('reject_subscription');
    const fresh = await agentSocket(url(), { id: admin.id, pubsub_token: r.body.pubsub_token }, accountId);
    expect(fresh.state).toBe('confirm_subscription');
    await stillLive(fresh);
    await stillLive(bystander);
    expect((await agentSocket(url(), peer, accountId)).state).toBe('confirm_subscription');

    // the outbox event names the user, never a token
    const events = await rotationEvents(admin.id);
    expect(events).toHaveLength(1);
    for (const secret of [admin.pubsub_token, r.body.pubsub_token, admin.token, r.body.access_token]) expect(events[0].payload).not.toContain(secret);
  });

  it('password change: the old socket is disconnected and the old pubsub_token refused; the new one works', async () => {
    const { accountId, admin } = await h.account();
    const old = await agentSocket(url(), admin, accountId);
    expect(old.state).toBe('confirm_subscription');

    const r = await h.api('PUT', '/api/v1/profile', {
      token: admin.token,
      body: { profile: { password: 'new-password-1', password_confirmation: 'new-password-1', current_password: PASSWORD } },
    });
    expect(r.status).toBe(200);
    expect(r.body.pubsub_token).not.toBe(admin.pubsub_token);

    await kickedOut(old);
    expect((await agentSocket(url(), admin, accountId)).state).toBe('reject_subscription');
    const fresh = await agentSocket(url(), { id: admin.id, pubsub_token: r.body.pubsub_token }, accountId);
    expect(fresh.state).toBe('confirm_subscription');
    await stillLive(fresh);

    // a profile update without a password change keeps the pubsub_token
    const rename = await h.api('PUT', '/api/v1/profile', { token: admin.token, body: { name: 'Renamed' } });
    expect(rename.body.pubsub_token).toBe(r.body.pubsub_token);
    expect(await rotationEvents(admin.id)).toHaveLength(1);
  });

  it("disconnects the user's sockets in every account they belong to", async () => {
    const one = await h.account();
    const two = await h.account();
    const db = h.server.ctx.database.db;
    await db
      .insertInto('account_users')
      .values({ account_id: two.accountId, user_id: one.admin.id, role: 0, inviter_id: null, availability: 0, auto_offline: 1, active_at: null, created_at: now() })
      .execute();
    const inTwo = await agentSocket(url(), one.admin, two.accountId);
    const othersInTwo = await agentSocket(url(), two.admin, two.accountId);
    expect(inTwo.state).toBe('confirm_subscription');

    expect((await h.api('POST', '/api/v1/profile/reset_access_token', { token: one.admin.token })).status).toBe(200);
    await kickedOut(inTwo);
    await stillLive(othersInTwo);
    expect((await rotationEvents(one.admin.id)).map((e) => e.account_id).sort()).toEqual([one.accountId, two.accountId].sort());
  });

  it('a rotation notice is never dropped as stale, however late the listener sees it', async () => {
    const { accountId, admin } = await h.account();
    const old = await agentSocket(url(), admin, accountId);
    expect(old.state).toBe('confirm_subscription');
    // The rotation as it was committed 10 minutes ago (a node or Redis was away meanwhile).
    const db = h.server.ctx.database.db;
    const row = await db
      .updateTable('users')
      .set((eb) => ({ pubsub_token: crypto.randomBytes(18).toString('base64url'), credentials_version: eb('credentials_version', '+', 1) }))
      .where('id', '=', admin.id)
      .returning('credentials_version')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('events')
      .values({
        account_id: accountId,
        name: 'user.credentials_rotated',
        payload: JSON.stringify({ user_id: admin.id, credentials_version: row.credentials_version }),
        created_at: now() - 10 * 60_000,
      })
      .execute();
    h.server.ctx.dispatcher.wake();
    await kickedOut(old);
  });

  it('a late rotation notice never disconnects a subscription made with the new token', async () => {
    const { accountId, admin } = await h.account();
    const r = await h.api('POST', '/api/v1/profile/reset_access_token', { token: admin.token });
    const fresh = await agentSocket(url(), { id: admin.id, pubsub_token: r.body.pubsub_token }, accountId);
    expect(fresh.state).toBe('confirm_subscription');
    const { credentials_version } = await h.server.ctx.database.db
      .selectFrom('users')
      .select('credentials_version')
      .where('id', '=', admin.id)
      .executeTakeFirstOrThrow();
    // the same notice again (as another node, or a re-delivered batch, would publish it)
    expect(h.server.ctx.realtime!.hub.disconnectUser(admin.id, Number(credentials_version))).toBe(0);
    await stillLive(fresh);
  });
});

/** A stand-in for a `ws` socket: the hub only needs these members. */
function fakeSocket() {
  const ws = Object.assign(new EventEmitter(), {
    readyState: WebSocket.OPEN as number,
    bufferedAmount: 0,
    sent: [] as string[],
    send(frame: string | Buffer) {
      ws.sent.push(String(frame));
    },
    close() {
      ws.readyState = WebSocket.CLOSED;
    },
    terminate() {
      ws.readyState = WebSocket.CLOSED;
    },
  });
  return ws;
}

describe('Hub: a subscription whose lookup raced a rotation', () => {
  const log = { debug() {}, warn() {}, error() {} };
  const userSub = (conn: Conn, version: number) => ({
    conn,
    idJson: JSON.stringify(`{"v":${version}}`),
    grant: { kind: 'user' as const, accountId: 1, key: 7, admin: true, version },
    room: null,
    lastPresenceAt: 0,
  });

  it('is disconnected when it is confirmed after the rotation notice; one with the new version is kept', () => {
    const hub = new Hub({ maxConnectionsPerIp: 10, maxBufferedBytes: 1 << 20, authTimeoutMs: 60_000 }, log);
    const conns: Conn[] = [];
    hub.setSink({ handle: (conn) => conns.push(conn), closed: () => {} });
    const stale = fakeSocket();
    const fresh = fakeSocket();
    hub.accept(stale as never, '10.0.0.1');
    hub.accept(fresh as never, '10.0.0.1');
    stale.emit('message', Buffer.from('{}'), false);
    fresh.emit('message', Buffer.from('{}'), false);
    const [staleConn, freshConn] = conns;

    // The notice arrives while both lookups are in flight: nothing to close yet.
    expect(hub.disconnectUser(7, 1)).toBe(0);
    // Then the lookups finish: one matched the old token (version 0), one the new (version 1).
    staleConn.subs.push(userSub(staleConn, 0));
    freshConn.subs.push(userSub(freshConn, 1));
    hub.authenticated(staleConn);
    hub.authenticated(freshConn);

    expect(stale.sent.at(-1)).toBe(JSON.stringify({ type: 'disconnect', reason: 'unauthorized', reconnect: false }));
    expect(stale.readyState).toBe(WebSocket.CLOSED);
    expect(staleConn.closed).toBe(true);
    expect(fresh.readyState).toBe(WebSocket.OPEN);
    expect(freshConn.authed).toBe(true);
    expect(hub.size).toBe(1);
  });
});

const PG = pgUrl();
const REDIS = redisUrl();

(PG && REDIS ? describe : describe.skip)('/cable: a rotation disconnects the old token on every node (PostgreSQL + Redis)', () => {
  const prefix = `channelx:test:rot:${process.pid}:${crypto.randomBytes(4).toString('hex')}:`;
  let a: TestServer;
  let b: Server;
  let bUrl: string;

  beforeAll(async () => {
    a = await startTestServer('postgres', { REDIS_URL: REDIS!, CABLE_REDIS_PREFIX: prefix });
    b = await createServer(
      loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: a.databaseUrl, LOG_LEVEL: 'silent', REDIS_URL: REDIS!, CABLE_REDIS_PREFIX: prefix }),
      { pollMs: 200 },
    );
    bUrl = (await b.listen()).replace('[::1]', '127.0.0.1');
  }, 60_000);
  afterAll(async () => {
    closeAll();
    await b?.close();
    await a?.close();
  });

  it('a socket on node B subscribed with the old token is disconnected when the token is reset through node A', async () => {
    const { accountId, admin } = await a.account();
    const peer = await a.user(accountId, { role: 'administrator' });
    const onB = await agentSocket(wsUrl(bUrl), admin, accountId);
    const peerOnB = await agentSocket(wsUrl(bUrl), peer, accountId);
    expect([onB.state, peerOnB.state]).toEqual(['confirm_subscription', 'confirm_subscription']);

    const r = await a.api('POST', '/api/v1/profile/reset_access_token', { token: admin.token });
    expect(r.status).toBe(200);
    await kickedOut(onB);
    await stillLive(peerOnB);
    expect((await agentSocket(wsUrl(bUrl), admin, accountId)).state).toBe('reject_subscription');
    expect((await agentSocket(wsUrl(bUrl), { id: admin.id, pubsub_token: r.body.pubsub_token }, accountId)).state).toBe('confirm_subscription');
  });
});

import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { cableUrl, consumer, disconnectAll, rawSocket, subscribe, until, withTimeout } from './cable.js';

describeEachDb('/cable limits: authentication deadline, frame size, per-IP cap, slow consumers, shutdown', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let admin: Awaited<ReturnType<TestServer['account']>>['admin'];
  beforeAll(async () => {
    h = await startTestServer(dialect, {
      CABLE_AUTH_TIMEOUT_MS: '300',
      CABLE_MAX_FRAME_BYTES: '2048',
      CABLE_MAX_CONNECTIONS_PER_IP: '3',
      CABLE_MAX_BUFFERED_BYTES: '65536',
    });
    ({ accountId, admin } = await h.account());
  });
  afterEach(() => disconnectAll());
  let closed = false;
  afterAll(async () => {
    if (!closed) await h.close();
  });

  const agentIdentifier = () => JSON.stringify({ channel: 'RoomChannel', pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });

  it('disconnects a socket that has not subscribed within the deadline (unauthorized, no reconnect)', async () => {
    // Taken before connecting: the server's deadline runs from its accept, which comes later (same clock).
    const started = Date.now();
    const s = await rawSocket(cableUrl(h));
    const d = await s.frame((f) => f.type === 'disconnect', 15_000);
    expect(d).toEqual({ type: 'disconnect', reason: 'unauthorized', reconnect: false });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    await withTimeout(s.closed, 15_000, 'socket not closed');
  });

  it('disconnects a socket whose only subscription was rejected, keeps a subscribed one', async () => {
    const bad = await rawSocket(cableUrl(h));
    bad.send({ command: 'subscribe', identifier: JSON.stringify({ channel: 'RoomChannel', pubsub_token: 'wrong' }) });
    await bad.frame((f) => f.type === 'reject_subscription');
    await bad.frame((f) => f.type === 'disconnect' && f.reason === 'unauthorized', 15_000);

    const good = await rawSocket(cableUrl(h));
    good.send({ command: 'subscribe', identifier: agentIdentifier() });
    await good.frame((f) => f.type === 'confirm_subscription');
    await new Promise((r) => setTimeout(r, 700));
    expect(good.ws.readyState).toBe(WebSocket.OPEN);
    expect(good.frames.some((f) => f.type === 'disconnect')).toBe(false);
    good.ws.close();
  });

  it('closes a socket that sends a frame larger than the limit (1009), and keeps serving', async () => {
    const s = await rawSocket(cableUrl(h));
    s.send({ command: 'subscribe', identifier: agentIdentifier() }); // authenticated: the deadline is not what closes it
    await s.frame((f) => f.type === 'confirm_subscription');
    s.ws.send(JSON.stringify({ command: 'message', identifier: 'x', data: 'y'.repeat(4096) }));
    const { code } = await withTimeout(s.closed, 15_000, 'not closed');
    expect(code).toBe(1009);
    const again = await subscribe(consumer(h), { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });
    expect(again.state).toBe('connected');
  });

  it('refuses connections beyond the per-IP cap (HTTP 429) and admits again once one closes', async () => {
    // Earlier sockets of this file may still be closing: wait until the server holds none.
    const rt = h.server.ctx.realtime!;
    await until(() => rt.hub.size === 0, 'earlier sockets to close');
    const open = await Promise.all([1, 2, 3].map(() => rawSocket(cableUrl(h))));
    for (const s of open) s.send({ command: 'subscribe', identifier: agentIdentifier() });
    await Promise.all(open.map((s) => s.frame((f) => f.type === 'confirm_subscription')));
    await expect(rawSocket(cableUrl(h))).rejects.toThrow(/429/);
    open[0].ws.close();
    await open[0].closed;
    await until(() => rt.hub.size <= 2, 'the closed socket to leave the hub');
    const fourth = await rawSocket(cableUrl(h));
    expect(await fourth.frame((f) => f.type === 'welcome')).toBeTruthy();
    for (const s of [...open.slice(1), fourth]) s.ws.close();
    await Promise.all([...open.slice(1), fourth].map((s) => s.closed));
  });

  it('terminates a slow consumer whose send buffer passes the limit', async () => {
    const rt = h.server.ctx.realtime!;
    const s = await rawSocket(cableUrl(h));
    s.send({ command: 'subscribe', identifier: agentIdentifier() });
    await s.frame((f) => f.type === 'confirm_subscription');
    const before = rt.hub.size;
    (s.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // stop reading: the server's buffer grows
    const big = 'z'.repeat(64 * 1024);
    for (let i = 0; i < 400 && rt.hub.size >= before; i++) {
      await rt.publish(accountId, { users: [admin.id] }, 'test.flood', { big });
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect(rt.hub.size).toBe(before - 1);
    (s.ws as unknown as { _socket: { destroy(): void } })._socket.destroy();
  });

  // Last: it closes the file's server (a second PostgreSQL server in one file would hit the kernel's
  // migration-table lookup across schemas; see the report).
  it('on shutdown sends {type: disconnect, reason: server_restart, reconnect: true} and closes every socket', async () => {
    const s = await rawSocket(cableUrl(h));
    s.send({ command: 'subscribe', identifier: agentIdentifier() });
    await s.frame((f) => f.type === 'confirm_subscription');
    const unauth = await rawSocket(cableUrl(h));
    closed = true;
    await h.close();
    for (const sock of [s, unauth]) {
      expect(await sock.frame((f) => f.type === 'disconnect')).toEqual({ type: 'disconnect', reason: 'server_restart', reconnect: true });
      await withTimeout(sock.closed, 15_000, 'socket not closed on shutdown');
    }
  });
});

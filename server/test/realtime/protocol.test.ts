import { EventEmitter } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Hub } from '../../src/realtime/hub.js';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { cableUrl, consumer, disconnectAll, insertContactSession, rawSocket, subscribe } from './cable.js';

describeEachDb('/cable: ActionCable protocol and RoomChannel authorization', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let admin: Awaited<ReturnType<TestServer['account']>>['admin'];
  let inboxId: number;
  beforeAll(async () => {
    h = await startTestServer(dialect);
    ({ accountId, admin } = await h.account());
    inboxId = (await h.inbox(accountId)).id;
  });
  afterEach(() => disconnectAll());
  afterAll(() => h.close());

  it('negotiates actioncable-v1-json (and v1.1) and sends welcome first', async () => {
    const s = await rawSocket(cableUrl(h));
    expect(s.ws.protocol).toBe('actioncable-v1-json');
    expect(await s.frame(() => true)).toEqual({ type: 'welcome' });
    s.ws.close();
    const s11 = await rawSocket(cableUrl(h), ['actioncable-v1.1-json', 'actioncable-v1-json']);
    expect(s11.ws.protocol).toBe('actioncable-v1.1-json');
    s11.ws.close();
    const other = await rawSocket(cableUrl(h), ['something-else', 'actioncable-v1-json']);
    expect(other.ws.protocol).toBe('actioncable-v1-json');
    other.ws.close();
  });

  it('confirms an agent subscription (token + user_id + account_id) with the unmodified client', async () => {
    const c = consumer(h);
    const s = await subscribe(c, { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });
    expect(s.state).toBe('connected');
    expect(c.connection.getProtocol()).toBe('actioncable-v1-json');
  });

  it('accepts ids sent as strings', async () => {
    const s = await subscribe(consumer(h), { pubsub_token: admin.pubsub_token, account_id: String(accountId), user_id: String(admin.id) });
    expect(s.state).toBe('connected');
  });

  it('confirms a contact subscription by its contact_inbox pubsub_token', async () => {
    const { pubsub_token } = await insertContactSession(h, accountId, inboxId);
    const s = await subscribe(consumer(h), { pubsub_token });
    expect(s.state).toBe('connected');
  });

  it('rejects a wrong token, a wrong user_id, another account, a user token without user_id, a contact token with a user_id', async () => {
    const agent = await h.user(accountId);
    const other = await h.account();
    const { pubsub_token: contactToken } = await insertContactSession(h, accountId, inboxId);
    const c = consumer(h);
    const cases: Record<string, unknown>[] = [
      { pubsub_token: 'nope' },
      { pubsub_token: admin.pubsub_token + 'x', account_id: accountId, user_id: admin.id },
      { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: agent.id },
      { pubsub_token: admin.pubsub_token, account_id: other.accountId, user_id: admin.id },
      { pubsub_token: other.admin.pubsub_token, account_id: accountId, user_id: other.admin.id },
      { pubsub_token: admin.pubsub_token },
      { pubsub_token: admin.pubsub_token, account_id: accountId },
      { pubsub_token: contactToken, account_id: accountId, user_id: admin.id },
      { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id, channel: 'OtherChannel' },
      { account_id: accountId, user_id: admin.id },
      { pubsub_token: 12345, account_id: accountId, user_id: admin.id },
    ];
    for (const params of cases) {
      const s = await subscribe(c, params);
      expect(s.state, JSON.stringify(Object.keys(params))).toBe('rejected');
    }
    // The socket is still usable after rejections.
    const ok = await subscribe(c, { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });
    expect(ok.state).toBe('connected');
  });

  it('answers a subscribe once even when the client repeats it, and ignores malformed frames', async () => {
    const s = await rawSocket(cableUrl(h));
    await s.frame((f) => f.type === 'welcome');
    const identifier = JSON.stringify({ channel: 'RoomChannel', pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });
    for (const junk of ['not json', '[]', '{"command":"subscribe"}', '{"command":"nope","identifier":"x"}', 'null', '{"command":"message","identifier":"{}","data":"{"}'])
      s.ws.send(junk);
    s.ws.send(Buffer.from([0xff, 0x00, 0x01])); // binary: ignored
    s.send({ command: 'subscribe', identifier });
    s.send({ command: 'subscribe', identifier });
    await s.frame((f) => f.type === 'confirm_subscription');
    s.send({ command: 'subscribe', identifier: '{"channel":' }); // not JSON inside
    const rej = await s.frame((f) => f.type === 'reject_subscription');
    expect(rej.identifier).toBe('{"channel":');
    await new Promise((r) => setTimeout(r, 100));
    expect(s.frames.filter((f) => f.type === 'confirm_subscription')).toEqual([{ identifier, type: 'confirm_subscription' }]);
    expect(s.ws.readyState).toBe(s.ws.OPEN);
    s.send({ command: 'unsubscribe', identifier });
    s.send({ command: 'unsubscribe', identifier });
    s.ws.close();
  });

  it('pings a new socket with the unix time', async () => {
    // The 3 s schedule is checked on a fake clock below; here only that a real socket gets pings.
    const t0 = Math.floor(Date.now() / 1000);
    const s = await rawSocket(cableUrl(h));
    const ping = await s.frame((f) => f.type === 'ping', 20_000);
    expect(ping.message).toBeGreaterThanOrEqual(t0);
    expect(ping.message).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    s.ws.close();
  }, 30_000);

  it('answers a plain HTTP GET /cable with 404, not a crash', async () => {
    const r = await h.api('GET', '/cable');
    expect(r.status).toBe(404);
  });
});

/** The socket surface the hub uses, recording each frame with the (fake) time it was sent. */
class FakeSocket extends EventEmitter {
  readyState = 1; // OPEN
  bufferedAmount = 0;
  sent: Array<{ at: number; frame: any }> = [];
  send(frame: string | Buffer) {
    this.sent.push({ at: Date.now(), frame: JSON.parse(String(frame)) });
  }
  close() {
    this.readyState = 3; // CLOSED
    this.emit('close');
  }
  terminate() {
    this.close();
  }
}

describe('/cable pings (hub on a fake clock)', () => {
  afterEach(() => vi.useRealTimers());

  it('pings every socket exactly once every 3 s with the unix time, sockets spread over the interval', async () => {
    vi.useFakeTimers({ now: Date.parse('2030-01-01T00:00:00.250Z') });
    const log = { debug() {}, warn() {}, error() {} };
    const hub = new Hub({ maxConnectionsPerIp: 1000, maxBufferedBytes: 1 << 20, authTimeoutMs: 3_600_000 }, log);
    hub.start();
    const sockets = Array.from({ length: 45 }, () => new FakeSocket());
    for (const [i, ws] of sockets.entries()) {
      hub.accept(ws as never, `10.0.0.${i}`);
      vi.advanceTimersByTime(7); // sockets arrive at different moments
    }
    const from = Date.now();
    vi.advanceTimersByTime(30_000);
    const phases = new Set<number>();
    for (const ws of sockets) {
      expect(ws.sent[0].frame).toEqual({ type: 'welcome' });
      const pings = ws.sent.filter((f) => f.frame.type === 'ping' && f.at > from);
      expect(pings).toHaveLength(10);
      for (const [i, p] of pings.entries()) {
        expect(p.frame.message).toBe(Math.floor(p.at / 1000));
        if (i) expect(p.at - pings[i - 1].at).toBe(3000);
      }
      phases.add(pings[0].at % 3000);
    }
    // 30 slots, 100 ms apart: a crowd of sockets is never pinged in one burst.
    expect(phases.size).toBe(30);
    await hub.stop(0);
    expect(sockets.every((ws) => ws.readyState === 3)).toBe(true);
  });
});

describe('/cable frames never take the process down', () => {
  it('a command handler that throws is logged and only that socket is dropped', async () => {
    const errors: unknown[] = [];
    const log = { debug() {}, warn() {}, error: (obj: unknown) => void errors.push(obj) };
    const hub = new Hub({ maxConnectionsPerIp: 1000, maxBufferedBytes: 1 << 20, authTimeoutMs: 3_600_000 }, log);
    hub.setSink({
      handle: () => {
        throw new RangeError('Maximum call stack size exceeded');
      },
      closed() {},
    });
    hub.start();
    const bad = new FakeSocket();
    const good = new FakeSocket();
    hub.accept(bad as never, '10.0.0.1');
    hub.accept(good as never, '10.0.0.2');
    expect(() => bad.emit('message', Buffer.from('{"command":"subscribe"}'), false)).not.toThrow();
    expect(errors).toHaveLength(1);
    expect(bad.sent.at(-1)?.frame).toMatchObject({ type: 'disconnect', reconnect: false });
    expect(bad.readyState).toBe(3);
    expect(good.readyState).toBe(1);
    await hub.stop(0);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { parseAction, parseCommand, parseIdentifier } from '../../src/realtime/protocol.js';
import { cableUrl, disconnectAll, rawSocket } from './cable.js';

/**
 * Issue 9 item 2 on /cable: a frame, a subscription identifier or a command's data nested deeper
 * than 32 levels or with more than 10 000 keys + elements is malformed: the frame is ignored (as
 * Rails ignores frames it cannot parse), the subscription rejected, the socket and the process live on.
 */

const DEPTH = 32;
const NODES = 10_000;
const deepArray = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const deepObject = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const wideArray = (n: number) => `[${Array(n).fill(0).join(',')}]`;

describe('protocol parsing of hostile JSON', () => {
  it('ignores frames past the limits and keeps those at the limit', () => {
    const frame = (pad: string) => `{"command":"subscribe","identifier":"{\\"channel\\":\\"RoomChannel\\"}","pad":${pad}}`;
    expect(parseCommand(frame(deepArray(DEPTH - 1)))).toMatchObject({ command: 'subscribe' });
    expect(parseCommand(frame(deepArray(DEPTH)))).toBeNull();
    expect(parseCommand(frame(deepArray(9000)))).toBeNull();
    expect(parseCommand(frame(wideArray(NODES - 3)))).toMatchObject({ command: 'subscribe' });
    expect(parseCommand(frame(wideArray(NODES)))).toBeNull();
  });

  it('treats an identifier or data past the limits as malformed', () => {
    const identifier = (pad: string) => `{"channel":"RoomChannel","pubsub_token":"t","pad":${pad}}`;
    expect(parseIdentifier(identifier(deepObject(DEPTH - 1)))).toMatchObject({ channel: 'RoomChannel' });
    expect(parseIdentifier(identifier(deepObject(DEPTH)))).toBeNull();
    expect(parseIdentifier(identifier(deepObject(9000)))).toBeNull();
    expect(parseIdentifier(identifier(wideArray(NODES)))).toBeNull();
    expect(parseAction(`{"action":"update_presence","pad":${deepArray(9000)}}`)).toBeNull();
    expect(parseAction(`{"action":"update_presence","pad":${wideArray(NODES)}}`)).toBeNull();
    expect(parseAction('{"action":"update_presence"}')).toBe('update_presence');
  });

  it('never throws, whatever the text', () => {
    for (const raw of ['', '{', '"', '\\', '[{"', '{"command":', 'null', '1e999', '{"__proto__":{}}', '\ud800', deepArray(100_000)]) {
      expect(() => parseCommand(raw)).not.toThrow();
      expect(() => parseIdentifier(raw)).not.toThrow();
      expect(() => parseAction(raw)).not.toThrow();
    }
  });
});

describeEachDb('/cable frames past the JSON limits', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let admin: Awaited<ReturnType<TestServer['account']>>['admin'];
  beforeAll(async () => {
    h = await startTestServer(dialect);
    ({ accountId, admin } = await h.account());
  });
  afterEach(() => disconnectAll());
  afterAll(() => h?.close());

  const agent = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({ channel: 'RoomChannel', pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id, ...extra });

  it('ignores deep and wide frames entirely (they do not even count as subscribe attempts); the socket lives on', async () => {
    const s = await rawSocket(cableUrl(h));
    // A socket gets 20 subscribe attempts per window: had these frames been processed, the
    // subscribe below would be the 21st and the socket disconnected.
    for (let i = 0; i < 10; i++) {
      s.ws.send(`{"command":"subscribe","identifier":"{\\"channel\\":\\"RoomChannel\\",\\"n\\":${i}}","pad":${deepArray(9000)}}`);
      s.ws.send(`{"command":"subscribe","identifier":"{\\"channel\\":\\"RoomChannel\\",\\"m\\":${i}}","pad":${wideArray(NODES)}}`);
    }
    s.ws.send(`{"command":"subscribe","identifier":"x","pad":${deepObject(5000)}}`);
    s.send({ command: 'subscribe', identifier: agent() });
    const answer = await s.frame((f) => f.type === 'confirm_subscription' || f.type === 'disconnect' || f.type === 'reject_subscription');
    expect(answer).toEqual({ identifier: agent(), type: 'confirm_subscription' });
    expect(s.ws.readyState).toBe(WebSocket.OPEN);
    s.ws.close();
  });

  it('rejects a subscription whose identifier is deep or wide, even with a valid token', async () => {
    for (const pad of [JSON.parse(deepObject(DEPTH)), JSON.parse(wideArray(NODES))]) {
      const s = await rawSocket(cableUrl(h));
      const identifier = agent({ pad });
      s.send({ command: 'subscribe', identifier });
      const answer = await s.frame((f) => f.identifier === identifier && /_subscription$/.test(f.type));
      expect(answer.type).toBe('reject_subscription');
      s.ws.close();
    }
    // at the limit it is an ordinary identifier
    const s = await rawSocket(cableUrl(h));
    const identifier = agent({ pad: JSON.parse(deepObject(DEPTH - 1)) });
    s.send({ command: 'subscribe', identifier });
    expect((await s.frame((f) => f.identifier === identifier && /_subscription$/.test(f.type))).type).toBe('confirm_subscription');
    s.ws.close();
  });
});

import { describe, expect, it } from 'vitest';
import { Rooms, type Sub } from '../../src/realtime/rooms.js';
import { MemoryPubSub, type PubSub } from '../../src/realtime/pubsub.js';
import type { Conn } from '../../src/realtime/connection.js';
import { parseCommand, selectProtocol } from '../../src/realtime/protocol.js';

const log = { error() {} };

function setup(pubsub: PubSub = new MemoryPubSub()) {
  const sent: Array<{ conn: Conn; frame: string }> = [];
  const rooms = new Rooms(pubsub, 'p:', (conn, frame) => void sent.push({ conn, frame: frame.toString() }), log);
  let n = 0;
  const sub = (kind: 'user' | 'contact', key: number, identifier = `{"channel":"RoomChannel","n":${n++}}`): Sub => ({
    conn: { id: n } as unknown as Conn,
    idJson: JSON.stringify(identifier),
    grant: kind === 'user' ? { kind, accountId: 1, key, admin: false } : { kind, accountId: 1, key, contactId: key },
    room: null,
    lastPresenceAt: 0,
  });
  return { rooms, sent, sub };
}

describe('rooms: envelopes, targets, channel lifecycle', () => {
  it('delivers to the targeted users and contacts only, embedding the body unchanged', async () => {
    const { rooms, sent, sub } = setup();
    const u1 = sub('user', 1);
    const u2 = sub('user', 2);
    const c7 = sub('contact', 7);
    for (const s of [u1, u2, c7]) await rooms.add(s);
    await rooms.publish(1, { users: [2], contacts: [7, 8] }, 'message.created', { id: 5, text: 'a\nb' });
    expect(sent.map((s) => s.conn)).toEqual([u2.conn, c7.conn]);
    expect(JSON.parse(sent[0].frame)).toEqual({ identifier: JSON.parse(u2.idJson), message: { event: 'message.created', data: { id: 5, text: 'a\nb' } } });
    sent.length = 0;
    await rooms.publish(1, { allUsers: true }, 'contact.created', { id: 1 });
    expect(sent.map((s) => s.conn)).toEqual([u1.conn, u2.conn]);
    sent.length = 0;
    await rooms.publish(2, { allUsers: true }, 'contact.created', { id: 1 }); // another account: nobody here
    expect(sent).toEqual([]);
  });

  it('subscribes the account channel on the first subscription and unsubscribes after the last', async () => {
    const pubsub = new MemoryPubSub();
    const { rooms, sub } = setup(pubsub);
    const a = sub('user', 1);
    const b = sub('contact', 3);
    await rooms.add(a);
    await rooms.add(b);
    expect(await pubsub.hasSubscribers('p:acct:1')).toBe(true);
    rooms.remove(a);
    expect(await rooms.hasAudience(1)).toBe(true);
    rooms.remove(b);
    rooms.remove(b); // idempotent
    expect(await pubsub.hasSubscribers('p:acct:1')).toBe(false);
    expect(await rooms.hasAudience(1)).toBe(false);
  });

  it('a failed channel subscription rejects the subscribers and does not poison the account', async () => {
    const inner = new MemoryPubSub();
    let fail = true;
    const flaky: PubSub = {
      publish: (c, m) => inner.publish(c, m),
      subscribe: async (c, h) => {
        if (fail) throw new Error('redis down');
        return inner.subscribe(c, h);
      },
      unsubscribe: (c) => inner.unsubscribe(c),
      hasSubscribers: (c) => inner.hasSubscribers(c),
      close: () => inner.close(),
    };
    const { rooms, sent, sub } = setup(flaky);
    await expect(rooms.add(sub('user', 1))).rejects.toThrow('redis down');
    fail = false;
    const ok = sub('user', 1);
    await rooms.add(ok);
    await rooms.publish(1, { users: [1] }, 'x', {});
    expect(sent.map((s) => s.conn)).toEqual([ok.conn]);
  });
});

describe('protocol parsing', () => {
  it('parses commands leniently and refuses non-commands', () => {
    expect(parseCommand('{"command":"subscribe","identifier":"{}"}')).toEqual({ command: 'subscribe', identifier: '{}' });
    expect(parseCommand('{"command":"message","identifier":"{}","data":"{\\"action\\":\\"update_presence\\"}"}')).toMatchObject({ command: 'message' });
    for (const bad of ['', 'x', '1', '[]', 'null', '{"command":"subscribe"}', '{"command":"subscribe","identifier":5}', '{"command":"message","identifier":"{}"}'])
      expect(parseCommand(bad)).toBeNull();
  });

  it('selects the first supported sub-protocol in the client order', () => {
    expect(selectProtocol(new Set(['actioncable-v1-json', 'actioncable-unsupported']))).toBe('actioncable-v1-json');
    expect(selectProtocol(new Set(['actioncable-v1.1-json', 'actioncable-v1-json']))).toBe('actioncable-v1.1-json');
    expect(selectProtocol(new Set(['actioncable-unsupported']))).toBe(false);
  });
});

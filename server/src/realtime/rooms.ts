import type { PubSub } from './pubsub.js';
import type { Grant } from './channel.js';
import type { Conn } from './connection.js';
import { messageBody, messageFrame } from './protocol.js';

/** One confirmed RoomChannel subscription of one socket. Kept small: one per subscriber. */
export type Sub = {
  conn: Conn;
  /** The identifier exactly as the client sent it, already JSON-escaped for the frame. */
  idJson: string;
  grant: Grant;
  room: Room | null;
  lastPresenceAt: number;
  /** Agents: the conversation this subscription says it has open (the `viewing` action), if any. */
  viewing?: ViewedConversation | null;
  /** `viewing` actions in the current rate window, and when it started. */
  viewCount?: number;
  viewWindowStart?: number;
  /** When the last `viewing` action was handled, and what it said (repeats within a second are ignored). */
  lastViewAt?: number;
  lastViewKey?: string;
};

/** A conversation an agent has open: internal id, display id and inbox (who may hear of it). */
export type ViewedConversation = { id: number; displayId: number; inboxId: number; typing: boolean };

type Room = {
  accountId: number;
  /** Agent subscriptions by user id; contact subscriptions by contact_inbox id. */
  users: Map<number, Sub[]>;
  contacts: Map<number, Sub[]>;
  size: number;
  ready: Promise<void>;
};

/**
 * Who receives one event, computed by the listener on the publishing node. `revoke` is not a
 * delivery: every node disconnects that user's sockets authorized with an older credentials version.
 */
export type Targets = { users?: number[]; contacts?: number[]; allUsers?: boolean; revoke?: { userId: number; version: number } };

/**
 * Local subscriptions indexed per account, and the pub/sub channel per account that feeds them: a
 * node subscribes `<prefix>acct:<id>` while it holds a subscription in that account. A published
 * envelope is `<targets JSON>\n<{event,data} JSON>`: a node parses only the small header, looks its
 * targets up in two maps, and embeds the body string unchanged in each recipient's frame.
 */
export class Rooms {
  private rooms = new Map<number, Room>();
  /** Called on every node holding the account's channel when a `revoke` envelope arrives. */
  onRevoke: ((userId: number, version: number) => void) | null = null;

  constructor(
    private readonly pubsub: PubSub,
    private readonly prefix: string,
    private readonly send: (conn: Conn, frame: Buffer) => void,
    private readonly log: { error(obj: unknown, msg?: string): void },
  ) {}

  channel(accountId: number) {
    return `${this.prefix}acct:${accountId}`;
  }

  /** Joins the sub to its account's room; resolves once the room's channel is subscribed. */
  async add(sub: Sub): Promise<void> {
    const { accountId } = sub.grant;
    let room = this.rooms.get(accountId);
    if (!room) {
      const created: Room = { accountId, users: new Map(), contacts: new Map(), size: 0, ready: Promise.resolve() };
      created.ready = this.pubsub.subscribe(this.channel(accountId), (m) => this.deliver(created, m)).catch((err) => {
        // A failed channel subscription must not poison the account: the next subscriber tries again.
        if (this.rooms.get(accountId) === created) this.rooms.delete(accountId);
        throw err;
      });
      this.rooms.set(accountId, (room = created));
    }
    const index = sub.grant.kind === 'user' ? room.users : room.contacts;
    const list = index.get(sub.grant.key);
    if (list) list.push(sub);
    else index.set(sub.grant.key, [sub]);
    room.size++;
    sub.room = room;
    try {
      await room.ready;
    } catch (err) {
      this.remove(sub);
      throw err;
    }
  }

  remove(sub: Sub) {
    const room = sub.room;
    if (!room) return;
    sub.room = null;
    const index = sub.grant.kind === 'user' ? room.users : room.contacts;
    const list = index.get(sub.grant.key);
    if (list) {
      const i = list.indexOf(sub);
      if (i >= 0) list.splice(i, 1);
      if (!list.length) index.delete(sub.grant.key);
    }
    if (--room.size > 0) return;
    if (this.rooms.get(room.accountId) === room) {
      this.rooms.delete(room.accountId);
      this.pubsub.unsubscribe(this.channel(room.accountId)).catch(() => {});
    }
  }

  async publish(accountId: number, targets: Targets, event: string, data: unknown): Promise<void> {
    if (targets.revoke) {
      const r = [targets.revoke.userId, targets.revoke.version];
      return this.pubsub.publish(this.channel(accountId), JSON.stringify({ r }) + '\n');
    }
    if (!targets.allUsers && !targets.users?.length && !targets.contacts?.length) return;
    const header: { a?: 1; u?: number[]; c?: number[] } = {};
    if (targets.allUsers) header.a = 1;
    else if (targets.users?.length) header.u = targets.users;
    if (targets.contacts?.length) header.c = targets.contacts;
    await this.pubsub.publish(this.channel(accountId), JSON.stringify(header) + '\n' + messageBody(event, data));
  }

  /** False when no node holds a subscription in the account (an error counts as true: publish decides). */
  async hasAudience(accountId: number): Promise<boolean> {
    if (this.rooms.has(accountId)) return true;
    return this.pubsub.hasSubscribers(this.channel(accountId)).catch(() => true);
  }

  get accountCount() {
    return this.rooms.size;
  }

  /** Confirmed subscriptions on this node (the metrics read it at scrape time). */
  get subscriptionCount() {
    let n = 0;
    for (const room of this.rooms.values()) n += room.size;
    return n;
  }

  private deliver(room: Room, message: string) {
    const nl = message.indexOf('\n');
    if (nl < 0) return;
    let header: { a?: 1; u?: unknown; c?: unknown; r?: unknown };
    try {
      header = JSON.parse(message.slice(0, nl));
    } catch (err) {
      this.log.error({ err }, 'realtime: malformed envelope');
      return;
    }
    if (Array.isArray(header.r)) {
      const [userId, version] = header.r;
      if (Number.isInteger(userId) && Number.isInteger(version)) this.onRevoke?.(userId, version);
      return;
    }
    const body = message.slice(nl + 1);
    // Subscribers with the same identifier (one contact's tabs, a broadcast) share one frame buffer.
    const frames = new Map<string, Buffer>();
    if (header.a) {
      for (const subs of room.users.values()) this.sendAll(subs, body, frames);
    } else if (Array.isArray(header.u)) {
      for (const id of header.u) this.sendAll(room.users.get(id), body, frames);
    }
    if (Array.isArray(header.c)) for (const id of header.c) this.sendAll(room.contacts.get(id), body, frames);
  }

  private sendAll(subs: Sub[] | undefined, body: string, frames: Map<string, Buffer>) {
    if (!subs) return;
    // A slow consumer can be terminated (and removed from `subs`) while we iterate: iterate a copy when needed.
    for (const sub of subs.length === 1 ? subs : subs.slice()) {
      let frame = frames.get(sub.idJson);
      if (!frame) frames.set(sub.idJson, (frame = Buffer.from(messageFrame(sub.idJson, body))));
      this.send(sub.conn, frame);
    }
  }
}

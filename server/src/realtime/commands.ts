import type { Db } from '../kernel/db.js';
import type { Conn } from './connection.js';
import type { CommandSink, Hub } from './hub.js';
import type { Rooms, Sub } from './rooms.js';
import { authorizeRoom, type Grant } from './channel.js';
import { presenceData, type Presence } from './presence.js';
import { confirmFrame, parseAction, parseCommand, parseIdentifier, rejectFrame } from './protocol.js';

/** At most this many subscriptions (confirmed + being authorized) per socket. */
const MAX_SUBS = 10;
/** At most this many subscribe commands per socket per window (each costs a database lookup). */
const MAX_ATTEMPTS = 20;
const ATTEMPT_WINDOW_MS = 10_000;
/** update_presence more often than this (per subscription) is ignored; the dashboard sends it every 20 s. */
const PRESENCE_MIN_INTERVAL_MS = 1000;

type Log = { debug(obj: unknown, msg?: string): void; error(obj: unknown, msg?: string): void };

/**
 * The client commands of the ActionCable protocol for RoomChannel: subscribe (authorize, join the
 * account's room, confirm), unsubscribe, and `message` with the `update_presence` action.
 * Malformed frames and unknown commands are ignored, as Rails does.
 */
export class Commands implements CommandSink {
  constructor(
    private readonly db: Db,
    private readonly hub: Hub,
    private readonly rooms: Rooms,
    private readonly presence: Presence,
    private readonly log: Log,
  ) {}

  handle(conn: Conn, raw: string) {
    const cmd = parseCommand(raw);
    if (!cmd) return;
    const idJson = JSON.stringify(cmd.identifier);
    // Defence in depth: a command that fails unexpectedly is logged, never an unhandled rejection.
    const failed = (err: unknown) => this.log.error({ err, command: cmd.command }, 'cable: command failed');
    if (cmd.command === 'subscribe') this.subscribe(conn, cmd.identifier, idJson).catch(failed);
    else if (cmd.command === 'unsubscribe') this.unsubscribe(conn, idJson);
    else this.message(conn, idJson, cmd.data).catch(failed);
  }

  closed(conn: Conn) {
    for (const sub of conn.subs) this.rooms.remove(sub);
    conn.subs = [];
    conn.pending = null;
  }

  private async subscribe(conn: Conn, identifier: string, idJson: string) {
    // The client's guarantor re-sends subscribe until confirmed: duplicates are not errors.
    if (conn.findSub(idJson) || conn.isPending(idJson)) return;
    const now = Date.now();
    if (now - conn.windowStart > ATTEMPT_WINDOW_MS) {
      conn.windowStart = now;
      conn.attempts = 0;
    }
    if (++conn.attempts > MAX_ATTEMPTS) return this.hub.disconnect(conn, 'invalid_request', false, 1008);
    if (conn.subs.length + conn.pendingCount >= MAX_SUBS) return void this.hub.send(conn, rejectFrame(identifier));
    const params = parseIdentifier(identifier);
    if (!params) return void this.hub.send(conn, rejectFrame(identifier));

    conn.addPending(idJson);
    let grant: Grant | null = null;
    try {
      grant = await authorizeRoom(this.db, params);
    } catch (err) {
      this.log.error({ err }, 'cable: subscription lookup failed');
    }
    conn.dropPending(idJson);
    if (conn.closed) return;
    if (!grant) return void this.hub.send(conn, rejectFrame(identifier));

    const sub: Sub = { conn, idJson, grant, room: null, lastPresenceAt: 0 };
    conn.subs.push(sub);
    try {
      await this.rooms.add(sub);
    } catch (err) {
      this.log.error({ err }, 'cable: pub/sub subscribe failed');
      conn.removeSub(sub);
      return void this.hub.send(conn, rejectFrame(identifier));
    }
    if (conn.closed) return this.rooms.remove(sub);
    this.hub.authenticated(conn);
    this.hub.send(conn, confirmFrame(identifier));
    this.touch(grant).catch((err) => this.log.error({ err }, 'cable: presence update failed'));
  }

  private unsubscribe(conn: Conn, idJson: string) {
    const sub = conn.findSub(idJson);
    if (!sub) return;
    conn.removeSub(sub);
    this.rooms.remove(sub);
  }

  private async message(conn: Conn, idJson: string, data: string) {
    const sub = conn.findSub(idJson);
    if (!sub || parseAction(data) !== 'update_presence') return;
    const now = Date.now();
    if (now - sub.lastPresenceAt < PRESENCE_MIN_INTERVAL_MS) return;
    sub.lastPresenceAt = now;
    try {
      await this.updatePresence(sub.grant);
    } catch (err) {
      this.log.error({ err }, 'cable: update_presence failed');
    }
  }

  /** Records the ping, then sends `presence.update` to the subscriber's own stream (every node). */
  private async updatePresence(grant: Grant) {
    await this.touch(grant);
    const forAgent = grant.kind === 'user';
    const data = await presenceData(this.db, this.presence, grant.accountId, forAgent);
    const targets = forAgent ? { users: [grant.key] } : { contacts: [grant.key] };
    await this.rooms.publish(grant.accountId, targets, 'presence.update', data);
  }

  private touch(grant: Grant) {
    return grant.kind === 'user'
      ? this.presence.touch(grant.accountId, 'user', grant.key)
      : this.presence.touch(grant.accountId, 'contact', grant.contactId);
  }
}

import type { Db } from '../kernel/db.js';
import type { Conn } from './connection.js';
import type { CommandSink, Hub } from './hub.js';
import type { Rooms, Sub, ViewedConversation } from './rooms.js';
import { findAgent } from '../agents/repository.js';
import { availabilityStatus, userPushData } from '../users/presenter.js';
import { agentAudience, viewableConversation } from './repository.js';
import { viewingPushData } from './presenters.js';
import { authorizeRoom, type Grant } from './channel.js';
import { presenceData, type Presence } from './presence.js';
import { confirmFrame, parseCommand, parseData, parseIdentifier, rejectFrame } from './protocol.js';

/** At most this many subscriptions (confirmed + being authorized) per socket. */
const MAX_SUBS = 10;
/** At most this many subscribe commands per socket per window (each costs a database lookup). */
const MAX_ATTEMPTS = 20;
const ATTEMPT_WINDOW_MS = 10_000;
/** update_presence more often than this (per subscription) is ignored; the dashboard sends it every 20 s. */
const PRESENCE_MIN_INTERVAL_MS = 1000;
/**
 * `viewing` (collision detection): at most this many per subscription per window are handled (each
 * costs two or three lookups); the same statement repeated within VIEW_REPEAT_MS is ignored. The
 * dashboard repeats it every 20 s, which also heals a statement dropped by the limit.
 */
const MAX_VIEWS = 30;
const VIEW_WINDOW_MS = 10_000;
const VIEW_REPEAT_MS = 1000;
const MAX_DISPLAY_ID = 2_147_483_647;

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
    for (const sub of conn.subs) {
      this.rooms.remove(sub);
      this.stopViewing(sub);
    }
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
    this.stopViewing(sub);
  }

  private async message(conn: Conn, idJson: string, raw: string) {
    const sub = conn.findSub(idJson);
    const data = parseData(raw);
    if (!sub || !data) return;
    if (data.action === 'viewing') return this.viewing(sub, data);
    if (data.action !== 'update_presence') return;
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

  /**
   * `{"action":"viewing","conversation_id":<display id | null>,"typing"?:boolean}` on an agent
   * subscription: publishes `conversation.viewing` to the account's other agents who can see the
   * conversation's inbox. Switching conversations (or null) first says viewing:false for the previous
   * one. A conversation outside the account or the agent's inboxes, a malformed statement, a contact
   * subscription and anything past the rate limit are ignored.
   */
  private async viewing(sub: Sub, data: Record<string, unknown>) {
    const { grant } = sub;
    if (grant.kind !== 'user') return;
    const raw = typeof data.conversation_id === 'string' && /^\d{1,10}$/.test(data.conversation_id) ? Number(data.conversation_id) : data.conversation_id;
    const displayId = raw === null ? null : typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0 && raw <= MAX_DISPLAY_ID ? raw : undefined;
    if (displayId === undefined) return;
    if (data.typing !== undefined && typeof data.typing !== 'boolean') return;
    const typing = data.typing === true;
    const now = Date.now();
    const key = `${displayId}:${typing}`;
    if (key === sub.lastViewKey && now - (sub.lastViewAt ?? 0) < VIEW_REPEAT_MS) return;
    if (now - (sub.viewWindowStart ?? 0) > VIEW_WINDOW_MS) {
      sub.viewWindowStart = now;
      sub.viewCount = 0;
    }
    sub.viewCount = (sub.viewCount ?? 0) + 1;
    if (sub.viewCount > MAX_VIEWS) return;
    sub.lastViewAt = now;
    sub.lastViewKey = key;
    try {
      if (displayId === null) return this.stopViewing(sub);
      const conv = await viewableConversation(this.db, grant.accountId, displayId, grant.key, grant.admin);
      if (!conv || !sub.room) return; // not theirs to see, or unsubscribed meanwhile
      const previous = sub.viewing;
      const next: ViewedConversation = { ...conv, typing };
      sub.viewing = next;
      if (previous && previous.id !== next.id) await this.publishViewing(grant, previous, false);
      await this.publishViewing(grant, next, true, data.typing === undefined ? undefined : typing);
    } catch (err) {
      this.log.error({ err }, 'cable: viewing failed');
    }
  }

  /** The subscription no longer views its conversation (left it, unsubscribed, socket closed): viewing:false. */
  private stopViewing(sub: Sub) {
    const previous = sub.viewing;
    sub.viewing = null;
    if (!previous) return;
    this.publishViewing(sub.grant, previous, false).catch((err) => this.log.error({ err }, 'cable: viewing failed'));
  }

  private async publishViewing(grant: Grant, conv: ViewedConversation, viewing: boolean, typing?: boolean) {
    if (grant.kind !== 'user') return;
    const agent = await findAgent(this.db, grant.accountId, grant.key);
    if (!agent) return;
    const user = userPushData(agent, availabilityStatus(agent.availability, agent.auto_offline, this.presence.isPresent(grant.accountId, grant.key)));
    // The viewer's own sockets (every tab) never hear of it; nor do contacts.
    const users = (await agentAudience(this.db, grant.accountId, conv.inboxId)).filter((id) => id !== grant.key);
    await this.rooms.publish(grant.accountId, { users }, 'conversation.viewing', viewingPushData(grant.accountId, conv.displayId, user, viewing, typing));
  }

  private touch(grant: Grant) {
    return grant.kind === 'user'
      ? this.presence.touch(grant.accountId, 'user', grant.key)
      : this.presence.touch(grant.accountId, 'contact', grant.contactId);
  }
}

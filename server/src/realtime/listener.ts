import type { AppContext } from '../context.js';
import type { Tx } from '../kernel/db.js';
import { TransientError, type Listener } from '../kernel/events/outbox.js';
import type { Actor, AnyOutboxEvent } from '../kernel/events/types.js';
import { MESSAGE_TYPE } from '../kernel/constants.js';
import { contactDeletedData, contactMessageEventData, conversationDeletedData, messageEventData, socketData, typingData } from './presenters.js';
import { loadMessagePushData } from '../messages/presenters.js';
import { findMessageById } from '../messages/repository.js';
import { loadConversationPushData } from '../conversations/presenters.js';
import { loadContactPushData } from '../contacts/presenters.js';
import { findAgent } from '../agents/repository.js';
import { availabilityStatus, userPushData } from '../users/presenter.js';
import { agentAudience, contactAudience, findConversationRef, type ConversationRef } from './repository.js';
import type { Targets } from './rooms.js';
import type { Realtime } from './index.js';

/** Events older than this when the listener sees them (a node was down) are not replayed to sockets. */
const STALE_MS = 60_000;

/** `contactData`: what the contacts among the targets get instead of `data` (null: they get nothing). */
type Delivery = { event: string; data: Record<string, unknown>; targets: Targets; contactData?: Record<string, unknown> | null };

/**
 * The 'realtime' outbox listener: for each event, loads the push data once, computes who receives
 * it (reference §5 audience table) and publishes one envelope to the account's pub/sub channel.
 * Runs on one node per batch (the dispatcher's cursor lock on PostgreSQL); every node's sockets
 * receive it through the pub/sub. Contacts get only their own conversations' public events.
 */
export function realtimeListener(_ctx: Pick<AppContext, 'log'>, rt: Realtime): Listener {

  async function userPush(trx: Tx, accountId: number, userId: number) {
    const agent = await findAgent(trx, accountId, userId);
    if (!agent) return null;
    return userPushData(agent, availabilityStatus(agent.availability, agent.auto_offline, rt.presence.isPresent(accountId, userId)));
  }

  async function personPush(trx: Tx, accountId: number, who: Actor) {
    return who.type === 'user' ? userPush(trx, accountId, who.id) : loadContactPushData(trx, who.id);
  }

  async function conversationEvent(
    trx: Tx,
    ev: AnyOutboxEvent & { payload: { conversation_id: number } },
    toContacts: boolean,
    event: string = ev.name,
  ): Promise<Delivery | null> {
    const conv = await findConversationRef(trx, ev.payload.conversation_id);
    const data = conv && (await loadConversationPushData(trx, conv.id, { user: rt.presence.isPresent }));
    if (!conv || !data) return null;
    return { event, data, targets: await targetsFor(trx, conv, toContacts) };
  }

  /** Events up to this id could not be published (pub/sub away): they are sent however late. */
  let heldBackUpTo = 0;

  // Agents per inbox, computed once per batch (a burst of messages in one inbox costs one query).
  let agentsByInbox = new Map<number, Promise<number[]>>();
  const agentsOf = (trx: Tx, accountId: number, inboxId: number) => {
    let p = agentsByInbox.get(inboxId);
    if (!p) agentsByInbox.set(inboxId, (p = agentAudience(trx, accountId, inboxId)));
    return p;
  };

  async function targetsFor(trx: Tx, conv: ConversationRef, toContacts: boolean, excludeUser?: number): Promise<Targets> {
    let users = await agentsOf(trx, conv.accountId, conv.inboxId);
    if (excludeUser !== undefined) users = users.filter((id) => id !== excludeUser);
    return { users, contacts: toContacts ? await contactAudience(trx, conv) : [] };
  }

  async function build(trx: Tx, ev: AnyOutboxEvent): Promise<Delivery | null> {
    switch (ev.name) {
      case 'message.created':
      case 'message.updated': {
        const messageId = ev.payload.message_id;
        const msg = await findMessageById(trx, messageId);
        const conv = msg && (await findConversationRef(trx, msg.conversation_id));
        const data = conv && (await loadMessagePushData(trx, messageId));
        if (!msg || !conv || !data) return null;
        const extra = ev.name === 'message.created' ? { echo_id: ev.payload.echo_id } : { previous_changes: ev.payload.previous_changes };
        const isPublic = !msg.private && msg.message_type !== MESSAGE_TYPE.activity;
        const full = messageEventData(data, extra);
        return { event: ev.name, data: full, targets: await targetsFor(trx, conv, isPublic), contactData: isPublic ? contactMessageEventData(full) : undefined };
      }
      case 'conversation.created':
      case 'conversation.updated':
      case 'conversation.status_changed':
        return conversationEvent(trx, ev, true);
      case 'conversation.read':
      case 'assignee.changed':
      case 'team.changed':
        return conversationEvent(trx, ev, false);
      case 'conversation.seen':
        // An agent read it (or marked it unread): the other agents' lists see unread_count change.
        // Agents' read state is not the contact's business.
        return conversationEvent(trx, ev, false, 'conversation.updated');
      case 'conversation.deleted': {
        // The row is gone: the audience is the inbox's agents, from the payload; contacts are not told.
        const { display_id: displayId, inbox_id: inboxId } = ev.payload;
        const users = await agentsOf(trx, ev.accountId, inboxId);
        return { event: ev.name, data: conversationDeletedData(displayId, inboxId), targets: { users, contacts: [] } };
      }
      case 'conversation.typing_on':
      case 'conversation.typing_off': {
        const { typist, is_private: isPrivate } = ev.payload;
        const conv = await findConversationRef(trx, ev.payload.conversation_id);
        const conversation = conv && (await loadConversationPushData(trx, conv.id, { user: rt.presence.isPresent }));
        if (!conv || !conversation) return null;
        // The typist never receives their own typing; a private (note) typing never reaches the contact.
        const toContacts = !isPrivate && typist.type === 'user';
        const targets = await targetsFor(trx, conv, toContacts, typist.type === 'user' ? typist.id : undefined);
        const user = await personPush(trx, conv.accountId, typist);
        return { event: ev.name, data: typingData(conversation, user, isPrivate), targets };
      }
      case 'contact.created':
      case 'contact.updated': {
        const data = await loadContactPushData(trx, ev.payload.contact_id);
        return data ? { event: ev.name, data, targets: { allUsers: true } } : null;
      }
      case 'contact.deleted':
        return { event: ev.name, data: contactDeletedData(ev.payload.contact_id), targets: { allUsers: true } };
      case 'user.credentials_rotated': {
        // Not a delivery: every node disconnects the user's sockets subscribed with an older token.
        const { user_id: userId, credentials_version: version } = ev.payload;
        return { event: ev.name, data: {}, targets: { revoke: { userId, version } } };
      }
      default:
        return null;
    }
  }

  /** Whether an event is too old to replay to sockets (a node was down); revocations and held-back events never are. */
  const stale = (ev: AnyOutboxEvent, cutoff: number) => ev.createdAt < cutoff && ev.id > heldBackUpTo && ev.name !== 'user.credentials_rotated';
  /** Whether anyone (on any node) listens to the event's account, asked once per account and batch. */
  const listenerOf = () => {
    const audience = new Map<number, Promise<boolean>>();
    return (accountId: number) => {
      let listening = audience.get(accountId);
      if (!listening) audience.set(accountId, (listening = rt.rooms.hasAudience(accountId)));
      return listening;
    };
  };

  return {
    name: 'realtime',
    // Nobody subscribed (on any node) to any account of the batch: nothing to publish, and on
    // PostgreSQL the batch costs no transaction (the dispatcher moves on in memory).
    async skip(events) {
      const cutoff = Date.now() - STALE_MS;
      const listening = listenerOf();
      for (const ev of events) {
        if (stale(ev, cutoff)) continue;
        if (await listening(ev.accountId)) return false;
      }
      return true;
    },
    async handle(events, trx) {
      agentsByInbox = new Map();
      const outs: { accountId: number; out: Delivery }[] = [];
      let failure: unknown = null;
      const cutoff = Date.now() - STALE_MS;
      // Accounts nobody is subscribed to (on any node) cost nothing: no push data is loaded for them.
      const listening = listenerOf();
      for (const ev of events) {
        // Stale events (a node was down) are not replayed; events held back by a failed publish
        // (Redis away) and revocations never go stale.
        if (stale(ev, cutoff)) continue;
        if (!(await listening(ev.accountId))) continue;
        // An event that cannot be built throws before anything of the batch is published: the
        // dispatcher then handles the events one at a time and records the bad one as dead.
        const out = await build(trx, ev);
        if (!out) continue;
        const performer = 'performer' in ev.payload ? ev.payload.performer : undefined;
        const who = performer && out.event !== 'conversation.typing_on' && out.event !== 'conversation.typing_off' ? await personPush(trx, ev.accountId, performer) : undefined;
        const contacts = out.targets.contacts;
        const split = out.contactData !== undefined && out.contactData !== out.data && !!contacts?.length;
        out.data = socketData(out.data, ev.accountId, who);
        if (split) {
          // Agents and contacts get different data: two envelopes.
          outs.push({ accountId: ev.accountId, out: { ...out, targets: { ...out.targets, contacts: [] } } });
          if (out.contactData) outs.push({ accountId: ev.accountId, out: { event: out.event, data: socketData(out.contactData, ev.accountId, who), targets: { users: [], contacts } } });
        } else outs.push({ accountId: ev.accountId, out });
      }
      // Published in order; each failure is caught at once, so none is an unhandled rejection.
      const publishing = outs.map(({ accountId, out }) => rt.publish(accountId, out.targets, out.event, out.data).catch((err) => (failure ??= err)));
      await Promise.all(publishing);
      // A pub/sub failure (Redis away) is transient: the cursor stays, and the events are published
      // again once it is back (the outbox holds them).
      if (failure) {
        heldBackUpTo = Math.max(heldBackUpTo, events[events.length - 1].id);
        throw new TransientError('realtime publish failed', { cause: failure });
      }
    },
  };
}

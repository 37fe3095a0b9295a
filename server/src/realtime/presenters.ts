import { scrubSecrets } from '../kernel/scrub.js';
import { availabilityStatus } from '../users/presenter.js';
import type { CableEventData } from './event-schemas.js';
import { INTERNAL_CONTENT_ATTRIBUTES } from '../public/presenters.js';

/**
 * The socket audience's JSON: the `data` of each /cable event (schemas: ./event-schemas.ts). The
 * entities' push data come from their presenters (loadMessagePushData, loadConversationPushData,
 * loadContactPushData, userPushData); what an event adds to them is built here, and every frame's
 * data ends in `socketData`.
 */

type Data = Record<string, unknown>;

/** message.created carries the sender's echo id; message.updated what changed (`{attr: [before, after]}`). */
export function messageEventData(push: Data, extra: { echo_id?: string; previous_changes?: unknown }): Data {
  return { ...push, ...(extra.echo_id ? { echo_id: extra.echo_id } : {}), ...('previous_changes' in extra ? { previous_changes: extra.previous_changes ?? null } : {}) };
}

/**
 * A message event as a contact's own socket gets it: without the business's plumbing (the callback's
 * delivery state and errors, which may name internal hosts) in content_attributes and
 * previous_changes. Null when nothing else changed (a delivery-state update): the contact is not told.
 */
export function contactMessageEventData(data: Data): Data | null {
  const attrs = data.content_attributes;
  const changes = data.previous_changes;
  const has = (o: unknown) => !!o && typeof o === 'object' && INTERNAL_CONTENT_ATTRIBUTES.some((k) => k in (o as Data));
  if (!has(attrs) && !has(changes)) return data; // the usual case: the same data for everyone
  const strip = (o: unknown) => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return o;
    const copy = { ...(o as Data) };
    for (const k of INTERNAL_CONTENT_ATTRIBUTES) delete copy[k];
    return copy;
  };
  const out: Data = { ...data, content_attributes: strip(attrs) };
  if ('previous_changes' in data) {
    const left = strip(changes) as Data | null;
    if (left && typeof left === 'object' && Object.keys(left).length === 0) return null;
    out.previous_changes = left;
  }
  return out;
}

/** conversation.typing_on / typing_off: the conversation, the typist (`user`, a user or a contact) and whether it is a private note. */
export const typingData = (conversation: Data, user: Data | null, isPrivate: boolean): Data => ({ conversation, user, is_private: isPrivate });

/** contact.deleted: only the id (the contact is gone). */
export const contactDeletedData = (contactId: number): Data => ({ id: contactId });

/** conversation.deleted: which conversation (display id) of which inbox is gone. */
export const conversationDeletedData = (displayId: number, inboxId: number): Data => ({ id: displayId, inbox_id: inboxId });

/**
 * Every event's data as it goes out: the performer's push data when the event names one, the
 * account, and no secret-bearing key at any depth.
 */
export function socketData(data: Data, accountId: number, performer?: Data | null): Data {
  return scrubSecrets({ ...data, ...(performer !== undefined ? { performer } : {}), account_id: accountId });
}

/**
 * presence.update: `{account_id, users: {id: availability}, contacts?: {id: 'online'}}`. `rows` are
 * the members to list (present, or auto_offline off); contacts are listed for agents only (null otherwise).
 */
export function presencePushData(
  accountId: number,
  rows: { user_id: number; availability: number; auto_offline: number }[],
  presentUserIds: number[],
  onlineContactIds: number[] | null,
): CableEventData['presence.update'] {
  const present = new Set(presentUserIds);
  const users = Object.fromEntries(rows.map((r) => [r.user_id, availabilityStatus(r.availability, r.auto_offline, present.has(r.user_id))]));
  if (!onlineContactIds) return { account_id: accountId, users };
  return { account_id: accountId, users, contacts: Object.fromEntries(onlineContactIds.map((id) => [id, 'online'])) };
}

/**
 * conversation.viewing (collision detection): who has the conversation (display id) open, whether
 * they still do, and whether they are writing when their dashboard says so.
 */
export function viewingPushData(
  accountId: number,
  conversationDisplayId: number,
  user: CableEventData['conversation.viewing']['user'],
  viewing: boolean,
  typing?: boolean,
): CableEventData['conversation.viewing'] {
  return { account_id: accountId, conversation_id: conversationDisplayId, user, viewing, ...(typing !== undefined ? { typing } : {}) };
}

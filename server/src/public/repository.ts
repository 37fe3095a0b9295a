import { sql } from 'kysely';
import type { Executor } from '../kernel/db.js';
import { now } from '../kernel/db.js';
import type { ContactInboxRow } from '../contacts/repository.js';
import type { ConversationRow } from '../conversations/repository.js';
import type { MessageRow } from '../messages/format.js';
import { FLAG, MESSAGE_STATUS, MESSAGE_TYPE } from '../kernel/constants.js';

/**
 * The client API's own queries. Every conversation query is scoped by account, inbox and the set
 * of contact sessions the caller may see (`visibleSessionIds`); every message query by a
 * conversation found that way. Private notes and activity messages are never selected here.
 */

/** Messages embedded in a public conversation: the latest ones, at most this many. */
export const CONVERSATION_MESSAGES_CAP = 100;
/** `before` pages of the public message list. */
export const MESSAGES_PAGE = 20;

/**
 * The sessions whose conversations this session may reach: its own; for a verified session also
 * every other verified session of the same contact in the same inbox.
 */
export async function visibleSessionIds(db: Executor, session: ContactInboxRow): Promise<number[]> {
  if (!session.hmac_verified) return [session.id];
  const rows = await db
    .selectFrom('contact_inboxes')
    .select('id')
    .where('contact_id', '=', session.contact_id)
    .where('inbox_id', '=', session.inbox_id)
    .where('hmac_verified', '=', 1)
    .execute();
  const ids = rows.map((r) => r.id);
  if (!ids.includes(session.id)) ids.push(session.id);
  return ids;
}

/** Whether the contact has a verified session in this inbox. */
export async function hasVerifiedSession(db: Executor, contactId: number, inboxId: number): Promise<boolean> {
  const row = await db
    .selectFrom('contact_inboxes')
    .select('id')
    .where('contact_id', '=', contactId)
    .where('inbox_id', '=', inboxId)
    .where('hmac_verified', '=', 1)
    .limit(1)
    .executeTakeFirst();
  return !!row;
}

export type Scope = { accountId: number; inboxId: number; contactId: number; sessionIds: number[] };

function scoped(db: Executor, s: Scope) {
  return db
    .selectFrom('conversations')
    .selectAll()
    .where('account_id', '=', s.accountId)
    .where('inbox_id', '=', s.inboxId)
    .where('contact_id', '=', s.contactId)
    .where('contact_inbox_id', 'in', s.sessionIds);
}

/** The caller's conversations in the inbox, oldest first (unpaged, as the reference). */
export async function listScopedConversations(db: Executor, s: Scope): Promise<ConversationRow[]> {
  return scoped(db, s).orderBy('id', 'asc').execute();
}

/** One of the caller's conversations by display_id; undefined (→ 404) for anything else. */
export async function findScopedConversation(db: Executor, s: Scope, displayId: number): Promise<ConversationRow | undefined> {
  return scoped(db, s).where('display_id', '=', displayId).executeTakeFirst();
}

function publicMessages(db: Executor, conversationId: number) {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('private', '=', FLAG.off)
    .where('message_type', '!=', MESSAGE_TYPE.activity);
}

/** The latest public messages of these conversations (at most CONVERSATION_MESSAGES_CAP each), oldest first. */
export async function publicMessagesOf(db: Executor, conversationIds: number[]): Promise<MessageRow[]> {
  if (!conversationIds.length) return [];
  const ranked = db
    .selectFrom('messages')
    .selectAll()
    .select(sql<number>`row_number() over (partition by conversation_id order by id desc)`.as('rn'))
    .where('conversation_id', 'in', [...new Set(conversationIds)])
    .where('private', '=', FLAG.off)
    .where('message_type', '!=', MESSAGE_TYPE.activity);
  const rows = await db
    .selectFrom(ranked.as('m'))
    .selectAll()
    .where('rn', '<=', CONVERSATION_MESSAGES_CAP)
    .orderBy('id', 'asc')
    .execute();
  return rows.map(({ rn: _rn, ...m }) => m as MessageRow);
}

/** A page of public messages: the latest 20, or the 20 before `before`; oldest first. */
export async function listPublicMessages(db: Executor, conversationId: number, before?: number): Promise<MessageRow[]> {
  let q = publicMessages(db, conversationId);
  if (before !== undefined) q = q.where('id', '<', before);
  const rows = await q.orderBy('id', 'desc').limit(MESSAGES_PAGE).execute();
  return rows.reverse();
}

/** A public message of the conversation (private notes and activity messages are not found). */
export async function findPublicMessage(db: Executor, conversationId: number, messageId: number): Promise<MessageRow | undefined> {
  return publicMessages(db, conversationId).where('id', '=', messageId).executeTakeFirst();
}

/**
 * The conversation's earlier outgoing and template messages the contact could see (no private notes,
 * no activity) that are still `sent` or `delivered`.
 */
export async function unreadReplies(db: Executor, conversationId: number, seenAt: number): Promise<{ id: number; status: number }[]> {
  return db
    .selectFrom('messages')
    .select(['id', 'status'])
    .where('conversation_id', '=', conversationId)
    .where('message_type', 'in', [MESSAGE_TYPE.outgoing, MESSAGE_TYPE.template])
    .where('private', '=', FLAG.off)
    .where('status', 'in', [MESSAGE_STATUS.sent, MESSAGE_STATUS.delivered])
    .where('created_at', '<=', seenAt)
    .orderBy('id')
    .execute();
}

/** Marks these messages `read`. */
export async function markRead(db: Executor, ids: number[]): Promise<void> {
  if (!ids.length) return;
  await db.updateTable('messages').set({ status: MESSAGE_STATUS.read, updated_at: now() }).where('id', 'in', ids).execute();
}

export async function setSessionVerified(db: Executor, sessionId: number): Promise<void> {
  await db.updateTable('contact_inboxes').set({ hmac_verified: 1, updated_at: now() }).where('id', '=', sessionId).execute();
}

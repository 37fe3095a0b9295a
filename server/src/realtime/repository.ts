import type { Executor } from '../kernel/db.js';
import { ACCOUNT_STATUS, FLAG, ROLE } from '../kernel/constants.js';

/** Every query of the real-time module: audiences, socket grants, presence. */

/**
 * Who may see an event, computed on the server from current memberships (never trusted from a
 * client): agents = the account's administrators plus the members of the conversation's inbox;
 * contact = the conversation's contact_inbox session, or, when this one is verified, every
 * hmac-verified session of that contact in the same inbox (what the client API lets them read).
 */

export type ConversationRef = {
  id: number;
  accountId: number;
  inboxId: number;
  contactId: number;
  contactInboxId: number;
  hmacVerified: boolean;
};

export async function findConversationRef(db: Executor, conversationId: number): Promise<ConversationRef | null> {
  const row = await db
    .selectFrom('conversations')
    .innerJoin('contact_inboxes', 'contact_inboxes.id', 'conversations.contact_inbox_id')
    .select([
      'conversations.id',
      'conversations.account_id',
      'conversations.inbox_id',
      'conversations.contact_id',
      'conversations.contact_inbox_id',
      'contact_inboxes.hmac_verified',
    ])
    .where('conversations.id', '=', conversationId)
    .executeTakeFirst();
  if (!row) return null;
  return {
    id: row.id,
    accountId: row.account_id,
    inboxId: row.inbox_id,
    contactId: row.contact_id,
    contactInboxId: row.contact_inbox_id,
    hmacVerified: !!row.hmac_verified,
  };
}

/** User ids of the account's administrators and of the inbox's members who belong to the account. */
export async function agentAudience(db: Executor, accountId: number, inboxId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('account_users')
    .select('account_users.user_id')
    .where('account_users.account_id', '=', accountId)
    .where((eb) =>
      eb.or([
        eb('account_users.role', '=', ROLE.administrator),
        eb.exists(
          eb
            .selectFrom('inbox_members')
            .select('inbox_members.id')
            .whereRef('inbox_members.user_id', '=', 'account_users.user_id')
            .where('inbox_members.inbox_id', '=', inboxId),
        ),
      ]),
    )
    .execute();
  return rows.map((r) => r.user_id);
}

/** contact_inbox ids that receive the conversation's public events. */
export async function contactAudience(db: Executor, conv: ConversationRef): Promise<number[]> {
  if (!conv.hmacVerified) return [conv.contactInboxId];
  const rows = await db
    .selectFrom('contact_inboxes')
    .select('id')
    .where('contact_id', '=', conv.contactId)
    .where('inbox_id', '=', conv.inboxId) // the same visibility as the client API: one inbox
    .where('hmac_verified', '=', FLAG.on)
    .execute();
  const ids = rows.map((r) => r.id);
  if (!ids.includes(conv.contactInboxId)) ids.push(conv.contactInboxId);
  return ids;
}

/** What an agent's room subscription is checked against: the user's token and role in an active account. */
export async function agentGrantRow(db: Executor, userId: number, accountId: number) {
  return db
    .selectFrom('users')
    .innerJoin('account_users', 'account_users.user_id', 'users.id')
    .innerJoin('accounts', 'accounts.id', 'account_users.account_id')
    .select(['users.pubsub_token', 'users.credentials_version', 'account_users.role'])
    .where('users.id', '=', userId)
    .where('account_users.account_id', '=', accountId)
    .where('accounts.status', '=', ACCOUNT_STATUS.active)
    .executeTakeFirst();
}

/** The contact session of a pubsub token, in an active account. */
export async function contactGrantRow(db: Executor, token: string) {
  return db
    .selectFrom('contact_inboxes')
    .innerJoin('contacts', 'contacts.id', 'contact_inboxes.contact_id')
    .innerJoin('accounts', 'accounts.id', 'contacts.account_id')
    .select(['contact_inboxes.id', 'contact_inboxes.contact_id', 'contacts.account_id'])
    .where('contact_inboxes.pubsub_token', '=', token)
    .where('accounts.status', '=', ACCOUNT_STATUS.active)
    .executeTakeFirst();
}

/** Availability of the account's members who are present (`userIds`) or never auto-offline. */
export async function presenceRows(db: Executor, accountId: number, userIds: number[]) {
  return db
    .selectFrom('account_users')
    .select(['user_id', 'availability', 'auto_offline'])
    .where('account_id', '=', accountId)
    .where((eb) => (userIds.length ? eb.or([eb('auto_offline', '=', FLAG.off), eb('user_id', 'in', userIds)]) : eb('auto_offline', '=', FLAG.off)))
    .execute();
}

/**
 * The conversation an agent says it has open (the /cable `viewing` action), by display id in the
 * subscription's account, when that agent may see it (administrators: any; agents: members of its inbox).
 */
export async function viewableConversation(db: Executor, accountId: number, displayId: number, userId: number, admin: boolean) {
  let q = db
    .selectFrom('conversations')
    .select(['conversations.id', 'conversations.display_id', 'conversations.inbox_id'])
    .where('conversations.account_id', '=', accountId)
    .where('conversations.display_id', '=', displayId);
  // Administrators see every inbox: no membership condition at all (a bound JS boolean is refused
  // by better-sqlite3, so "true" is never sent as a parameter).
  if (!admin) {
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('inbox_members')
          .select('inbox_members.id')
          .whereRef('inbox_members.inbox_id', '=', 'conversations.inbox_id')
          .where('inbox_members.user_id', '=', userId),
      ),
    );
  }
  const row = await q.executeTakeFirst();
  return row ? { id: row.id, displayId: row.display_id, inboxId: row.inbox_id } : null;
}

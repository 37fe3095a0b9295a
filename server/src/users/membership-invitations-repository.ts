import type { ExpressionBuilder } from 'kysely';
import type { Executor } from '../kernel/db.js';
import type { DB } from '../kernel/schema.js';
import { now } from '../kernel/db.js';
import { ACCOUNT_STATUS } from '../kernel/constants.js';
import type { AgentRow } from './presenter.js';
import { INVITATION_TTL_MS } from './invitations-repository.js';

/**
 * An account's invitations of users who already exist (issue 9 item 4). Such a user belongs to
 * themselves: adding them to another account creates one of these rows, not a membership. Until
 * they accept it (profile API), the inviting account sees only what it typed (email, name) and
 * the role/availability it chose; accepting turns the row into the account_users row, declining
 * deletes it. One row per (account, user); a new invitation replaces the previous one.
 */

export type MembershipInvitationInput = {
  accountId: number;
  userId: number;
  inviterId: number | null;
  email: string;
  name: string | null;
  role: number;
  availability: number;
  autoOffline: boolean;
};

/** Creates or replaces the account's invitation of the user; returns when it expires. */
export async function upsertMembershipInvitation(db: Executor, input: MembershipInvitationInput): Promise<{ expiresAt: number }> {
  const t = now();
  const expiresAt = t + INVITATION_TTL_MS;
  await db.deleteFrom('membership_invitations').where('account_id', '=', input.accountId).where('user_id', '=', input.userId).execute();
  await db
    .insertInto('membership_invitations')
    .values({
      account_id: input.accountId,
      user_id: input.userId,
      inviter_id: input.inviterId,
      email: input.email,
      name: input.name,
      role: input.role,
      availability: input.availability,
      auto_offline: input.autoOffline ? 1 : 0,
      expires_at: expiresAt,
      created_at: t,
    })
    .execute();
  return { expiresAt };
}

export type PendingRow = {
  user_id: number;
  account_id: number;
  email: string;
  name: string | null;
  role: number;
  availability: number;
  auto_offline: number;
};

/**
 * A pending invitee as the inviting account may see them: what it typed and chose, nothing of the
 * user's own (name, display name), unconfirmed.
 */
export const asPendingAgent = (r: PendingRow): AgentRow => ({
  id: r.user_id,
  account_id: r.account_id,
  name: r.name || r.email,
  display_name: null,
  email: r.email,
  confirmed: 0,
  role: r.role,
  availability: r.availability,
  auto_offline: r.auto_offline,
});

/** An invitation left over by a race with an accept (the user is a member already) is not pending. */
const notMemberYet = (eb: ExpressionBuilder<DB, 'membership_invitations'>) =>
  eb.not(
    eb.exists(
      eb
        .selectFrom('account_users')
        .select('account_users.id')
        .whereRef('account_users.account_id', '=', 'membership_invitations.account_id')
        .whereRef('account_users.user_id', '=', 'membership_invitations.user_id'),
    ),
  );

function selectPending(db: Executor, accountId: number) {
  return db
    .selectFrom('membership_invitations')
    .select(['user_id', 'account_id', 'email', 'name', 'role', 'availability', 'auto_offline'])
    .where('account_id', '=', accountId)
    .where('expires_at', '>', now())
    .where(notMemberYet);
}

/** The account's unexpired invitations of existing users, as agent rows (by email). */
export async function listPendingAgents(db: Executor, accountId: number): Promise<AgentRow[]> {
  const rows = await selectPending(db, accountId).orderBy('email').orderBy('user_id').execute();
  return rows.map(asPendingAgent);
}

export async function findPendingAgent(db: Executor, accountId: number, userId: number): Promise<AgentRow | undefined> {
  const row = await selectPending(db, accountId).where('user_id', '=', userId).executeTakeFirst();
  return row && asPendingAgent(row);
}

/** Withdraws the account's invitation of the user (expired ones too); false when there was none. */
export async function deleteMembershipInvitation(db: Executor, accountId: number, userId: number): Promise<boolean> {
  const res = await db.deleteFrom('membership_invitations').where('account_id', '=', accountId).where('user_id', '=', userId).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export type MembershipInvitationRow = {
  id: number;
  account_id: number;
  account_name: string;
  inviter_id: number | null;
  inviter_name: string | null;
  inviter_display_name: string | null;
  role: number;
  availability: number;
  auto_offline: number;
  created_at: number;
  expires_at: number;
};

function selectForUser(db: Executor, userId: number) {
  return db
    .selectFrom('membership_invitations')
    .innerJoin('accounts', 'accounts.id', 'membership_invitations.account_id')
    .leftJoin('users as inviter', 'inviter.id', 'membership_invitations.inviter_id')
    .select([
      'membership_invitations.id',
      'membership_invitations.account_id',
      'accounts.name as account_name',
      'membership_invitations.inviter_id',
      'inviter.name as inviter_name',
      'inviter.display_name as inviter_display_name',
      'membership_invitations.role',
      'membership_invitations.availability',
      'membership_invitations.auto_offline',
      'membership_invitations.created_at',
      'membership_invitations.expires_at',
    ])
    .where('membership_invitations.user_id', '=', userId)
    .where('membership_invitations.expires_at', '>', now())
    .where('accounts.status', '=', ACCOUNT_STATUS.active)
    .where(notMemberYet);
}

const normalize = (r: MembershipInvitationRow): MembershipInvitationRow => ({
  ...r,
  created_at: Number(r.created_at),
  expires_at: Number(r.expires_at),
});

/** The user's invitations that can still be accepted (unexpired, active account), oldest first. */
export async function listInvitationsOf(db: Executor, userId: number): Promise<MembershipInvitationRow[]> {
  const rows = await selectForUser(db, userId).orderBy('membership_invitations.id').execute();
  return rows.map(normalize);
}

/**
 * Removes the user's invitation `id` if it can still be accepted and returns it; undefined when it
 * is not theirs, expired, its account is suspended, or another request took it first.
 */
export async function takeInvitation(db: Executor, userId: number, id: number): Promise<MembershipInvitationRow | undefined> {
  const row = await selectForUser(db, userId).where('membership_invitations.id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const res = await db.deleteFrom('membership_invitations').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return Number(res.numDeletedRows) === 1 ? normalize(row) : undefined;
}

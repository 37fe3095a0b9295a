import type { Executor } from '../kernel/db.js';
import { now } from '../kernel/db.js';
import { ACCOUNT_STATUS } from '../kernel/constants.js';
import { safeEqual, secureToken, sha256Hex } from '../kernel/tokens.js';

/**
 * One-time invitation links. Only the sha256 digest of a token is stored; the token itself is shown
 * once (in the agent-create response and the invitation mail).
 */
export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

export type PendingInvitation = {
  id: number;
  account_id: number;
  account_name: string;
  user_id: number;
  email: string;
  name: string;
  role: number;
  expires_at: number;
};

/** Issues a new invitation for (account, user); earlier unused ones for the same pair stop working. */
export async function createInvitation(
  db: Executor,
  input: { accountId: number; userId: number; inviterId: number | null },
): Promise<{ token: string; expiresAt: number }> {
  const token = secureToken(32);
  const t = now();
  await db
    .deleteFrom('invitations')
    .where('account_id', '=', input.accountId)
    .where('user_id', '=', input.userId)
    .where('used_at', 'is', null)
    .execute();
  const expiresAt = t + INVITATION_TTL_MS;
  await db
    .insertInto('invitations')
    .values({
      account_id: input.accountId,
      user_id: input.userId,
      inviter_id: input.inviterId,
      token_digest: sha256Hex(token),
      expires_at: expiresAt,
      used_at: null,
      created_at: t,
    })
    .execute();
  return { token, expiresAt };
}

/**
 * The invitation behind a presented token, if it can still be accepted: not used, not expired, the
 * user still has no password and is still a member of the inviting account.
 */
export async function findPendingInvitation(db: Executor, token: string): Promise<PendingInvitation | undefined> {
  if (!token || token.length > 200) return undefined;
  const digest = sha256Hex(token);
  const row = await db
    .selectFrom('invitations')
    .innerJoin('users', 'users.id', 'invitations.user_id')
    .innerJoin('account_users', (j) =>
      j.onRef('account_users.account_id', '=', 'invitations.account_id').onRef('account_users.user_id', '=', 'invitations.user_id'),
    )
    .innerJoin('accounts', 'accounts.id', 'invitations.account_id')
    .select([
      'invitations.id',
      'invitations.token_digest',
      'invitations.account_id',
      'accounts.name as account_name',
      'invitations.user_id',
      'users.email',
      'users.name',
      'account_users.role',
      'invitations.expires_at',
    ])
    .where('invitations.token_digest', '=', digest)
    .where('invitations.used_at', 'is', null)
    .where('users.password_hash', 'is', null)
    .where('accounts.status', '=', ACCOUNT_STATUS.active)
    .executeTakeFirst();
  if (!row || !safeEqual(row.token_digest, digest) || Number(row.expires_at) <= now()) return undefined;
  const { token_digest: _digest, ...invitation } = row;
  return { ...invitation, expires_at: Number(invitation.expires_at) };
}

/** Marks the invitation used; false when another request used it first. */
export async function markInvitationUsed(db: Executor, id: number): Promise<boolean> {
  const res = await db
    .updateTable('invitations')
    .set({ used_at: now() })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Once a user has a password, none of their other invitation links may set it again. */
export async function retireInvitationsOf(db: Executor, userId: number): Promise<void> {
  await db.updateTable('invitations').set({ used_at: now() }).where('user_id', '=', userId).where('used_at', 'is', null).execute();
}

import type { AppContext } from '../context.js';
import { errors } from '../kernel/errors.js';
import { insertMembership } from '../agents/repository.js';
import { listInvitationsOf, takeInvitation, type MembershipInvitationRow } from '../users/membership-invitations-repository.js';
import { findUserById, type UserRow } from '../users/repository.js';

/** The signed-in user's pending account invitations (unexpired, active accounts). */
export function invitationsOf(ctx: AppContext, user: UserRow): Promise<MembershipInvitationRow[]> {
  return listInvitationsOf(ctx.database.db, user.id);
}

/**
 * Accepts one of the user's own invitations: the user becomes a member of that account with the
 * role, availability and auto_offline the account chose. 404 when it is not theirs, expired,
 * answered already or its account is suspended. Returns the user as stored now.
 */
export async function acceptAccountInvitation(ctx: AppContext, user: UserRow, id: number): Promise<UserRow> {
  return ctx.database.transaction(async (trx) => {
    const inv = await takeInvitation(trx, user.id, id);
    if (!inv) throw errors.notFound();
    const membership = { role: inv.role, inviterId: inv.inviter_id, availability: inv.availability, autoOffline: !!inv.auto_offline };
    await insertMembership(trx, inv.account_id, user.id, membership, true);
    return (await findUserById(trx, user.id))!;
  });
}

/** Declines one of the user's own invitations: it is deleted and the account's pending entry goes away. */
export async function declineAccountInvitation(ctx: AppContext, user: UserRow, id: number): Promise<void> {
  await ctx.database.transaction(async (trx) => {
    if (!(await takeInvitation(trx, user.id, id))) throw errors.notFound();
  });
}

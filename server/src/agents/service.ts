import type { AppContext } from '../context.js';
import { roleNumber, type AccountContext } from '../kernel/auth.js';
import { isUniqueViolation } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import { hashPassword } from '../kernel/passwords.js';
import { enforce } from '../kernel/ratelimit.js';
import { checkNewPassword } from '../auth/service.js';
import { findAccount } from '../accounts/repository.js';
import { AVAILABILITY, availableName, type AgentRow } from '../users/presenter.js';
import { findUserByEmail, insertUser, normalizeEmail, updateUser } from '../users/repository.js';
import { createInvitation } from '../users/invitations-repository.js';
import {
  asPendingAgent,
  deleteMembershipInvitation,
  findPendingAgent,
  listPendingAgents,
  upsertMembershipInvitation,
} from '../users/membership-invitations-repository.js';
import {
  countAdministrators,
  countMemberships,
  deleteMembership,
  findAgent,
  insertMembership,
  listAgents,
  lockAccount,
  updateMembership,
  type MembershipPatch,
} from './repository.js';
import { accountInvitationsUrl, invitationUrl, mailInvitation, mailMembershipInvitation } from './invitations.js';
import type { AgentCreateInput, AgentUpdateInput } from './schemas.js';
import { ROLE } from '../kernel/constants.js';

/** The reference's per-account limits on agent management. */
const CREATE_LIMIT = { limit: 100, windowS: 24 * 3600 };
const DELETE_LIMIT = { limit: 50, windowS: 24 * 3600 };

const emailTaken = () => errors.invalid('Email has already been taken', ['email']);
const availabilityNumber = (a: (typeof AVAILABILITY)[number]) => AVAILABILITY.indexOf(a);

/**
 * The account's agents, then the existing users it invited who have not accepted yet (unconfirmed,
 * shown only with the email and name the account typed).
 */
export async function agentsOf(ctx: AppContext, auth: AccountContext): Promise<AgentRow[]> {
  const db = ctx.database.db;
  const [members, pending] = await Promise.all([listAgents(db, auth.accountId), listPendingAgents(db, auth.accountId)]);
  return [...members, ...pending];
}

export type CreatedAgent = {
  agent: AgentRow;
  /** A new user's one-time link to set a password. */
  invitation?: { url: string; expiresAt: number };
  /** An existing user was invited: not a member until they accept. */
  pendingUntil?: number;
};

/**
 * Adds an agent to the account. A new email creates the user (a member at once); without a
 * password they get a one-time invitation link (returned, and mailed when SMTP is configured). A
 * user who already exists belongs to themselves: they are invited and become a member only when
 * they accept (GET/POST /api/v1/profile/invitations); until then the account sees only the email
 * and name it typed, and nothing of the user is changed. (A user who never set a password and
 * belongs to no account is set up like a new one.)
 */
export async function createAgent(ctx: AppContext, auth: AccountContext, input: AgentCreateInput): Promise<CreatedAgent> {
  const email = input.email ? normalizeEmail(input.email) : '';
  if (!email) throw errors.invalid("Email can't be blank", ['email']);
  const password = input.password || undefined;
  if (password) checkNewPassword(password);
  await enforce(ctx.limiter, `agents:create:${auth.accountId}`, CREATE_LIMIT.limit, CREATE_LIMIT.windowS);
  const passwordHash = password ? await hashPassword(password) : null;
  const membership = {
    role: roleNumber(input.role ?? 'agent'),
    inviterId: auth.user.id,
    availability: availabilityNumber(input.availability ?? 'online'),
    autoOffline: input.auto_offline ?? true,
  };

  const typedName = input.name?.trim() || null;
  const requireName = () => {
    if (!typedName) throw errors.invalid("Name can't be blank", ['name']);
    return typedName;
  };

  let result:
    | { kind: 'member'; userId: number; name: string; invitation?: { token: string; expiresAt: number } }
    | { kind: 'pending'; userId: number; expiresAt: number };
  try {
    result = await ctx.database.transaction(async (trx) => {
      const existing = await findUserByEmail(trx, email);
      if (existing) {
        if (await findAgent(trx, auth.accountId, existing.id)) throw emailTaken();
        // A user without a password who belongs to no account never took the identity: they are
        // set up like a new one (the name typed here, a password or a one-time link).
        const unclaimed = !existing.password_hash && (await countMemberships(trx, existing.id)) === 0;
        if (!unclaimed) {
          // Anyone else belongs to themselves: an invitation they accept or decline; nothing of the
          // user is read into the response or changed (another account must not rename them).
          const { expiresAt } = await upsertMembershipInvitation(trx, {
            accountId: auth.accountId,
            userId: existing.id,
            inviterId: auth.user.id,
            email,
            name: typedName,
            role: membership.role,
            availability: membership.availability,
            autoOffline: membership.autoOffline,
          });
          return { kind: 'pending' as const, userId: existing.id, expiresAt };
        }
        const name = requireName();
        await updateUser(trx, existing.id, { name, display_name: null, ...(passwordHash ? { password_hash: passwordHash, confirmed: 1 } : { confirmed: 0 }) });
        await insertMembership(trx, auth.accountId, existing.id, membership);
        const invitation = passwordHash
          ? undefined
          : await createInvitation(trx, { accountId: auth.accountId, userId: existing.id, inviterId: auth.user.id });
        return { kind: 'member' as const, userId: existing.id, name, invitation };
      }
      const name = requireName();
      const user = await insertUser(trx, { name, email, password_hash: passwordHash });
      if (!passwordHash) await updateUser(trx, user.id, { confirmed: 0 });
      await insertMembership(trx, auth.accountId, user.id, membership);
      const invitation = passwordHash
        ? undefined
        : await createInvitation(trx, { accountId: auth.accountId, userId: user.id, inviterId: auth.user.id });
      return { kind: 'member' as const, userId: user.id, name, invitation };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw emailTaken();
    throw err;
  }

  if (result.kind === 'pending') {
    const agent = asPendingAgent({
      user_id: result.userId,
      account_id: auth.accountId,
      email,
      name: typedName,
      role: membership.role,
      availability: membership.availability,
      auto_offline: membership.autoOffline ? 1 : 0,
    });
    const account = await findAccount(ctx.database.db, auth.accountId);
    void mailMembershipInvitation(ctx, {
      to: email,
      accountName: account?.name ?? '',
      inviterName: availableName(auth.user),
      url: accountInvitationsUrl(ctx),
      expiresAt: result.expiresAt,
    });
    return { agent, pendingUntil: result.expiresAt };
  }
  const agent = (await findAgent(ctx.database.db, auth.accountId, result.userId))!;
  if (!result.invitation) return { agent };
  const url = invitationUrl(ctx, result.invitation.token);
  const account = await findAccount(ctx.database.db, auth.accountId);
  void mailInvitation(ctx, {
    to: email,
    name: result.name,
    accountName: account?.name ?? '',
    inviterName: availableName(auth.user),
    url,
    expiresAt: result.invitation.expiresAt,
  });
  return { agent, invitation: { url, expiresAt: result.invitation.expiresAt } };
}

/**
 * Administrators change what belongs to the account: the agent's role, availability and
 * auto_offline in it. The user's own fields (name, email, password) are not theirs to change and
 * are ignored, as the reference drops parameters it does not permit. The last administrator stays one.
 */
export async function updateAgent(ctx: AppContext, auth: AccountContext, userId: number, input: AgentUpdateInput): Promise<AgentRow> {
  return ctx.database.transaction(async (trx) => {
    await lockAccount(trx, ctx.database.dialect, auth.accountId);
    const agent = await findAgent(trx, auth.accountId, userId);
    if (!agent) throw errors.notFound();
    const patch: MembershipPatch = {};
    if (input.role !== undefined) patch.role = roleNumber(input.role);
    if (input.availability !== undefined) patch.availability = availabilityNumber(input.availability);
    if (input.auto_offline !== undefined) patch.auto_offline = input.auto_offline ? 1 : 0;
    if (agent.role === ROLE.administrator && patch.role === ROLE.agent && (await countAdministrators(trx, auth.accountId)) <= 1) {
      throw errors.invalid('The account needs at least one administrator', ['role']);
    }
    await updateMembership(trx, auth.accountId, userId, patch);
    return (await findAgent(trx, auth.accountId, userId))!;
  });
}

/**
 * Removes an agent from the account (never yourself, never the last administrator), or withdraws
 * the account's pending invitation of that user.
 */
export async function removeAgent(ctx: AppContext, auth: AccountContext, userId: number): Promise<void> {
  await ctx.database.transaction(async (trx) => {
    await lockAccount(trx, ctx.database.dialect, auth.accountId);
    const agent = await findAgent(trx, auth.accountId, userId);
    if (!agent) {
      if (!(await findPendingAgent(trx, auth.accountId, userId))) throw errors.notFound();
      await enforce(ctx.limiter, `agents:delete:${auth.accountId}`, DELETE_LIMIT.limit, DELETE_LIMIT.windowS);
      await deleteMembershipInvitation(trx, auth.accountId, userId);
      return;
    }
    if (userId === auth.user.id) throw errors.unprocessable('You cannot delete yourself');
    if (agent.role === ROLE.administrator && (await countAdministrators(trx, auth.accountId)) <= 1) {
      throw errors.unprocessable('The last administrator of an account cannot be deleted');
    }
    await enforce(ctx.limiter, `agents:delete:${auth.accountId}`, DELETE_LIMIT.limit, DELETE_LIMIT.windowS);
    await deleteMembership(trx, auth.accountId, userId);
  });
}

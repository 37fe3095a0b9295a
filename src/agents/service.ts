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
import { createInvitation } from '../users/invitations.js';
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
import { invitationUrl, mailInvitation } from './invitations.js';
import type { AgentCreateInput, AgentUpdateInput } from './schemas.js';

/** The reference's per-account limits on agent management. */
const CREATE_LIMIT = { limit: 100, windowS: 24 * 3600 };
const DELETE_LIMIT = { limit: 50, windowS: 24 * 3600 };

const emailTaken = () => errors.invalid('Email has already been taken', ['email']);
const availabilityNumber = (a: (typeof AVAILABILITY)[number]) => AVAILABILITY.indexOf(a);

export async function agentsOf(ctx: AppContext, auth: AccountContext): Promise<AgentRow[]> {
  return listAgents(ctx.database.db, auth.accountId);
}

export type CreatedAgent = { agent: AgentRow; invitation?: { url: string; expiresAt: number } };

/**
 * Adds an agent to the account. A new email creates the user; an existing user joins the account
 * (their password is never changed here). Without a password, a new user gets a one-time invitation
 * link (returned, and mailed when SMTP is configured).
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

  let result: { userId: number; name: string; invitation?: { token: string; expiresAt: number } };
  try {
    result = await ctx.database.transaction(async (trx) => {
      const existing = await findUserByEmail(trx, email);
      if (existing) {
        if (await findAgent(trx, auth.accountId, existing.id)) throw emailTaken();
        // A user without a password who belongs to no other account is set up like a new one;
        // anyone else keeps their credentials (another account's administrator must not set them).
        const unclaimed = !existing.password_hash && (await countMemberships(trx, existing.id)) === 0;
        await insertMembership(trx, auth.accountId, existing.id, membership);
        if (unclaimed && passwordHash) await updateUser(trx, existing.id, { password_hash: passwordHash, confirmed: 1 });
        const invitation =
          unclaimed && !passwordHash
            ? await createInvitation(trx, { accountId: auth.accountId, userId: existing.id, inviterId: auth.user.id })
            : undefined;
        return { userId: existing.id, name: existing.name, invitation };
      }
      const name = input.name?.trim();
      if (!name) throw errors.invalid("Name can't be blank", ['name']);
      const user = await insertUser(trx, { name, email, password_hash: passwordHash });
      if (!passwordHash) await updateUser(trx, user.id, { confirmed: 0 });
      await insertMembership(trx, auth.accountId, user.id, membership);
      const invitation = passwordHash
        ? undefined
        : await createInvitation(trx, { accountId: auth.accountId, userId: user.id, inviterId: auth.user.id });
      return { userId: user.id, name, invitation };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw emailTaken();
    throw err;
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

/** Administrators change an agent's name, role, availability and auto_offline. The last administrator stays one. */
export async function updateAgent(ctx: AppContext, auth: AccountContext, userId: number, input: AgentUpdateInput): Promise<AgentRow> {
  if (input.name !== undefined && !input.name.trim()) throw errors.invalid("Name can't be blank", ['name']);
  return ctx.database.transaction(async (trx) => {
    await lockAccount(trx, ctx.database.dialect, auth.accountId);
    const agent = await findAgent(trx, auth.accountId, userId);
    if (!agent) throw errors.notFound();
    const patch: MembershipPatch = {};
    if (input.role !== undefined) patch.role = roleNumber(input.role);
    if (input.availability !== undefined) patch.availability = availabilityNumber(input.availability);
    if (input.auto_offline !== undefined) patch.auto_offline = input.auto_offline ? 1 : 0;
    if (agent.role === 1 && patch.role === 0 && (await countAdministrators(trx, auth.accountId)) <= 1) {
      throw errors.invalid('The account needs at least one administrator', ['role']);
    }
    await updateMembership(trx, auth.accountId, userId, patch);
    if (input.name !== undefined) await updateUser(trx, userId, { name: input.name.trim() });
    return (await findAgent(trx, auth.accountId, userId))!;
  });
}

/** Removes an agent from the account (never yourself, never the last administrator). */
export async function removeAgent(ctx: AppContext, auth: AccountContext, userId: number): Promise<void> {
  await ctx.database.transaction(async (trx) => {
    await lockAccount(trx, ctx.database.dialect, auth.accountId);
    const agent = await findAgent(trx, auth.accountId, userId);
    if (!agent) throw errors.notFound();
    if (userId === auth.user.id) throw errors.unprocessable('You cannot delete yourself');
    if (agent.role === 1 && (await countAdministrators(trx, auth.accountId)) <= 1) {
      throw errors.unprocessable('The last administrator of an account cannot be deleted');
    }
    await enforce(ctx.limiter, `agents:delete:${auth.accountId}`, DELETE_LIMIT.limit, DELETE_LIMIT.windowS);
    await deleteMembership(trx, auth.accountId, userId);
  });
}

import type { AppContext } from '../context.js';
import { AppError, errors } from '../kernel/errors.js';
import { enforce } from '../kernel/ratelimit.js';
import { hashPassword, verifyPassword, MIN_PASSWORD_LENGTH } from '../kernel/passwords.js';
import { sha256Hex } from '../kernel/tokens.js';
import { findUserByEmail, findUserById, markAccountActive, normalizeEmail, updateUser, type UserRow } from '../users/repository.js';
import { findPendingInvitation, markInvitationUsed, retireInvitationsOf, type PendingInvitation } from '../users/invitations-repository.js';

const INVALID_LOGIN = 'Invalid login credentials. Please try again.';
const invalidLogin = () =>
  new AppError('unauthenticated', INVALID_LOGIN, { details: { success: false, errors: [INVALID_LOGIN] } });

/**
 * Dashboard sign-in. Rate-limited per IP and per email before any password work; an unknown email
 * and a wrong password give the same answer in about the same time.
 */
export async function signIn(ctx: AppContext, input: { email: string; password: string; ip: string }) {
  const limits = ctx.config.signInRateLimit;
  const email = normalizeEmail(input.email);
  await enforce(ctx.limiter, `sign_in:ip:${input.ip}`, limits.perIp, limits.perIpWindowS);
  await enforce(ctx.limiter, `sign_in:email:${sha256Hex(email)}`, limits.perEmail, limits.perEmailWindowS);
  const user = email ? await findUserByEmail(ctx.database.db, email) : undefined;
  const ok = await verifyPassword(user?.password_hash ?? null, input.password);
  if (!user || !ok) throw invalidLogin();
  const sessionToken = await ctx.auth.createSession(user.id);
  return { user, sessionToken };
}

export function checkNewPassword(password: string, confirmation?: string, attribute = 'password') {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw errors.invalid(`Password is too short (minimum is ${MIN_PASSWORD_LENGTH} characters)`, [attribute]);
  }
  if (confirmation !== undefined && confirmation !== password) {
    throw errors.invalid("Password confirmation doesn't match Password", ['password_confirmation']);
  }
}

export async function pendingInvitation(ctx: AppContext, token: string): Promise<PendingInvitation> {
  const invitation = await findPendingInvitation(ctx.database.db, token);
  if (!invitation) throw errors.notFound();
  return invitation;
}

/** Sets the invited user's password, uses up the link (and the user's other links), and opens a session. */
export async function acceptInvitation(
  ctx: AppContext,
  token: string,
  input: { password: string; password_confirmation?: string; name?: string },
): Promise<{ user: UserRow; sessionToken: string }> {
  const invitation = await pendingInvitation(ctx, token);
  checkNewPassword(input.password, input.password_confirmation);
  const passwordHash = await hashPassword(input.password);
  const user = await ctx.database.transaction(async (trx) => {
    if (!(await markInvitationUsed(trx, invitation.id))) throw errors.notFound();
    await updateUser(trx, invitation.user_id, {
      password_hash: passwordHash,
      confirmed: 1,
      ...(input.name?.trim() ? { name: input.name.trim() } : {}),
    });
    await retireInvitationsOf(trx, invitation.user_id);
    await markAccountActive(trx, invitation.account_id, invitation.user_id);
    return (await findUserById(trx, invitation.user_id))!;
  });
  const sessionToken = await ctx.auth.createSession(user.id);
  return { user, sessionToken };
}

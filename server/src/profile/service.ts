import type { AppContext } from '../context.js';
import { isUniqueViolation, toJson } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import { jsonObject } from '../kernel/http.js';
import { hashPassword, verifyPassword } from '../kernel/passwords.js';
import { sha256Hex } from '../kernel/tokens.js';
import { checkNewPassword } from '../auth/service.js';
import { retireInvitationsOf } from '../users/invitations-repository.js';
import { rotateRealtimeCredentials } from '../users/credentials.js';
import {
  deleteSessionsOf,
  findUserByEmail,
  findUserById,
  issueAccessToken,
  normalizeEmail,
  updateUser,
  type UserPatch,
  type UserRow,
} from '../users/repository.js';
import type { ProfileInput } from './schemas.js';

const emailTaken = () => errors.invalid('Email has already been taken', ['email']);
const blankToNull = (v: string | null | undefined) => (v === undefined ? undefined : v === null || v.trim() === '' ? null : v);

/**
 * Updates the signed-in user's profile. Everything is checked before anything is written; a password
 * change needs the current password, ends the user's other dashboard sessions and rotates the
 * pubsub_token (sockets subscribed with the old one are disconnected).
 */
export async function updateProfile(
  ctx: AppContext,
  user: UserRow,
  input: ProfileInput,
  currentSessionToken?: string,
): Promise<UserRow> {
  const patch: UserPatch = {};
  if (input.name !== undefined) {
    if (!input.name.trim()) throw errors.invalid("Name can't be blank", ['name']);
    patch.name = input.name.trim();
  }
  if (input.display_name !== undefined) patch.display_name = blankToNull(input.display_name);
  if (input.message_signature !== undefined) patch.message_signature = blankToNull(input.message_signature);
  if (input.ui_settings !== undefined) patch.ui_settings = toJson(jsonObject(input.ui_settings, 'ui_settings') ?? {});
  if (input.email !== undefined && normalizeEmail(input.email) !== user.email) {
    const other = await findUserByEmail(ctx.database.db, input.email);
    if (other && other.id !== user.id) throw emailTaken();
    patch.email = input.email;
  }
  const changingPassword = input.password !== undefined && input.password !== '';
  if (changingPassword) {
    if (!(await verifyPassword(user.password_hash, input.current_password ?? ''))) {
      throw errors.invalid('Current password is invalid', ['current_password']);
    }
    checkNewPassword(input.password!, input.password_confirmation);
    patch.password_hash = await hashPassword(input.password!);
  }

  try {
    return await ctx.database.transaction(async (trx) => {
      if (Object.keys(patch).length) await updateUser(trx, user.id, patch);
      if (changingPassword) {
        await deleteSessionsOf(trx, user.id, currentSessionToken ? sha256Hex(currentSessionToken) : undefined);
        await retireInvitationsOf(trx, user.id);
        await rotateRealtimeCredentials(ctx, trx, user.id);
      }
      return (await findUserById(trx, user.id))!;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw emailTaken();
    throw err;
  }
}

/**
 * Replaces the access token and the pubsub_token together: the old ones stop working with this
 * commit, and sockets subscribed with the old pubsub_token are disconnected. Returns the user as
 * stored now (with the new pubsub_token).
 */
export async function resetAccessToken(ctx: AppContext, user: UserRow): Promise<UserRow> {
  return ctx.database.transaction(async (trx) => {
    await issueAccessToken(trx, user.id);
    await rotateRealtimeCredentials(ctx, trx, user.id);
    return (await findUserById(trx, user.id))!;
  });
}

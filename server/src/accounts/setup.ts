import type { Database } from '../kernel/db.js';
import { AppError, errors } from '../kernel/errors.js';
import { hashPassword, verifyPassword, MIN_PASSWORD_LENGTH } from '../kernel/passwords.js';
import { accessTokenOf, anyUserExists, findUserByEmail, insertUser, type UserRow } from '../users/repository.js';
import { firstAccountOf, insertAccountWithAdministrator } from './repository.js';

export type SetupInput = { account: string; name: string; email: string; password: string };
export type SetupResult = { account_id: number; user_id: number; access_token: string; pubsub_token: string; created: boolean };

const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * Creates an account and its first administrator. Idempotent per email: a second run with the same
 * email and password returns the same user's data; a wrong password for an existing email is refused.
 */
export async function setupAccount(database: Database, input: SetupInput): Promise<SetupResult> {
  validateSetup(input);

  const existing = await findUserByEmail(database.db, input.email);
  if (existing) {
    if (!(await verifyPassword(existing.password_hash, input.password))) {
      throw new AppError('unauthorized', 'A user with this email exists and the password does not match');
    }
    let accountId = await firstAccountOf(database.db, existing.id);
    if (accountId === undefined) accountId = await database.transaction((trx) => insertAccountWithAdministrator(trx, input.account, existing.id));
    return {
      account_id: accountId,
      user_id: existing.id,
      access_token: await accessTokenOf(database.db, existing.id),
      pubsub_token: existing.pubsub_token,
      created: false,
    };
  }

  const passwordHash = await hashPassword(input.password);
  return database.transaction(async (trx) => {
    const user = await insertUser(trx, { name: input.name.trim(), email: input.email, password_hash: passwordHash });
    const accountId = await insertAccountWithAdministrator(trx, input.account, user.id);
    return {
      account_id: accountId,
      user_id: user.id,
      access_token: await accessTokenOf(trx, user.id),
      pubsub_token: user.pubsub_token,
      created: true,
    };
  });
}

function validateSetup(input: SetupInput) {
  const problems: string[] = [];
  if (!input.account?.trim()) problems.push('account');
  if (!input.name?.trim()) problems.push('name');
  if (!EMAIL_RE.test(input.email ?? '')) problems.push('email');
  if ((input.password ?? '').length < MIN_PASSWORD_LENGTH) problems.push('password');
  if (problems.length) {
    throw errors.invalid(
      `Invalid ${problems.join(', ')} (password needs at least ${MIN_PASSWORD_LENGTH} characters)`,
      problems,
    );
  }
}

/** Whether the server still needs its first account (no user exists yet). */
export async function setupRequired(database: Database): Promise<boolean> {
  return !(await anyUserExists(database.db, database.dialect));
}

export const alreadySetUp = () => new AppError('conflict', 'This server is already set up: sign in instead');

/**
 * First run from the dashboard: the same account and administrator as `channelx setup`, but only
 * while no user exists. The check and the inserts share one transaction that holds the users table
 * (see anyUserExists), so of two racing requests exactly one creates an administrator; the other,
 * and every later call, is a 409.
 */
export async function setupFirstAccount(database: Database, input: SetupInput): Promise<UserRow> {
  validateSetup(input);
  if (!(await setupRequired(database))) throw alreadySetUp();
  const passwordHash = await hashPassword(input.password);
  return database.transaction(async (trx) => {
    if (await anyUserExists(trx, database.dialect, true)) throw alreadySetUp();
    const user = await insertUser(trx, { name: input.name.trim(), email: input.email, password_hash: passwordHash });
    await insertAccountWithAdministrator(trx, input.account, user.id);
    return user;
  });
}

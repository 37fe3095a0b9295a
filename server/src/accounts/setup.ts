import type { Database } from '../kernel/db.js';
import { now } from '../kernel/db.js';
import { AppError, errors } from '../kernel/errors.js';
import { hashPassword, verifyPassword, MIN_PASSWORD_LENGTH } from '../kernel/passwords.js';
import { accessTokenOf, findUserByEmail, insertUser } from '../users/repository.js';

export type SetupInput = { account: string; name: string; email: string; password: string };
export type SetupResult = { account_id: number; user_id: number; access_token: string; pubsub_token: string; created: boolean };

const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * Creates an account and its first administrator. Idempotent per email: a second run with the same
 * email and password returns the same user's data; a wrong password for an existing email is refused.
 */
export async function setupAccount(database: Database, input: SetupInput): Promise<SetupResult> {
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

  const existing = await findUserByEmail(database.db, input.email);
  if (existing) {
    if (!(await verifyPassword(existing.password_hash, input.password))) {
      throw new AppError('unauthorized', 'A user with this email exists and the password does not match');
    }
    const membership = await database.db
      .selectFrom('account_users')
      .select('account_id')
      .where('user_id', '=', existing.id)
      .orderBy('role', 'desc')
      .orderBy('id')
      .executeTakeFirst();
    let accountId = membership?.account_id;
    if (accountId === undefined) accountId = await database.transaction((trx) => createAccount(trx, input.account, existing.id));
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
    const accountId = await createAccount(trx, input.account, user.id);
    return {
      account_id: accountId,
      user_id: user.id,
      access_token: await accessTokenOf(trx, user.id),
      pubsub_token: user.pubsub_token,
      created: true,
    };
  });
}

async function createAccount(trx: Parameters<Parameters<Database['transaction']>[0]>[0], name: string, adminId: number) {
  const t = now();
  const account = await trx
    .insertInto('accounts')
    .values({
      name: name.trim(),
      locale: 'en',
      domain: null,
      support_email: null,
      status: 0,
      settings: '{}',
      custom_attributes: '{}',
      last_display_id: 0,
      created_at: t,
      updated_at: t,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('account_users')
    .values({ account_id: account.id, user_id: adminId, role: 1, inviter_id: null, availability: 0, auto_offline: 1, active_at: t, created_at: t })
    .execute();
  return account.id;
}

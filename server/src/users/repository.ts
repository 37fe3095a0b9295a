import { sql } from 'kysely';
import type { Executor } from '../kernel/db.js';
import { now } from '../kernel/db.js';
import { secureToken, sha256Hex, safeEqual } from '../kernel/tokens.js';
import { bumpAuthGeneration } from '../kernel/auth-cache.js';

export type UserRow = {
  id: number;
  name: string;
  display_name: string | null;
  email: string;
  password_hash: string | null;
  pubsub_token: string;
  message_signature: string | null;
  ui_settings: string;
  confirmed: number;
  /** Bumped with every pubsub_token rotation; socket subscriptions remember the version they used. */
  credentials_version: number;
  created_at: number;
  updated_at: number;
};

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export async function findUserByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst();
}

export async function findUserById(db: Executor, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertUser(
  db: Executor,
  values: { name: string; email: string; password_hash: string | null; display_name?: string | null },
): Promise<UserRow> {
  const t = now();
  const row = await db
    .insertInto('users')
    .values({
      name: values.name,
      display_name: values.display_name ?? null,
      email: normalizeEmail(values.email),
      password_hash: values.password_hash,
      pubsub_token: secureToken(),
      message_signature: null,
      ui_settings: '{}',
      confirmed: 1,
      created_at: t,
      updated_at: t,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await issueAccessToken(db, row.id);
  return row;
}

/** Creates or replaces the user's access token; the old one stops working in the same write. */
export async function issueAccessToken(db: Executor, userId: number): Promise<string> {
  const token = secureToken(18);
  const digest = sha256Hex(token);
  bumpAuthGeneration();
  await db.deleteFrom('access_tokens').where('owner_type', '=', 'User').where('owner_id', '=', userId).execute();
  await db
    .insertInto('access_tokens')
    .values({ owner_type: 'User', owner_id: userId, token, token_digest: digest, created_at: now() })
    .execute();
  return token;
}

/**
 * Replaces the user's pubsub_token (the old one stops authorizing /cable subscriptions with this
 * write) and bumps credentials_version; returns the new version.
 */
export async function rotatePubsubToken(db: Executor, userId: number): Promise<number> {
  bumpAuthGeneration();
  const row = await db
    .updateTable('users')
    .set((eb) => ({ pubsub_token: secureToken(), credentials_version: eb('credentials_version', '+', 1), updated_at: now() }))
    .where('id', '=', userId)
    .returning('credentials_version')
    .executeTakeFirstOrThrow();
  return Number(row.credentials_version);
}

export async function accessTokenOf(db: Executor, userId: number): Promise<string> {
  const row = await db
    .selectFrom('access_tokens')
    .select('token')
    .where('owner_type', '=', 'User')
    .where('owner_id', '=', userId)
    .executeTakeFirst();
  return row?.token ?? (await issueAccessToken(db, userId));
}

/** Resolves a presented token to its user: looked up by digest, then compared in constant time. */
export async function userByAccessToken(db: Executor, presented: string): Promise<UserRow | undefined> {
  if (!presented || presented.length > 200) return undefined;
  const tok = await db
    .selectFrom('access_tokens')
    .select(['token', 'owner_id'])
    .where('token_digest', '=', sha256Hex(presented))
    .where('owner_type', '=', 'User')
    .executeTakeFirst();
  if (!tok || !safeEqual(tok.token, presented)) return undefined;
  return findUserById(db, tok.owner_id);
}

/**
 * The Application API's principal in one query: the token's user and, when a member, their role in
 * the account and the account's status (`role` null: not a member).
 */
export async function principalByAccessToken(
  db: Executor,
  presented: string,
  accountId: number,
): Promise<{ user: UserRow; token: string; role: number | null; account_status: number | null } | undefined> {
  if (!presented || presented.length > 200) return undefined;
  const row = await db
    .selectFrom('access_tokens')
    .innerJoin('users', 'users.id', 'access_tokens.owner_id')
    .leftJoin('account_users', (j) => j.onRef('account_users.user_id', '=', 'users.id').on('account_users.account_id', '=', accountId))
    .leftJoin('accounts', 'accounts.id', 'account_users.account_id')
    .selectAll('users')
    .select(['access_tokens.token', 'account_users.role', 'accounts.status as account_status'])
    .where('access_tokens.token_digest', '=', sha256Hex(presented))
    .where('access_tokens.owner_type', '=', 'User')
    .executeTakeFirst();
  if (!row || !safeEqual(row.token, presented)) return undefined;
  const { token, role, account_status, ...user } = row;
  return { user: user as UserRow, token, role: role ?? null, account_status: account_status ?? null };
}

/* ---- added for the profile, agents and invitations (issue 2) ---- */

/** One account membership of a user, with the account fields the user JSON shows. */
export type MembershipRow = {
  account_id: number;
  account_name: string;
  account_status: number;
  role: number;
  inviter_id: number | null;
  availability: number;
  auto_offline: number;
  active_at: number | null;
};

/** The user's memberships, the most recently active account first (that one is the user's current account). */
export async function listMemberships(db: Executor, userId: number): Promise<MembershipRow[]> {
  const rows = await db
    .selectFrom('account_users')
    .innerJoin('accounts', 'accounts.id', 'account_users.account_id')
    .select([
      'account_users.account_id',
      'accounts.name as account_name',
      'accounts.status as account_status',
      'account_users.role',
      'account_users.inviter_id',
      'account_users.availability',
      'account_users.auto_offline',
      'account_users.active_at',
    ])
    .where('account_users.user_id', '=', userId)
    .orderBy('account_users.account_id')
    .execute();
  return rows.sort((a, b) => Number(b.active_at ?? 0) - Number(a.active_at ?? 0) || a.account_id - b.account_id);
}

export type UserPatch = Partial<
  Pick<UserRow, 'name' | 'display_name' | 'email' | 'password_hash' | 'message_signature' | 'ui_settings' | 'confirmed'>
>;

export async function updateUser(db: Executor, userId: number, patch: UserPatch): Promise<void> {
  const values = { ...patch, ...(patch.email !== undefined ? { email: normalizeEmail(patch.email) } : {}), updated_at: now() };
  bumpAuthGeneration();
  await db.updateTable('users').set(values).where('id', '=', userId).execute();
}

/** Ends the user's dashboard sessions, except the one with the given digest (the caller's own). */
export async function deleteSessionsOf(db: Executor, userId: number, exceptDigest?: string): Promise<void> {
  let q = db.deleteFrom('user_sessions').where('user_id', '=', userId);
  if (exceptDigest) q = q.where('token_digest', '!=', exceptDigest);
  await q.execute();
}

/** Makes the account the user's current one (the user JSON's account_id follows active_at). */
export async function markAccountActive(db: Executor, accountId: number, userId: number): Promise<void> {
  await db
    .updateTable('account_users')
    .set({ active_at: now() })
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .execute();
}

/** The user's membership of the account with the account's status, or undefined when not a member. */
export async function membershipOf(db: Executor, accountId: number, userId: number): Promise<{ role: number; account_status: number } | undefined> {
  return db
    .selectFrom('account_users')
    .innerJoin('accounts', 'accounts.id', 'account_users.account_id')
    .select(['account_users.role', 'accounts.status as account_status'])
    .where('account_users.account_id', '=', accountId)
    .where('account_users.user_id', '=', userId)
    .executeTakeFirst();
}

/** Dashboard sessions are stored by the SHA-256 digest of their token only. */
export async function insertSession(db: Executor, userId: number, digest: string, expiresAt: number): Promise<void> {
  await db.insertInto('user_sessions').values({ user_id: userId, token_digest: digest, expires_at: expiresAt, created_at: now() }).execute();
}

export async function deleteSession(db: Executor, digest: string): Promise<void> {
  await db.deleteFrom('user_sessions').where('token_digest', '=', digest).execute();
}

export async function findSession(db: Executor, digest: string): Promise<{ user_id: number; token_digest: string; expires_at: number } | undefined> {
  const row = await db.selectFrom('user_sessions').select(['user_id', 'token_digest', 'expires_at']).where('token_digest', '=', digest).executeTakeFirst();
  return row && { ...row, expires_at: Number(row.expires_at) };
}

/** Names and emails of users by id (senders of old messages who left the account). */
export async function findUserNames(db: Executor, ids: number[]): Promise<{ id: number; name: string; display_name: string | null; email: string }[]> {
  if (!ids.length) return [];
  return db.selectFrom('users').select(['id', 'name', 'display_name', 'email']).where('id', 'in', [...new Set(ids)]).execute();
}

/**
 * First-run setup: whether any user exists. With `lock` (inside a transaction), PostgreSQL's users
 * table is locked against inserts until the transaction ends, so two racing first-run requests
 * cannot both see it empty; SQLite runs one write transaction at a time on its single connection.
 */
export async function anyUserExists(db: Executor, dialect: 'sqlite' | 'postgres', lock = false): Promise<boolean> {
  if (lock && dialect === 'postgres') await sql`lock table users in share row exclusive mode`.execute(db);
  return (await db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
}

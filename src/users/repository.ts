import type { Executor } from '../kernel/db.js';
import { now } from '../kernel/db.js';
import { secureToken, sha256Hex, safeEqual } from '../kernel/tokens.js';

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
  await db.deleteFrom('access_tokens').where('owner_type', '=', 'User').where('owner_id', '=', userId).execute();
  await db
    .insertInto('access_tokens')
    .values({ owner_type: 'User', owner_id: userId, token, token_digest: digest, created_at: now() })
    .execute();
  return token;
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

import type { Executor } from '../kernel/db.js';
import { now } from '../kernel/db.js';
import { ACCOUNT_STATUS, AVAILABILITY, FLAG, ROLE } from '../kernel/constants.js';

export type AccountRow = {
  id: number;
  name: string;
  locale: string;
  domain: string | null;
  support_email: string | null;
  status: number;
  settings: string;
  custom_attributes: string;
  created_at: number;
  updated_at: number;
};

const COLUMNS = ['id', 'name', 'locale', 'domain', 'support_email', 'status', 'settings', 'custom_attributes', 'created_at', 'updated_at'] as const;

export async function findAccount(db: Executor, accountId: number): Promise<AccountRow | undefined> {
  return db.selectFrom('accounts').select(COLUMNS).where('id', '=', accountId).executeTakeFirst();
}

export type AccountPatch = Partial<Pick<AccountRow, 'name' | 'locale' | 'domain' | 'support_email' | 'settings'>>;

export async function updateAccount(db: Executor, accountId: number, patch: AccountPatch): Promise<void> {
  await db
    .updateTable('accounts')
    .set({ ...patch, updated_at: now() })
    .where('id', '=', accountId)
    .execute();
}

/** The account a user administers first (else the first they belong to), for `channelx setup`. */
export async function firstAccountOf(db: Executor, userId: number): Promise<number | undefined> {
  const row = await db
    .selectFrom('account_users')
    .select('account_id')
    .where('user_id', '=', userId)
    .orderBy('role', 'desc')
    .orderBy('id')
    .executeTakeFirst();
  return row?.account_id;
}

/** Creates an active account with this user as its administrator (and current account). */
export async function insertAccountWithAdministrator(db: Executor, name: string, adminId: number): Promise<number> {
  const t = now();
  const account = await db
    .insertInto('accounts')
    .values({
      name: name.trim(),
      locale: 'en',
      domain: null,
      support_email: null,
      status: ACCOUNT_STATUS.active,
      settings: '{}',
      custom_attributes: '{}',
      last_display_id: 0,
      created_at: t,
      updated_at: t,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('account_users')
    .values({
      account_id: account.id,
      user_id: adminId,
      role: ROLE.administrator,
      inviter_id: null,
      availability: AVAILABILITY.online,
      auto_offline: FLAG.on,
      active_at: t,
      created_at: t,
    })
    .execute();
  return account.id;
}

import type { Executor } from '../kernel/db.js';
import { now } from '../kernel/db.js';

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

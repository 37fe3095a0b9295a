import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import { fromJson, toJson } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import { jsonObject } from '../kernel/http.js';
import { findAccount, updateAccount, type AccountPatch, type AccountRow } from './repository.js';

export type AccountInput = {
  name?: string;
  locale?: string;
  domain?: string | null;
  support_email?: string | null;
  settings?: unknown;
};

const SETTINGS_MAX_CHARS = 20_000;
const blankToNull = (v: string | null | undefined) => (v === undefined ? undefined : v === null || v.trim() === '' ? null : v.trim());

export async function getAccount(ctx: AppContext, auth: AccountContext): Promise<AccountRow> {
  const account = await findAccount(ctx.database.db, auth.accountId);
  if (!account) throw errors.notFound();
  return account;
}

/** Administrators edit name, locale, domain, support_email; `settings` is merged into the stored settings. */
export async function editAccount(ctx: AppContext, auth: AccountContext, input: AccountInput): Promise<AccountRow> {
  const settings = input.settings === undefined ? undefined : jsonObject(input.settings, 'settings');
  return ctx.database.transaction(async (trx) => {
    const account = await findAccount(trx, auth.accountId);
    if (!account) throw errors.notFound();
    const patch: AccountPatch = {};
    if (input.name !== undefined) {
      if (!input.name.trim()) throw errors.invalid("Name can't be blank", ['name']);
      patch.name = input.name.trim();
    }
    if (input.locale !== undefined) patch.locale = input.locale;
    if (input.domain !== undefined) patch.domain = blankToNull(input.domain);
    if (input.support_email !== undefined) patch.support_email = blankToNull(input.support_email)?.toLowerCase() ?? null;
    if (settings) {
      const merged = toJson({ ...fromJson<Record<string, unknown>>(account.settings), ...settings });
      if (merged.length > SETTINGS_MAX_CHARS) throw errors.invalid('Settings is too long', ['settings']);
      patch.settings = merged;
    }
    if (Object.keys(patch).length) await updateAccount(trx, auth.accountId, patch);
    return (await findAccount(trx, auth.accountId))!;
  });
}

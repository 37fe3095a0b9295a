import { fromJson } from '../kernel/db.js';
import type { AccountRow } from './repository.js';
import { ACCOUNT_STATUS } from '../kernel/constants.js';

const iso = (ms: number) => new Date(Number(ms)).toISOString();

/** Account JSON for `GET/PATCH /api/v1/accounts/:account_id`. */
export function presentAccount(a: AccountRow) {
  const settings = fromJson(a.settings);
  return {
    id: a.id,
    name: a.name,
    locale: a.locale,
    domain: a.domain,
    support_email: a.support_email,
    status: a.status === ACCOUNT_STATUS.suspended ? 'suspended' : 'active',
    settings,
    custom_attributes: fromJson(a.custom_attributes),
    features: {},
    auto_resolve_duration: null,
    created_at: iso(a.created_at),
    updated_at: iso(a.updated_at),
  };
}

/** `account.webhook_data`: the account inside webhook payloads. */
export const accountWebhookData = (a: Pick<AccountRow, 'id' | 'name'>) => ({ id: a.id, name: a.name });

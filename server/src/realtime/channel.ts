import type { Executor } from '../kernel/db.js';
import { safeEqual } from '../kernel/tokens.js';
import { ROLE } from '../kernel/constants.js';
import { agentGrantRow, contactGrantRow } from './repository.js';

/**
 * RoomChannel authorization: who a subscription identifier speaks for, and so which streams it
 * gets. Agents: `{pubsub_token, account_id, user_id}`, the token must be that user's (constant-time
 * compare) and the user a member of the (active) account. Contacts: `{pubsub_token}` of a
 * contact_inbox (a `user_id` makes it an agent subscription, as in the reference).
 */
export const ROOM_CHANNEL = 'RoomChannel';

export type Grant =
  /**
   * Agent stream: events of the account's inboxes the user may see (computed per event by the
   * listener). `version` is the user's credentials_version the token matched: a later rotation
   * (user.credentials_rotated) disconnects the socket (absent counts as 0).
   */
  | { kind: 'user'; accountId: number; key: number; admin: boolean; version?: number }
  /** Contact stream: `key` is the contact_inbox id (its pubsub_token's session), `contactId` its contact. */
  | { kind: 'contact'; accountId: number; key: number; contactId: number };

const MAX_TOKEN = 128;

function toId(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : null;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v.trim())) {
    const n = Number(v.trim());
    return n > 0 ? n : null;
  }
  return null;
}

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

export async function authorizeRoom(db: Executor, params: Record<string, unknown>): Promise<Grant | null> {
  if (params.channel !== ROOM_CHANNEL) return null;
  const token = params.pubsub_token;
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN) return null;
  return present(params.user_id) ? authorizeAgent(db, token, params.user_id, params.account_id) : authorizeContact(db, token);
}

async function authorizeAgent(db: Executor, token: string, rawUserId: unknown, rawAccountId: unknown): Promise<Grant | null> {
  const userId = toId(rawUserId);
  const accountId = toId(rawAccountId);
  if (!userId || !accountId) return null;
  const row = await agentGrantRow(db, userId, accountId);
  const ok = safeEqual(token, row?.pubsub_token ?? token) && !!row;
  return ok ? { kind: 'user', accountId, key: userId, admin: row!.role === ROLE.administrator, version: Number(row!.credentials_version) } : null;
}

async function authorizeContact(db: Executor, token: string): Promise<Grant | null> {
  const row = await contactGrantRow(db, token);
  return row ? { kind: 'contact', accountId: row.account_id, key: row.id, contactId: row.contact_id } : null;
}

import { bumpAuthGeneration } from '../kernel/auth-cache.js';
import { sql } from 'kysely';
import type { Database, Executor } from '../kernel/db.js';
import { now } from '../kernel/db.js';
import type { AgentRow } from '../users/presenter.js';
import { ROLE } from '../kernel/constants.js';

/** account_users (membership and role) queries, always scoped by account. */

function selectAgents(db: Executor, accountId: number) {
  return db
    .selectFrom('account_users')
    .innerJoin('users', 'users.id', 'account_users.user_id')
    .select([
      'users.id',
      'users.name',
      'users.display_name',
      'users.email',
      'users.confirmed',
      'account_users.account_id',
      'account_users.role',
      'account_users.availability',
      'account_users.auto_offline',
    ])
    .where('account_users.account_id', '=', accountId);
}

/** The account's agents by name; optionally only the given users or the members of one inbox. */
export async function listAgents(
  db: Executor,
  accountId: number,
  filter: { userIds?: number[]; inboxId?: number } = {},
): Promise<AgentRow[]> {
  let q = selectAgents(db, accountId);
  if (filter.userIds) {
    if (!filter.userIds.length) return [];
    q = q.where('users.id', 'in', filter.userIds);
  }
  if (filter.inboxId !== undefined) {
    const inboxId = filter.inboxId;
    q = q.where('users.id', 'in', (eb) => eb.selectFrom('inbox_members').select('user_id').where('inbox_id', '=', inboxId));
  }
  return q.orderBy(sql`lower(users.name)`).orderBy('users.id').execute();
}

export async function findAgent(db: Executor, accountId: number, userId: number): Promise<AgentRow | undefined> {
  return selectAgents(db, accountId).where('users.id', '=', userId).executeTakeFirst();
}

/** Users of the account by id, with their membership (removed agents are absent). */
export async function accountAgents(db: Executor, accountId: number, ids: number[]): Promise<Map<number, AgentRow>> {
  const unique = [...new Set(ids.filter((x): x is number => x != null))];
  if (!unique.length) return new Map();
  const rows = await selectAgents(db, accountId).where('users.id', 'in', unique).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** Which of the given users are members of the account. */
export async function memberIdsAmong(db: Executor, accountId: number, userIds: number[]): Promise<Set<number>> {
  if (!userIds.length) return new Set();
  const rows = await db
    .selectFrom('account_users')
    .select('user_id')
    .where('account_id', '=', accountId)
    .where('user_id', 'in', userIds)
    .execute();
  return new Set(rows.map((r) => r.user_id));
}

export async function countMemberships(db: Executor, userId: number): Promise<number> {
  const row = await db
    .selectFrom('account_users')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function countAdministrators(db: Executor, accountId: number): Promise<number> {
  const row = await db
    .selectFrom('account_users')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('account_id', '=', accountId)
    .where('role', '=', ROLE.administrator)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Serialises role changes within one account (PostgreSQL row lock; SQLite already runs one write
 * transaction at a time), so two administrators cannot demote each other to zero at once.
 */
export async function lockAccount(db: Executor, dialect: Database['dialect'], accountId: number): Promise<void> {
  if (dialect === 'postgres') await db.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().execute();
}

export type NewMembership = { role: number; inviterId: number | null; availability: number; autoOffline: boolean };

/** Adds the membership; with `ifAbsent`, an existing one for the pair is kept as it is. */
export async function insertMembership(db: Executor, accountId: number, userId: number, m: NewMembership, ifAbsent = false): Promise<void> {
  let q = db
    .insertInto('account_users')
    .values({
      account_id: accountId,
      user_id: userId,
      role: m.role,
      inviter_id: m.inviterId,
      availability: m.availability,
      auto_offline: m.autoOffline ? 1 : 0,
      active_at: null,
      created_at: now(),
    });
  if (ifAbsent) q = q.onConflict((oc) => oc.columns(['account_id', 'user_id']).doNothing());
  await q.execute();
}

export type MembershipPatch = { role?: number; availability?: number; auto_offline?: number };

export async function updateMembership(db: Executor, accountId: number, userId: number, patch: MembershipPatch): Promise<void> {
  if (!Object.keys(patch).length) return;
  bumpAuthGeneration();
  await db.updateTable('account_users').set(patch).where('account_id', '=', accountId).where('user_id', '=', userId).execute();
}

/**
 * Removes the user from the account: the membership, their inbox memberships in the account, their
 * pending invitations to it, and their assignments on the account's conversations.
 */
export async function deleteMembership(db: Executor, accountId: number, userId: number): Promise<void> {
  bumpAuthGeneration();
  const accountInboxes = db.selectFrom('inboxes').select('id').where('account_id', '=', accountId);
  await db.deleteFrom('inbox_members').where('user_id', '=', userId).where('inbox_id', 'in', accountInboxes).execute();
  await db
    .updateTable('conversations')
    .set({ assignee_id: null })
    .where('account_id', '=', accountId)
    .where('assignee_id', '=', userId)
    .execute();
  await db.deleteFrom('invitations').where('account_id', '=', accountId).where('user_id', '=', userId).execute();
  await db.deleteFrom('account_users').where('account_id', '=', accountId).where('user_id', '=', userId).execute();
}

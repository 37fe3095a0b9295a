import type { Selectable } from 'kysely';
import type { Executor } from '../kernel/db.js';
import { now } from '../kernel/db.js';
import { CONVERSATION_STATUS } from '../kernel/constants.js';
import type { TeamsTable } from '../kernel/schema.js';

/** Every query on teams and team members; each one is scoped by account. */

export type TeamRow = Selectable<TeamsTable>;
export type TeamFields = Pick<TeamRow, 'name' | 'description' | 'allow_auto_assign'>;

export async function listTeams(db: Executor, accountId: number): Promise<TeamRow[]> {
  return db.selectFrom('teams').selectAll().where('account_id', '=', accountId).orderBy('name').orderBy('id').execute();
}

export async function findTeam(db: Executor, accountId: number, id: number): Promise<TeamRow | undefined> {
  return db.selectFrom('teams').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

/** The account's teams by id (for a page of conversations). */
export async function teamsByIds(db: Executor, accountId: number, ids: (number | null)[]): Promise<Map<number, TeamRow>> {
  const unique = [...new Set(ids.filter((x): x is number => x != null))];
  if (!unique.length) return new Map();
  const rows = await db.selectFrom('teams').selectAll().where('account_id', '=', accountId).where('id', 'in', unique).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

export async function teamNameTaken(db: Executor, accountId: number, name: string, exceptId?: number): Promise<boolean> {
  let q = db.selectFrom('teams').select('id').where('account_id', '=', accountId).where('name', '=', name);
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  return !!(await q.executeTakeFirst());
}

export async function insertTeam(db: Executor, accountId: number, values: TeamFields): Promise<TeamRow> {
  const t = now();
  return db
    .insertInto('teams')
    .values({ ...values, account_id: accountId, created_at: t, updated_at: t })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateTeamRow(db: Executor, accountId: number, id: number, patch: Partial<TeamFields>): Promise<TeamRow | undefined> {
  return db
    .updateTable('teams')
    .set({ ...patch, updated_at: now() })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/** Deletes the team; its conversations go back to no team and its memberships go with it. */
export async function deleteTeamRow(db: Executor, accountId: number, id: number): Promise<boolean> {
  await db.updateTable('conversations').set({ team_id: null, updated_at: now() }).where('account_id', '=', accountId).where('team_id', '=', id).execute();
  const res = await db.deleteFrom('teams').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** The user ids of the team's members, in the order they joined. */
export async function teamMemberIds(db: Executor, accountId: number, teamId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('team_members')
    .select('user_id')
    .where('account_id', '=', accountId)
    .where('team_id', '=', teamId)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.user_id);
}

/** Which of these teams the user is a member of. */
export async function teamIdsOfUser(db: Executor, accountId: number, userId: number): Promise<Set<number>> {
  const rows = await db.selectFrom('team_members').select('team_id').where('account_id', '=', accountId).where('user_id', '=', userId).execute();
  return new Set(rows.map((r) => r.team_id));
}

export async function isTeamMember(db: Executor, accountId: number, teamId: number, userId: number): Promise<boolean> {
  const row = await db
    .selectFrom('team_members')
    .select('id')
    .where('account_id', '=', accountId)
    .where('team_id', '=', teamId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return !!row;
}

export async function addTeamMembers(db: Executor, accountId: number, teamId: number, userIds: number[]): Promise<void> {
  if (!userIds.length) return;
  const t = now();
  await db
    .insertInto('team_members')
    .values(userIds.map((user_id) => ({ team_id: teamId, user_id, account_id: accountId, created_at: t })))
    .onConflict((oc) => oc.columns(['team_id', 'user_id']).doNothing())
    .execute();
}

export async function removeTeamMembers(db: Executor, accountId: number, teamId: number, userIds: number[]): Promise<void> {
  if (!userIds.length) return;
  await db.deleteFrom('team_members').where('account_id', '=', accountId).where('team_id', '=', teamId).where('user_id', 'in', userIds).execute();
}

/** Replaces the member set: the users not listed leave, the new ones join (those who stay keep their row). */
export async function setTeamMembers(db: Executor, accountId: number, teamId: number, userIds: number[]): Promise<void> {
  let q = db.deleteFrom('team_members').where('account_id', '=', accountId).where('team_id', '=', teamId);
  if (userIds.length) q = q.where('user_id', 'not in', userIds);
  await q.execute();
  await addTeamMembers(db, accountId, teamId, userIds);
}

/** Team names by id, for activity lines (teams that are gone are absent). */
export async function teamNames(db: Executor, accountId: number, ids: number[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids)];
  if (!unique.length) return new Map();
  const rows = await db.selectFrom('teams').select(['id', 'name']).where('account_id', '=', accountId).where('id', 'in', unique).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

export type AutoAssignCandidate = { user_id: number; availability: number; auto_offline: number; open_count: number };

/**
 * Who a team's auto-assignment may pick in an inbox: the team's members who are members of the
 * inbox too, with their chosen availability and how many open conversations of the account they hold.
 */
export async function teamAssignCandidates(db: Executor, accountId: number, teamId: number, inboxId: number): Promise<AutoAssignCandidate[]> {
  const rows = await db
    .selectFrom('team_members')
    .innerJoin('inbox_members', (j) => j.onRef('inbox_members.user_id', '=', 'team_members.user_id').on('inbox_members.inbox_id', '=', inboxId))
    .innerJoin('account_users', (j) => j.onRef('account_users.user_id', '=', 'team_members.user_id').on('account_users.account_id', '=', accountId))
    .select((eb) => [
      'team_members.user_id',
      'account_users.availability',
      'account_users.auto_offline',
      eb
        .selectFrom('conversations')
        .select((c) => c.fn.countAll().as('n'))
        .where('conversations.account_id', '=', accountId)
        .whereRef('conversations.assignee_id', '=', 'team_members.user_id')
        .where('conversations.status', '=', CONVERSATION_STATUS.open)
        .as('open_count'),
    ])
    .where('team_members.account_id', '=', accountId)
    .where('team_members.team_id', '=', teamId)
    .orderBy('team_members.user_id')
    .execute();
  return rows.map((r) => ({ user_id: r.user_id, availability: r.availability, auto_offline: r.auto_offline, open_count: Number(r.open_count ?? 0) }));
}

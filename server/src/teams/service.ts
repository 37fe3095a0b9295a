import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import type { Executor } from '../kernel/db.js';
import { bit, isUniqueViolation } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import type { AgentRow } from '../users/presenter.js';
import { listAgents, memberIdsAmong } from '../agents/repository.js';
import * as repo from './repository.js';
import type { TeamBody } from './schemas.js';

/**
 * Teams and their members. Every member of the account reads them; the routes let only
 * administrators change them. A team name is stored lowercased (as the reference), so it is unique
 * per account whatever its case.
 */

type TeamInput = { name?: string; description?: string | null; allow_auto_assign?: boolean };

/** `{team: {…}}` or the same fields unwrapped; the wrapped form wins. */
const inputOf = (body: TeamBody): TeamInput => body.team ?? body;

function fields(input: TeamInput, creating: boolean): Partial<repo.TeamFields> {
  const out: Partial<repo.TeamFields> = {};
  if (input.name !== undefined || creating) {
    const name = (input.name ?? '').trim().toLowerCase();
    if (!name) throw errors.invalid("Name can't be blank", ['name']);
    out.name = name;
  }
  if (input.description !== undefined) out.description = input.description === '' ? null : input.description;
  else if (creating) out.description = null;
  if (input.allow_auto_assign !== undefined) out.allow_auto_assign = bit(input.allow_auto_assign);
  else if (creating) out.allow_auto_assign = bit(true);
  return out;
}

const nameTaken = () => errors.invalid('Name has already been taken', ['name']);

async function uniqueName<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw isUniqueViolation(err) ? nameTaken() : err;
  }
}

export async function listTeams(ctx: AppContext, auth: AccountContext) {
  const db = ctx.database.db;
  return { teams: await repo.listTeams(db, auth.accountId), memberOf: await repo.teamIdsOfUser(db, auth.accountId, auth.user.id) };
}

/** The team and whether the caller is one of its members; 404 outside the account. */
export async function getTeam(ctx: AppContext, auth: AccountContext, teamId: number) {
  const db = ctx.database.db;
  const team = await repo.findTeam(db, auth.accountId, teamId);
  if (!team) throw errors.notFound();
  return { team, isMember: await repo.isTeamMember(db, auth.accountId, team.id, auth.user.id) };
}

export async function createTeam(ctx: AppContext, auth: AccountContext, body: TeamBody) {
  const values = fields(inputOf(body), true) as repo.TeamFields;
  return uniqueName(
    ctx.database.transaction(async (trx) => {
      if (await repo.teamNameTaken(trx, auth.accountId, values.name)) throw nameTaken();
      return { team: await repo.insertTeam(trx, auth.accountId, values), isMember: false };
    }),
  );
}

export async function updateTeam(ctx: AppContext, auth: AccountContext, teamId: number, body: TeamBody) {
  const patch = fields(inputOf(body), false);
  return uniqueName(
    ctx.database.transaction(async (trx) => {
      if (!(await repo.findTeam(trx, auth.accountId, teamId))) throw errors.notFound();
      if (patch.name !== undefined && (await repo.teamNameTaken(trx, auth.accountId, patch.name, teamId))) throw nameTaken();
      const team = await repo.updateTeamRow(trx, auth.accountId, teamId, patch);
      if (!team) throw errors.notFound();
      return { team, isMember: await repo.isTeamMember(trx, auth.accountId, team.id, auth.user.id) };
    }),
  );
}

/**
 * Deletes the team with its memberships; its conversations go back to no team in the same
 * transaction. As in the reference (a plain nullify), no conversation event is recorded for that.
 */
export async function deleteTeam(ctx: AppContext, auth: AccountContext, teamId: number): Promise<void> {
  await ctx.database.transaction(async (trx) => {
    if (!(await repo.deleteTeamRow(trx, auth.accountId, teamId))) throw errors.notFound();
  });
}

async function membersOf(db: Executor, accountId: number, teamId: number): Promise<AgentRow[]> {
  return listAgents(db, accountId, { userIds: await repo.teamMemberIds(db, accountId, teamId) });
}

/** The team's member agents (by name). */
export async function teamMembers(ctx: AppContext, auth: AccountContext, teamId: number): Promise<AgentRow[]> {
  const db = ctx.database.db;
  if (!(await repo.findTeam(db, auth.accountId, teamId))) throw errors.notFound();
  return membersOf(db, auth.accountId, teamId);
}

export type TeamMembershipChange = 'add' | 'replace' | 'remove';

/**
 * Adds, replaces or removes team members in one transaction. Every user id must be an agent of the
 * account, else nothing is written (422 naming them). Returns, as the reference does, the agents
 * named in the request (add: every one of them is now a member, new or not; replace: the new member
 * set); remove returns nothing.
 */
export async function changeTeamMembers(
  ctx: AppContext,
  auth: AccountContext,
  teamId: number,
  change: TeamMembershipChange,
  rawUserIds: number[],
): Promise<AgentRow[]> {
  const userIds = [...new Set(rawUserIds)];
  return ctx.database.transaction(async (trx) => {
    if (!(await repo.findTeam(trx, auth.accountId, teamId))) throw errors.notFound();
    const members = await memberIdsAmong(trx, auth.accountId, userIds);
    const strangers = userIds.filter((id) => !members.has(id));
    if (strangers.length) {
      throw errors.invalid(`User ids are not agents of this account: ${strangers.join(', ')}`, ['user_ids'], { invalid_user_ids: strangers });
    }
    if (change === 'add') await repo.addTeamMembers(trx, auth.accountId, teamId, userIds);
    else if (change === 'replace') await repo.setTeamMembers(trx, auth.accountId, teamId, userIds);
    else {
      await repo.removeTeamMembers(trx, auth.accountId, teamId, userIds);
      return [];
    }
    return listAgents(trx, auth.accountId, { userIds });
  });
}

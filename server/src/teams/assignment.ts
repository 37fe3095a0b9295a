import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import type { Executor } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import { changeConversation } from '../conversations/changes.js';
import type { ConversationPatch, ConversationRow } from '../conversations/repository.js';
import { availabilityStatus } from '../users/presenter.js';
import { findTeam, isTeamMember, teamAssignCandidates, type TeamRow } from './repository.js';

/**
 * A conversation's team: `POST …/conversations/:id/assignments {team_id}` and `team_id` on
 * conversation create. As in the reference, a conversation that moves to a team keeps its assignee
 * only when the assignee is a member of that team; removing the team leaves the assignee alone.
 * The change goes through changeConversation: `team.changed` (agents' sockets),
 * `conversation.updated` with `team_id` in `changed_attributes` (webhooks and sockets) and the
 * activity line ("Assigned to sales by Grace Hopper", "Unassigned from sales by Grace Hopper").
 * A team with `allow_auto_assign` then gives a conversation left without an assignee to one of its
 * members who is online (`autoAssignee`): "Assigned to Ada Lovelace via sales by Grace Hopper".
 */

/** `team_id`: null, "", 0 or "0" → no team; otherwise a team id (checked against the account by the caller). */
export function parseTeamId(value: unknown): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '' || value === 0 || value === '0') return null;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 2_147_483_647) throw errors.invalid('team_id must be a team id', ['team_id']);
  return n;
}

/** The team of the account with this id; 422 when there is none (a typo never silently unassigns). */
export async function teamOfAccount(db: Executor, accountId: number, teamId: number): Promise<TeamRow> {
  const team = await findTeam(db, accountId, teamId);
  if (!team) throw errors.invalid('team_id must be a team of this account', ['team_id']);
  return team;
}

/** The assignee a conversation keeps when it moves to `teamId`: the current one if they are a member of it, else none. */
export async function assigneeForTeam(db: Executor, accountId: number, teamId: number | null, assigneeId: number | null): Promise<number | null> {
  if (teamId == null || assigneeId == null) return assigneeId;
  return (await isTeamMember(db, accountId, teamId, assigneeId)) ? assigneeId : null;
}

/** The account's users present on /cable now (every node's view with Redis); read before a transaction opens. */
export async function presentUsers(ctx: AppContext, accountId: number): Promise<ReadonlySet<number>> {
  return new Set((await ctx.realtime?.presence.online(accountId, 'user')) ?? []);
}

/**
 * `allow_auto_assign` (the reference assigns from the team when a conversation joins it without one
 * of its members as assignee): a member of both the team and the conversation's inbox whose status
 * is online now (present on /cable, or auto_offline off, and availability online), the one holding
 * the fewest open conversations (ties: the lowest id). Nobody online: null, it stays unassigned.
 */
export async function autoAssignee(db: Executor, team: TeamRow, inboxId: number, present: ReadonlySet<number>): Promise<number | null> {
  if (!team.allow_auto_assign) return null;
  const online = (await teamAssignCandidates(db, team.account_id, team.id, inboxId)).filter(
    (c) => availabilityStatus(c.availability, c.auto_offline, present.has(c.user_id)) === 'online',
  );
  online.sort((a, b) => a.open_count - b.open_count || a.user_id - b.user_id);
  return online[0]?.user_id ?? null;
}

/** Sets (or with null/0 removes) the conversation's team. Returns the team and whether the caller is a member of it, or null. */
export async function assignTeam(
  ctx: AppContext,
  auth: AccountContext,
  conv: ConversationRow,
  rawTeamId: unknown,
): Promise<{ team: TeamRow; isMember: boolean } | null> {
  const teamId = parseTeamId(rawTeamId) ?? null;
  const present = teamId == null ? new Set<number>() : await presentUsers(ctx, auth.accountId);
  return ctx.database.transaction(async (trx) => {
    const team = teamId == null ? null : await teamOfAccount(trx, auth.accountId, teamId);
    const { result } = await changeConversation(
      ctx,
      trx,
      conv.id,
      async (current) => {
        const patch: ConversationPatch = {};
        if (current.team_id === teamId) return { patch, result: team };
        patch.team_id = teamId;
        let assignee = await assigneeForTeam(trx, auth.accountId, teamId, current.assignee_id);
        if (assignee == null && team) assignee = await autoAssignee(trx, team, current.inbox_id, present);
        if (assignee !== current.assignee_id) patch.assignee_id = assignee;
        return { patch, result: team };
      },
      { type: 'user', id: auth.user.id },
    );
    return result ? { team: result, isMember: await isTeamMember(trx, auth.accountId, result.id, auth.user.id) } : null;
  });
}

import type { TeamRow } from './repository.js';

/** Team JSON, one builder per audience: the Application API (`_team`), and push/webhook data (`{id, name}`). */

/** `_team`: `{id, name, description, allow_auto_assign, account_id, is_member}`. */
export function presentTeam(t: TeamRow, isMember: boolean) {
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    allow_auto_assign: !!t.allow_auto_assign,
    account_id: t.account_id,
    is_member: isMember,
  };
}

/** The teams list: a bare array, `is_member` for the caller. */
export const presentTeams = (teams: TeamRow[], memberOf: Set<number>) => teams.map((t) => presentTeam(t, memberOf.has(t.id)));

/** `team.push_event_data`: the team in conversation push and webhook data. */
export const teamPushData = (t: TeamRow) => ({ id: t.id, name: t.name });

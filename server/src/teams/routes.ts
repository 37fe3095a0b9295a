import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { principal } from '../accounts/guard.js';
import { EmptyOk, errorResponses } from '../accounts/schemas.js';
import { presentAgent } from '../users/presenter.js';
import { presenceOf } from '../users/service.js';
import { presentTeam, presentTeams } from './presenter.js';
import * as service from './service.js';
import { AccountParams, TeamBody, TeamJson, TeamList, TeamMemberList, TeamMembersBody, TeamParams } from './schemas.js';

const BASE = '/api/v1/accounts/:account_id/teams';
const ONE = `${BASE}/:team_id`;
const MEMBERS = `${ONE}/team_members`;
const tags = ['Teams'];

/** Teams and team members: every member of the account reads them, administrators change them. */
export async function register(app: TypedApp, ctx: AppContext) {
  app.get(
    BASE,
    { config: { access: 'member' }, schema: { tags, summary: "List the account's teams (a bare array, by name)", params: AccountParams, response: { 200: TeamList, ...errorResponses(401, 404) } } },
    async (req) => {
      const { teams, memberOf } = await service.listTeams(ctx, principal(req));
      return presentTeams(teams, memberOf);
    },
  );

  app.post(
    BASE,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        summary: 'Create a team (administrators); the name is stored lowercased and unique per account',
        params: AccountParams,
        body: TeamBody,
        response: { 200: TeamJson, ...errorResponses(401, 404, 422) },
      },
    },
    async (req) => {
      const { team, isMember } = await service.createTeam(ctx, principal(req), req.body);
      return presentTeam(team, isMember);
    },
  );

  app.get(
    ONE,
    { config: { access: 'member' }, schema: { tags, summary: 'Show a team', params: TeamParams, response: { 200: TeamJson, ...errorResponses(401, 404) } } },
    async (req) => {
      const { team, isMember } = await service.getTeam(ctx, principal(req), req.params.team_id);
      return presentTeam(team, isMember);
    },
  );

  for (const method of ['patch', 'put'] as const) {
    app[method](
      ONE,
      {
        config: { access: 'administrator' },
        schema: {
          tags,
          summary: 'Update a team: name, description, allow_auto_assign (administrators)',
          params: TeamParams,
          body: TeamBody,
          response: { 200: TeamJson, ...errorResponses(401, 404, 422) },
        },
      },
      async (req) => {
        const { team, isMember } = await service.updateTeam(ctx, principal(req), req.params.team_id, req.body);
        return presentTeam(team, isMember);
      },
    );
  }

  app.delete(
    ONE,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        summary: "Delete a team (administrators); its conversations go back to no team; 200 with an empty body",
        description: 'As in the reference, unsetting the team on its conversations sends no conversation event.',
        params: TeamParams,
        response: { 200: EmptyOk, ...errorResponses(401, 404) },
      },
    },
    async (req, reply) => {
      await service.deleteTeam(ctx, principal(req), req.params.team_id);
      return reply.status(200).send();
    },
  );

  app.get(
    MEMBERS,
    { config: { access: 'member' }, schema: { tags, summary: "List a team's member agents (a bare array)", params: TeamParams, response: { 200: TeamMemberList, ...errorResponses(401, 404) } } },
    async (req) => {
      return (await service.teamMembers(ctx, principal(req), req.params.team_id)).map((a) => presentAgent(a, { presence: presenceOf(ctx) }));
    },
  );

  const changes: { method: 'POST' | 'PATCH'; change: service.TeamMembershipChange; summary: string }[] = [
    { method: 'POST', change: 'add', summary: 'Add agents to a team (administrators); returns the agents named (a bare array)' },
    { method: 'PATCH', change: 'replace', summary: "Replace a team's member set with user_ids (administrators); returns the new members (a bare array)" },
  ];
  for (const { method, change, summary } of changes) {
    app.route({
      method,
      url: MEMBERS,
      config: { access: 'administrator' },
      schema: {
        tags,
        summary,
        description: 'Every user id must be an agent of the account, else the request is a 422 naming them (`invalid_user_ids`) and nothing changes.',
        params: TeamParams,
        body: TeamMembersBody,
        response: { 200: TeamMemberList, ...errorResponses(401, 404, 422) },
      },
      handler: async (req) => {
        const agents = await service.changeTeamMembers(ctx, principal(req), req.params.team_id, change, req.body.user_ids);
        return agents.map((a) => presentAgent(a, { presence: presenceOf(ctx) }));
      },
    });
  }

  app.delete(
    MEMBERS,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        summary: 'Remove agents from a team (administrators); 200 with an empty body',
        params: TeamParams,
        body: TeamMembersBody,
        response: { 200: EmptyOk, ...errorResponses(401, 404, 422) },
      },
    },
    async (req, reply) => {
      await service.changeTeamMembers(ctx, principal(req), req.params.team_id, 'remove', req.body.user_ids);
      return reply.status(200).send();
    },
  );
}

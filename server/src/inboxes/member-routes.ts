import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { principal } from '../accounts/guard.js';
import { AccountParams, EmptyOk, errorResponses } from '../accounts/schemas.js';
import { presentAgent } from '../users/presenter.js';
import { payloadOf } from '../kernel/presenters.js';
import { presenceOf } from '../users/service.js';
import { changeInboxMembers, inboxMembers, type MembershipChange } from './members.js';
import { InboxMembersBody, InboxMembersParams, MemberList } from './schemas.js';

const BASE = '/api/v1/accounts/:account_id/inbox_members';

/** Inbox membership: members and administrators read it; administrators change it. */
export async function registerMemberRoutes(app: TypedApp, ctx: AppContext) {
  app.get(
    `${BASE}/:inbox_id`,
    {
      config: { access: 'member' },
      schema: {
        tags: ['Inboxes'],
        summary: "List an inbox's member agents",
        params: InboxMembersParams,
        response: { 200: MemberList, ...errorResponses(401, 404) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return payloadOf((await inboxMembers(ctx, auth, req.params.inbox_id)).map((a) => presentAgent(a, { presence: presenceOf(ctx) })));
    },
  );

  const changes: { method: 'POST' | 'PATCH'; change: MembershipChange; summary: string }[] = [
    { method: 'POST', change: 'add', summary: 'Add agents to an inbox (administrators)' },
    { method: 'PATCH', change: 'replace', summary: "Replace an inbox's member set (administrators)" },
  ];
  for (const { method, change, summary } of changes) {
    app.route({
      method,
      url: BASE,
      config: { access: 'administrator' },
      schema: {
        tags: ['Inboxes'],
        summary,
        params: AccountParams,
        body: InboxMembersBody,
        response: { 200: MemberList, ...errorResponses(401, 404, 422) },
      },
      handler: async (req) => {
        const auth = principal(req);
        return payloadOf((await changeInboxMembers(ctx, auth, change, req.body)).map((a) => presentAgent(a, { presence: presenceOf(ctx) })));
      },
    });
  }

  app.delete(
    BASE,
    {
      config: { access: 'administrator' },
      schema: {
        tags: ['Inboxes'],
        summary: 'Remove agents from an inbox (administrators)',
        params: AccountParams,
        body: InboxMembersBody,
        response: { 200: EmptyOk, ...errorResponses(401, 404, 422) },
      },
    },
    async (req, reply) => {
      const auth = principal(req);
      await changeInboxMembers(ctx, auth, 'remove', req.body);
      return reply.status(200).send(undefined);
    },
  );
}

import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { principal } from '../accounts/guard.js';
import { AccountIdParams, AccountParams, EmptyOk, errorResponses } from '../accounts/schemas.js';
import { AgentSchema, presentAgent, presentCreatedAgent } from '../users/presenter.js';
import { presenceOf } from '../users/service.js';
import { agentsOf, createAgent, removeAgent, updateAgent } from './service.js';
import { AgentCreateBody, AgentList, AgentUpdateBody, CreatedAgent } from './schemas.js';

const BASE = '/api/v1/accounts/:account_id/agents';

/** Agents of an account: every member lists them, administrators manage them. */
export async function register(app: TypedApp, ctx: AppContext) {
  app.get(
    BASE,
    {
      config: { access: 'member' },
      schema: {
        tags: ['Agents'],
        summary: 'List the agents of the account (a bare array; invited existing users who have not accepted yet follow, with confirmed: false)',
        params: AccountParams,
        response: { 200: AgentList, ...errorResponses(401) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return (await agentsOf(ctx, auth)).map((a) => presentAgent(a, { presence: presenceOf(ctx) }));
    },
  );

  app.post(
    BASE,
    {
      config: { access: 'administrator' },
      schema: {
        tags: ['Agents'],
        summary: 'Add an agent (administrators); without a password the response carries an invitation_url',
        description:
          'A new email creates the user, a member at once. A user who already exists is invited instead: they are not a member until they accept (`POST /api/v1/profile/invitations/:id/accept`), and until then the account sees only the email and name it typed (`confirmed: false`, no `invitation_url`).',
        params: AccountParams,
        body: AgentCreateBody,
        response: { 200: CreatedAgent, ...errorResponses(401, 422, 429) },
      },
    },
    async (req) => {
      const auth = principal(req);
      const { agent: wrapped, ...flat } = req.body;
      const created = await createAgent(ctx, auth, { ...flat, ...wrapped });
      return presentCreatedAgent(created, presenceOf(ctx));
    },
  );

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: `${BASE}/:id`,
      config: { access: 'administrator' },
      schema: {
        tags: ['Agents'],
        summary: "Update an agent's role, availability or auto_offline in this account (administrators)",
        description: "Name, email and password belong to the user (their profile): they are ignored here, as the reference drops parameters it does not permit.",
        params: AccountIdParams,
        body: AgentUpdateBody,
        response: { 200: AgentSchema, ...errorResponses(401, 404, 422) },
      },
      handler: async (req) => {
        const auth = principal(req);
        const { agent: wrapped, ...flat } = req.body;
        return presentAgent(await updateAgent(ctx, auth, req.params.id, { ...flat, ...wrapped }), { presence: presenceOf(ctx) });
      },
    });
  }

  app.delete(
    `${BASE}/:id`,
    {
      config: { access: 'administrator' },
      schema: {
        tags: ['Agents'],
        summary: 'Remove an agent from the account (administrators; not yourself, not the last administrator)',
        params: AccountIdParams,
        response: { 200: EmptyOk, ...errorResponses(401, 404, 422, 429) },
      },
    },
    async (req, reply) => {
      const auth = principal(req);
      await removeAgent(ctx, auth, req.params.id);
      return reply.status(200).send(undefined);
    },
  );
}

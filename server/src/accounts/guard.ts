import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { grantAccount, grantUser, principal } from '../kernel/auth.js';
import { errors } from '../kernel/errors.js';
import { conversationFor } from '../conversations/service.js';
import type { ConversationWithChannel } from '../conversations/repository.js';

export { currentUser, principal } from '../kernel/auth.js';

/**
 * One authorization style: every route states who may call it in its options,
 *
 *   app.post(url, { config: { access: 'administrator' }, schema }, async (req) => { const auth = principal(req); … })
 *
 * and one onRequest hook enforces it before a byte of the body is read, so a caller who may not use
 * a route learns nothing from it (401, not a 422 about the body) and uploads nothing.
 * - `public`: no user is authenticated here (sign-in, health; the client API identifies its contact
 *   session from the path in its service, /cable authenticates in its protocol);
 * - `signed-in`: any user (API token or dashboard session cookie); `currentUser(req)`;
 * - `member`: a member of the account in the path (another account's id is 401, as in the
 *   reference); `principal(req)`;
 * - `administrator`: an administrator of that account (an agent gets 401);
 * - `inbox-member`: a member who may see the conversation in the path: administrators always,
 *   agents when they are members of its inbox (404 when it is not in the account, 401 outside the
 *   agent's inboxes); `conversationOf(req)` is that conversation.
 * Checks that depend on what a request body names (the inbox of a new contact or conversation) or
 * on a row's data stay in the services.
 */
export const ACCESS = ['public', 'signed-in', 'member', 'administrator', 'inbox-member'] as const;
export type Access = (typeof ACCESS)[number];

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
}

const MAX_ID = 2_147_483_647;
const pathId = (raw: string | undefined): number | null => {
  const id = Number(raw);
  return raw !== undefined && /^\d+$/.test(raw) && id >= 1 && id <= MAX_ID ? id : null;
};
const param = (req: FastifyRequest, name: string) => (req.params as Record<string, string | undefined>)?.[name];

async function accountIdParam(ctx: AppContext, req: FastifyRequest): Promise<number> {
  const id = pathId(param(req, 'account_id'));
  if (id !== null) return id;
  await ctx.auth.authenticate(req); // an unauthenticated caller still gets 401
  throw errors.notFound();
}

const conversations = new WeakMap<FastifyRequest, ConversationWithChannel>();

const policies: Record<Exclude<Access, 'public'>, (ctx: AppContext, req: FastifyRequest) => Promise<void>> = {
  'signed-in': async (ctx, req) => grantUser(req, await ctx.auth.authenticate(req)),
  member: async (ctx, req) => grantAccount(req, await ctx.auth.forAccount(req, await accountIdParam(ctx, req))),
  administrator: async (ctx, req) => grantAccount(req, await ctx.auth.forAdmin(req, await accountIdParam(ctx, req))),
  'inbox-member': async (ctx, req) => {
    await policies.member(ctx, req);
    // A malformed id is left to the params schema (422), as on every route.
    const id = pathId(param(req, 'conversation_id'));
    if (id !== null) conversations.set(req, await conversationFor(ctx, principal(req), id));
  },
};

/** The conversation of the path, established by the `inbox-member` policy. */
export function conversationOf(req: FastifyRequest): ConversationWithChannel {
  const c = conversations.get(req);
  if (!c) throw errors.notFound();
  return c;
}

type Hook = (...args: any[]) => unknown;
const hooks = (h: Hook | Hook[] | undefined): Hook[] => (h === undefined ? [] : Array.isArray(h) ? h : [h]);

/** Routes registered by plugins (the OpenAPI document and its UI), public by nature. */
const PLUGIN_ROUTES = /^\/api-docs(\/|$)/;

/**
 * Installs the access policy of every route as its last onRequest hook. Refuses at startup a route
 * that declares none (the plugins' /api-docs aside), an account route open to non-members, an
 * `inbox-member` route without a conversation in its path, and an unknown policy.
 */
export function enforceAccessPolicies(app: FastifyInstance, ctx: AppContext) {
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    const where = `${String(route.method)} ${route.url}`;
    if (access !== undefined && !ACCESS.includes(access)) throw new Error(`${where}: unknown access policy ${String(access)}`);
    if (!access && !PLUGIN_ROUTES.test(route.url)) throw new Error(`${where} declares no access policy (config: { access })`);
    if (route.url.startsWith('/api/v1/accounts/:account_id') && (access === 'public' || access === 'signed-in')) {
      throw new Error(`${where}: an account route is for members (member, administrator or inbox-member), not ${access}`);
    }
    if (access === 'inbox-member' && !route.url.includes(':conversation_id')) throw new Error(`${where}: inbox-member needs :conversation_id in the path`);
    if (!access || access === 'public') return;
    const policy = policies[access];
    const enforce = async (req: FastifyRequest) => policy(ctx, req);
    route.onRequest = [...hooks(route.onRequest as Hook | Hook[] | undefined), enforce] as typeof route.onRequest;
  });
}

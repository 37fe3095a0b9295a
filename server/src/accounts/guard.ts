import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import { errors } from '../kernel/errors.js';
import type { UserRow } from '../users/repository.js';

/**
 * Route guards that authenticate before the body is read, so a caller who may not use a route
 * learns nothing from it (401, not a 422 about the body) and uploads nothing. Declare them as
 * `preValidation`; src/app.ts moves them to onRequest on every /api/v1 route. Read the result with
 * `principal(req)` / `currentUser(req)` in the handler:
 *
 *   app.post(url, { preValidation: admin(ctx), schema }, async (req) => { const auth = principal(req); … })
 */
const accounts = new WeakMap<FastifyRequest, AccountContext>();
const users = new WeakMap<FastifyRequest, UserRow>();

const MAX_ID = 2_147_483_647;

async function accountIdParam(ctx: AppContext, req: FastifyRequest): Promise<number> {
  const raw = (req.params as Record<string, string | undefined>)?.account_id;
  const id = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw) || id < 1 || id > MAX_ID) {
    await ctx.auth.authenticate(req); // an unauthenticated caller still gets 401
    throw errors.notFound();
  }
  return id;
}

/** Any member of the account in the path (another account's id is 401, as in the reference). */
export const member = (ctx: AppContext) => async (req: FastifyRequest) => {
  accounts.set(req, await ctx.auth.forAccount(req, await accountIdParam(ctx, req)));
};

/** An administrator of the account in the path (an agent gets 401 "not authorized"). */
export const admin = (ctx: AppContext) => async (req: FastifyRequest) => {
  accounts.set(req, await ctx.auth.forAdmin(req, await accountIdParam(ctx, req)));
};

/** Any signed-in user (token or session cookie), for routes outside an account. */
export const signedIn = (ctx: AppContext) => async (req: FastifyRequest) => {
  users.set(req, await ctx.auth.authenticate(req));
};

export function principal(req: FastifyRequest): AccountContext {
  const p = accounts.get(req);
  if (!p) throw new Error(`route ${req.routeOptions.url} has no member/admin guard`);
  return p;
}

export function currentUser(req: FastifyRequest): UserRow {
  const u = users.get(req) ?? accounts.get(req)?.user;
  if (!u) throw new Error(`route ${req.routeOptions.url} has no signedIn guard`);
  return u;
}

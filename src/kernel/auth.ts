import type { FastifyRequest } from 'fastify';
import type { Database } from './db.js';
import { now } from './db.js';
import { AppError, errors } from './errors.js';
import { safeEqual, secureToken, sha256Hex } from './tokens.js';
import { findUserById, userByAccessToken, type UserRow } from '../users/repository.js';

export const SESSION_COOKIE = 'channelx_session';
export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;

export type Role = 'agent' | 'administrator';
export const ROLE_NAMES: Role[] = ['agent', 'administrator'];
export const roleNumber = (r: Role) => ROLE_NAMES.indexOf(r);

export type AccountContext = {
  user: UserRow;
  accountId: number;
  role: Role;
  isAdmin: boolean;
};

function headerValue(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The presented API token: `api_access_token` decides; `HTTP_API_ACCESS_TOKEN`, then `Authorization: Bearer` are read too. */
export function presentedToken(req: FastifyRequest): string | undefined {
  const direct = headerValue(req, 'api_access_token') ?? headerValue(req, 'http_api_access_token');
  if (direct) return direct.trim();
  const authz = headerValue(req, 'authorization');
  const m = authz?.match(/^Bearer\s+(.+)$/i);
  return m ? m[1].trim() : undefined;
}

export class Auth {
  constructor(private readonly database: Database) {}

  /** Resolves the user from the API token, or else the dashboard session cookie. 401 when neither is valid. */
  async authenticate(req: FastifyRequest): Promise<UserRow> {
    const token = presentedToken(req);
    if (token) {
      const user = await userByAccessToken(this.database.db, token);
      if (!user) throw errors.invalidToken();
      return user;
    }
    const cookie = req.cookies?.[SESSION_COOKIE];
    if (cookie) {
      const user = await this.userBySession(cookie);
      if (user) return user;
    }
    throw errors.invalidToken();
  }

  private memo = new WeakMap<FastifyRequest, Map<number, Promise<AccountContext>>>();

  /**
   * Authenticates and checks membership of the account in the path. Another account's id is a 401,
   * as in the reference. Memoised per request: the account guard (src/app.ts) runs it before body
   * validation, and the route's own call reuses the result.
   */
  forAccount(req: FastifyRequest, accountId: number): Promise<AccountContext> {
    let byAccount = this.memo.get(req);
    if (!byAccount) this.memo.set(req, (byAccount = new Map()));
    let p = byAccount.get(accountId);
    if (!p) byAccount.set(accountId, (p = this.resolveAccount(req, accountId)));
    return p;
  }

  private async resolveAccount(req: FastifyRequest, accountId: number): Promise<AccountContext> {
    const user = await this.authenticate(req);
    const row = await this.database.db
      .selectFrom('account_users')
      .innerJoin('accounts', 'accounts.id', 'account_users.account_id')
      .select(['account_users.role', 'accounts.status'])
      .where('account_users.account_id', '=', accountId)
      .where('account_users.user_id', '=', user.id)
      .executeTakeFirst();
    if (!row) throw errors.notAuthorized();
    if (row.status === 1) throw new AppError('unauthorized', 'Account is suspended');
    const role = ROLE_NAMES[row.role] ?? 'agent';
    return { user, accountId, role, isAdmin: role === 'administrator' };
  }

  async forAdmin(req: FastifyRequest, accountId: number): Promise<AccountContext> {
    const ctx = await this.forAccount(req, accountId);
    requireAdmin(ctx);
    return ctx;
  }

  async createSession(userId: number): Promise<string> {
    const token = secureToken(32);
    const t = now();
    await this.database.db
      .insertInto('user_sessions')
      .values({ user_id: userId, token_digest: sha256Hex(token), expires_at: t + SESSION_TTL_MS, created_at: t })
      .execute();
    return token;
  }

  async destroySession(token: string) {
    await this.database.db.deleteFrom('user_sessions').where('token_digest', '=', sha256Hex(token)).execute();
  }

  private async userBySession(token: string): Promise<UserRow | undefined> {
    if (token.length > 200) return undefined;
    const digest = sha256Hex(token);
    const row = await this.database.db
      .selectFrom('user_sessions')
      .select(['user_id', 'token_digest', 'expires_at'])
      .where('token_digest', '=', digest)
      .executeTakeFirst();
    if (!row || !safeEqual(row.token_digest, digest) || Number(row.expires_at) < now()) return undefined;
    return findUserById(this.database.db, row.user_id);
  }
}

export function requireAdmin(ctx: AccountContext) {
  if (!ctx.isAdmin) throw errors.notAuthorized();
}

import type { FastifyRequest } from 'fastify';
import type { Database } from './db.js';
import { now } from './db.js';
import { AppError, errors } from './errors.js';
import { safeEqual, secureToken, sha256Hex } from './tokens.js';
import { deleteSession, findSession, findUserById, insertSession, membershipOf, principalByAccessToken, userByAccessToken, type UserRow } from '../users/repository.js';
import { AuthCache } from './auth-cache.js';
import { ACCOUNT_STATUS, ROLE, ROLE_NAMES, type Role } from './constants.js';

export const SESSION_COOKIE = 'channelx_session';
export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;

export type { Role } from './constants.js';
export const roleNumber = (r: Role) => ROLE[r];

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

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Where the trusted web origins come from (src/config.ts). */
export type OriginPolicy = { publicUrl: string; allowedOrigins: readonly string[] };

function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return /^https?:$/.test(u.protocol) ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * The origin a browser says the request comes from: the `Origin` header, or else the origin of
 * `Referer`; null when neither is sent. An opaque `Origin: null` (sandboxed frame, privacy
 * redirect) is returned as the string 'null', which no trusted origin equals.
 */
export function requestOrigin(req: FastifyRequest): string | null {
  const origin = headerValue(req, 'origin')?.trim();
  if (origin) return origin === 'null' ? 'null' : (originOf(origin) ?? 'null');
  const referer = headerValue(req, 'referer')?.trim();
  if (referer) return originOf(referer) ?? 'null';
  return null;
}

/**
 * CSRF defence for the dashboard session cookie (SameSite=Lax alone lets same-site pages and
 * top-level form posts through). A request may use the cookie for a state-changing method only
 * when the browser names a trusted origin: PUBLIC_URL's, one of ALLOWED_ORIGINS, or the request's
 * own Host (a self-hosted server reached under several names; a browser never lets a page choose
 * the Host of a request it sends to another site). The Host match accepts the request's scheme and
 * https (behind a TLS-terminating proxy without TRUST_PROXY the server sees http). Token-authenticated
 * requests carry no ambient credential and are not checked.
 */
export class OriginGuard {
  private readonly trusted: Set<string>;

  constructor(policy: OriginPolicy) {
    this.trusted = new Set([originOf(policy.publicUrl), ...policy.allowedOrigins.map(originOf)].filter((o): o is string => !!o));
  }

  isTrusted(req: FastifyRequest, origin: string): boolean {
    if (this.trusted.has(origin)) return true;
    const host = req.host;
    if (!host) return false;
    return origin === originOf(`${req.protocol}://${host}`) || origin === originOf(`https://${host}`);
  }

  /**
   * 403 when the request names a foreign origin, or (when `required`) names none. Used with
   * `required` for cookie-authenticated writes, without it for sign-in (login CSRF: a browser
   * always sends Origin on a cross-site POST; API clients send none).
   */
  check(req: FastifyRequest, required: boolean) {
    const origin = requestOrigin(req);
    if (origin === null) {
      if (required) throw errors.forbidden('Origin header required for requests authenticated by the session cookie');
      return;
    }
    if (!this.isTrusted(req, origin)) throw errors.forbidden('Cross-site request refused: Origin does not match this server');
  }
}

export class Auth {
  readonly origins: OriginGuard;
  private readonly cache: AuthCache;

  constructor(
    private readonly database: Database,
    policy: OriginPolicy = { publicUrl: '', allowedOrigins: [] },
  ) {
    this.origins = new OriginGuard(policy);
    this.cache = new AuthCache(database.dataVersion ?? null);
  }

  /**
   * Resolves the user from the API token, or else the dashboard session cookie. 401 when neither is
   * valid; 403 for a cookie-authenticated POST/PUT/PATCH/DELETE without a trusted Origin (CSRF).
   */
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
      if (user) {
        if (STATE_CHANGING.has(req.method)) this.origins.check(req, true);
        return user;
      }
    }
    throw errors.invalidToken();
  }

  /** Authenticates and checks membership of the account in the path. Another account's id is a 401, as in the reference. */
  async forAccount(req: FastifyRequest, accountId: number): Promise<AccountContext> {
    const token = presentedToken(req);
    if (token) return this.forAccountToken(token, accountId);
    const user = await this.authenticate(req);
    const row = await membershipOf(this.database.db, accountId, user.id);
    if (!row) throw errors.notAuthorized();
    return accountContext(user, accountId, row.role, row.account_status);
  }

  /** An API token's principal: one joined query, or none when the cache (SQLite) holds it. */
  private async forAccountToken(token: string, accountId: number): Promise<AccountContext> {
    // Keyed by the token itself (this process's memory only): no digest on a hit.
    const key = `${accountId}:${token}`;
    const hit = this.cache.get(key);
    if (hit && safeEqual(hit.token, token)) return accountContext(hit.user, accountId, hit.role, hit.accountStatus);
    const stamp = this.cache.stamp();
    const found = await principalByAccessToken(this.database.db, token, accountId);
    if (!found) throw errors.invalidToken();
    if (found.role === null || found.account_status === null) throw errors.notAuthorized();
    const ctx = accountContext(found.user, accountId, found.role, found.account_status);
    this.cache.set(key, { user: found.user, token: found.token, role: found.role, accountStatus: found.account_status }, stamp);
    return ctx;
  }

  async forAdmin(req: FastifyRequest, accountId: number): Promise<AccountContext> {
    const ctx = await this.forAccount(req, accountId);
    requireAdmin(ctx);
    return ctx;
  }

  async createSession(userId: number): Promise<string> {
    const token = secureToken(32);
    await insertSession(this.database.db, userId, sha256Hex(token), now() + SESSION_TTL_MS);
    return token;
  }

  async destroySession(token: string) {
    await deleteSession(this.database.db, sha256Hex(token));
  }

  private async userBySession(token: string): Promise<UserRow | undefined> {
    if (token.length > 200) return undefined;
    const digest = sha256Hex(token);
    const row = await findSession(this.database.db, digest);
    if (!row || !safeEqual(row.token_digest, digest) || row.expires_at < now()) return undefined;
    return findUserById(this.database.db, row.user_id);
  }
}

function accountContext(user: UserRow, accountId: number, roleNumber: number, accountStatus: number): AccountContext {
  if (accountStatus === ACCOUNT_STATUS.suspended) throw new AppError('unauthorized', 'Account is suspended');
  const role = ROLE_NAMES[roleNumber] ?? 'agent';
  return { user, accountId, role, isAdmin: role === 'administrator' };
}

export function requireAdmin(ctx: AccountContext) {
  if (!ctx.isAdmin) throw errors.notAuthorized();
}

/**
 * What the route's access policy (src/accounts/guard.ts) established for this request, read by
 * handlers with `principal(req)` (account routes) or `currentUser(req)` (any signed-in route).
 */
const accounts = new WeakMap<FastifyRequest, AccountContext>();
const users = new WeakMap<FastifyRequest, UserRow>();

export function grantAccount(req: FastifyRequest, ctx: AccountContext) {
  accounts.set(req, ctx);
}

export function grantUser(req: FastifyRequest, user: UserRow) {
  users.set(req, user);
}

/** The account context of the request, when its route's policy established one. */
export function findPrincipal(req: FastifyRequest): AccountContext | undefined {
  return accounts.get(req);
}

export function principal(req: FastifyRequest): AccountContext {
  const p = accounts.get(req);
  if (!p) throw new Error(`route ${req.routeOptions.url} has no member/administrator/inbox-member access policy`);
  return p;
}

export function currentUser(req: FastifyRequest): UserRow {
  const u = users.get(req) ?? accounts.get(req)?.user;
  if (!u) throw new Error(`route ${req.routeOptions.url} has no signed-in access policy`);
  return u;
}

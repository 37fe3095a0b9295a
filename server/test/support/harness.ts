import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { describe, inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createServer, type Server } from '../../src/server.js';
import { ensurePgSchema, dropPgSchema, now } from '../../src/kernel/db.js';
import { setupAccount } from '../../src/accounts/setup.js';
import { insertUser, accessTokenOf } from '../../src/users/repository.js';
import { insertApiInbox, addInboxMembers, findInbox, type NewApiInbox } from '../../src/inboxes/repository.js';

export type DialectName = 'sqlite' | 'postgres';

export type ApiResponse<T = any> = { status: number; body: T; headers: Record<string, unknown>; text: string };

export type TestServer = {
  server: Server;
  dialect: DialectName;
  /** Base URL of the listening server (http://127.0.0.1:port). */
  url: string;
  /** The DATABASE_URL this server uses (a child process can share it). */
  databaseUrl: string;
  api<T = any>(
    method: string,
    url: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string>; cookie?: string },
  ): Promise<ApiResponse<T>>;
  account(opts?: { name?: string }): Promise<{ accountId: number; admin: TestUser }>;
  user(accountId: number, opts?: { role?: 'agent' | 'administrator'; name?: string; email?: string }): Promise<TestUser>;
  inbox(accountId: number, opts?: Partial<NewApiInbox> & { members?: number[] }): Promise<Awaited<ReturnType<typeof findInbox>> & {}>;
  close(): Promise<void>;
};

/** Settings that turn every rate limit off, for tests that send many requests on purpose. */
export const NO_RATE_LIMITS = {
  PUBLIC_API_LIMIT_PER_IP: '1000000',
  PUBLIC_API_LIMIT_PER_INBOX: '1000000',
  CONVERSATION_MESSAGE_PER_MINUTE_LIMIT: '1000000',
  SIGN_IN_LIMIT_PER_IP: '1000000',
  SIGN_IN_LIMIT_PER_EMAIL: '1000000',
};

export type TestUser = { id: number; token: string; pubsub_token: string; email: string };

let seq = 0;
const uniq = () => `${process.pid}${Date.now().toString(36)}${(seq++).toString(36)}${crypto.randomBytes(2).toString('hex')}`;

/**
 * Starts a real server on 127.0.0.1 (random port) on a fresh database of the given dialect:
 * a temp SQLite file, or a new PostgreSQL schema.
 */
export async function startTestServer(dialect: DialectName, env: Record<string, string> = {}, opts: { onQuery?: (sql: string) => void } = {}): Promise<TestServer> {
  let databaseUrl: string;
  let cleanup: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-test-'));
    databaseUrl = `sqlite:${path.join(dir, 'test.sqlite')}`;
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  } else {
    const base = inject('pgUrl');
    if (!base) throw new Error('PostgreSQL is not available');
    const schema = `t_${uniq()}`.toLowerCase();
    await ensurePgSchema(base, schema);
    const sep = base.includes('?') ? '&' : '?';
    databaseUrl = `${base}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    cleanup = () => dropPgSchema(base, schema);
  }
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    WEBHOOK_ALLOW_PRIVATE_NETWORK: 'true',
    ...env,
  });
  const server = await createServer(config, { pollMs: 200, db: { onQuery: opts.onQuery } });
  const address = await server.listen();
  const url = address.replace('[::1]', '127.0.0.1');

  const h: TestServer = {
    server,
    dialect,
    url,
    databaseUrl,
    async api(method, u, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers.api_access_token = opts.token;
      if (opts.cookie) headers.cookie = opts.cookie;
      let payload: string | undefined;
      if (opts.body !== undefined) {
        payload = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await server.app.inject({ method: method as any, url: u, headers, payload });
      let body: any = res.body;
      try {
        body = res.body ? JSON.parse(res.body) : null;
      } catch {
        /* not JSON */
      }
      return { status: res.statusCode, body, headers: res.headers, text: res.body };
    },
    async account(opts = {}) {
      const email = `admin-${uniq()}@example.com`;
      const r = await setupAccount(server.ctx.database, {
        account: opts.name ?? `Account ${uniq()}`,
        name: 'Admin',
        email,
        password: 'password123',
      });
      return { accountId: r.account_id, admin: { id: r.user_id, token: r.access_token, pubsub_token: r.pubsub_token, email } };
    },
    async user(accountId, opts = {}) {
      const db = server.ctx.database.db;
      const email = opts.email ?? `user-${uniq()}@example.com`;
      const u = await insertUser(db, { name: opts.name ?? 'Agent', email, password_hash: null });
      await db
        .insertInto('account_users')
        .values({
          account_id: accountId,
          user_id: u.id,
          role: opts.role === 'administrator' ? 1 : 0,
          inviter_id: null,
          availability: 0,
          auto_offline: 1,
          active_at: null,
          created_at: now(),
        })
        .execute();
      return { id: u.id, token: await accessTokenOf(db, u.id), pubsub_token: u.pubsub_token, email: u.email };
    },
    async inbox(accountId, opts = {}) {
      const db = server.ctx.database.db;
      const id = await insertApiInbox(db, accountId, { name: opts.name ?? 'API Channel', ...opts });
      if (opts.members?.length) await addInboxMembers(db, id, opts.members);
      return (await findInbox(db, accountId, id))!;
    },
    async close() {
      await server.close();
      await cleanup();
    },
  };
  return h;
}

/**
 * Runs a block once per database dialect: SQLite always, PostgreSQL when reachable (the global
 * setup skips it loudly otherwise, and fails under CI=true).
 */
export function describeEachDb(title: string, fn: (dialect: DialectName) => void) {
  describe(`${title} [sqlite]`, () => fn('sqlite'));
  const pg = inject('pgUrl');
  (pg ? describe : describe.skip)(`${title} [postgres]`, () => fn('postgres'));
}

export function pgUrl(): string | null {
  return inject('pgUrl');
}
export function redisUrl(): string | null {
  return inject('redisUrl');
}

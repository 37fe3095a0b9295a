import crypto from 'node:crypto';
import { expect } from 'vitest';
import type { ApiResponse, TestServer, TestUser } from '../support/harness.js';
import { counts } from '../support/conversations.js';

/** What a customer's server computes: lowercase hex HMAC-SHA256(identifier) keyed with the inbox's hmac_token. */
export const hashOf = (hmacToken: string, identifier: string) => crypto.createHmac('sha256', hmacToken).update(identifier).digest('hex');

/** Server env for suites that are not about rate limits (many requests from one test address). */
export const LIMITS_OFF = { PUBLIC_API_LIMIT_PER_IP: '1000000', PUBLIC_API_LIMIT_PER_INBOX: '1000000' };

let ipSeq = 0;
/** A fresh client address per client (honoured with TRUST_PROXY=true), so per-IP limits never interfere between tests. */
export const freshIp = () => `10.${(process.pid >> 8) & 255}.${(ipSeq >> 8) & 255}.${ipSeq++ & 255}`;

export type Inbox = Awaited<ReturnType<TestServer['inbox']>>;
export type Recorded = { method: string; url: string; status: number; text: string; ownToken: string | null };

/**
 * A client-API caller that records every response, so a suite can finally assert that none of
 * them carried a secret: `scanForLeaks` checks hmac_tokens, webhook secrets, access tokens and
 * every pubsub_token but the one of the session a response was addressed to.
 */
export class PublicClient {
  readonly responses: Recorded[] = [];
  /** source_id → pubsub_token of the sessions seen so far (each session may see its own token). */
  readonly tokens = new Map<string, string>();

  constructor(
    readonly h: TestServer,
    readonly ip = freshIp(),
  ) {}

  base(inbox: Pick<Inbox, 'identifier'> | string) {
    return `/public/api/v1/inboxes/${typeof inbox === 'string' ? inbox : inbox.identifier}`;
  }

  async call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const r = await this.h.api(method, url, { body, headers: { 'x-forwarded-for': this.ip, ...headers } });
    const m = url.match(/\/contacts\/([^/?]+)/);
    let own: string | null = m ? (this.tokens.get(decodeURIComponent(m[1])) ?? null) : null;
    if (!m && /\/contacts\/?(\?|$)/.test(url) && r.status === 200 && r.body?.source_id) {
      this.tokens.set(r.body.source_id, r.body.pubsub_token);
      own = r.body.pubsub_token;
    }
    this.responses.push({ method, url, status: r.status, text: r.text, ownToken: own });
    return r;
  }

  /** POST /contacts, remembering the session's token; returns the response. */
  async createContact(inbox: Inbox, body: Record<string, unknown> = {}) {
    return this.call('POST', `${this.base(inbox)}/contacts`, body);
  }

  /** Creates a contact session and returns it (asserting success). */
  async session(inbox: Inbox, body: Record<string, unknown> = {}) {
    const r = await this.createContact(inbox, body);
    expect(r.status, r.text).toBe(200);
    return r.body as { source_id: string; pubsub_token: string; id: number; name: string; email: string | null; phone_number: string | null };
  }

  contactUrl(inbox: Inbox, sourceId: string) {
    return `${this.base(inbox)}/contacts/${encodeURIComponent(sourceId)}`;
  }

  async conversation(inbox: Inbox, sourceId: string, body: Record<string, unknown> = {}) {
    const r = await this.call('POST', `${this.contactUrl(inbox, sourceId)}/conversations`, body);
    expect(r.status, r.text).toBe(200);
    return r.body as { id: number; uuid: string; status: string; messages: any[]; contact: any };
  }

  async message(inbox: Inbox, sourceId: string, conversationId: number, body: Record<string, unknown>) {
    return this.call('POST', `${this.contactUrl(inbox, sourceId)}/conversations/${conversationId}/messages`, body);
  }

  /**
   * Asserts that no recorded response contains any of `secrets`, nor a pubsub_token (of the
   * contact sessions in the database and of the users) other than the session's own.
   */
  async scanForLeaks(secrets: string[]) {
    const db = this.h.server.ctx.database.db;
    const sessionTokens = (await db.selectFrom('contact_inboxes').select('pubsub_token').execute()).map((r) => r.pubsub_token);
    const userTokens = (await db.selectFrom('users').select('pubsub_token').execute()).map((r) => r.pubsub_token);
    const channel = await db.selectFrom('channel_api').select(['hmac_token', 'secret', 'previous_secret']).execute();
    const access = (await db.selectFrom('access_tokens').select('token').execute()).map((r) => r.token);
    const always = [
      ...secrets,
      ...userTokens,
      ...access,
      ...channel.flatMap((c) => [c.hmac_token, c.secret, c.previous_secret ?? '']),
    ].filter((s) => s && s.length >= 8);
    expect(this.responses.length).toBeGreaterThan(0);
    for (const r of this.responses) {
      for (const s of always) expect(r.text.includes(s), `${r.method} ${r.url} leaks a secret`).toBe(false);
      for (const t of sessionTokens) {
        if (t === r.ownToken) continue;
        expect(r.text.includes(t), `${r.method} ${r.url} leaks another session's pubsub_token`).toBe(false);
      }
      expect(r.status, `${r.method} ${r.url} answered 500: ${r.text}`).not.toBe(500);
    }
  }
}

/** Application API helpers (the agent side). */
export function appApi(h: TestServer, accountId: number, admin: TestUser) {
  const base = `/api/v1/accounts/${accountId}`;
  return {
    base,
    get: (path: string) => h.api('GET', `${base}${path}`, { token: admin.token }),
    post: (path: string, body: unknown) => h.api('POST', `${base}${path}`, { token: admin.token, body }),
    patch: (path: string, body: unknown) => h.api('PATCH', `${base}${path}`, { token: admin.token, body }),
  };
}

/** Events recorded in the outbox, oldest first. */
export async function eventsOf(h: TestServer, name?: string) {
  let q = h.server.ctx.database.db.selectFrom('events').selectAll().orderBy('id');
  if (name) q = q.where('name', '=', name);
  return (await q.execute()).map((e) => ({ ...e, payload: JSON.parse(e.payload) as Record<string, any> }));
}

/** Row counts of the tables a refused request must not write to, verified sessions and the contacts' unique keys. */
export async function writeCounts(h: TestServer) {
  const db = h.server.ctx.database.db;
  const { labels: _labels, ...rows } = await counts(h);
  const verified = Number(
    (await db.selectFrom('contact_inboxes').select((eb) => eb.fn.countAll().as('n')).where('hmac_verified', '=', 1).executeTakeFirstOrThrow()).n,
  );
  const identifiers = (await db.selectFrom('contacts').select(['id', 'identifier', 'email', 'name']).orderBy('id').execute()).map((r) =>
    JSON.stringify(r),
  );
  return { ...rows, verified, identifiers };
}

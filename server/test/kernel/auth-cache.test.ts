import { afterAll, beforeAll, expect, it } from 'vitest';
import SQLite from 'better-sqlite3';
import { describeEachDb, NO_RATE_LIMITS, startTestServer, type TestServer } from '../support/harness.js';

/**
 * The API token's principal: one joined query, and on SQLite none while the token is cached. Every
 * change of who the token is takes effect on the very next request — through the API (token reset,
 * role change, removal, rename) and through another connection to the file (the CLI).
 */
describeEachDb('API token principal and its cache', (dialect) => {
  let h: TestServer;
  const statements: string[] = [];
  beforeAll(async () => {
    h = await startTestServer(dialect, NO_RATE_LIMITS, { onQuery: (sql) => statements.push(sql) });
  });
  afterAll(() => h.close());

  /** The statements one request ran that read tokens, users or memberships. */
  async function authStatements(token: string, path: string) {
    statements.length = 0;
    const r = await h.api('GET', path, { token });
    return { status: r.status, body: r.body, auth: statements.filter((s) => /access_tokens|"users"|account_users/.test(s) && !/conversations/.test(s)).length };
  }

  it('costs one query, none when cached (SQLite); a token reset, a role change and a removal apply to the next request', async () => {
    const { accountId, admin } = await h.account();
    const agent = await h.user(accountId, { name: 'Cached Agent', role: 'administrator' });
    const inboxes = `/api/v1/accounts/${accountId}/inboxes`;
    const first = await authStatements(agent.token, inboxes);
    expect(first.status).toBe(200);
    expect(first.auth).toBe(1);
    const second = await authStatements(agent.token, inboxes);
    expect(second.status).toBe(200);
    expect(second.auth).toBe(dialect === 'sqlite' ? 0 : 1);

    // Administrator → agent: the next administrator-only call is refused.
    const webhooks = `/api/v1/accounts/${accountId}/webhooks`;
    expect((await h.api('GET', webhooks, { token: agent.token })).status).toBe(200);
    expect((await h.api('PATCH', `/api/v1/accounts/${accountId}/agents/${agent.id}`, { token: admin.token, body: { role: 'agent' } })).status).toBe(200);
    expect((await h.api('GET', webhooks, { token: agent.token })).status).toBe(401);

    // A renamed user acts under the new name at once: the activity line names them so.
    const inbox = await h.inbox(accountId, { members: [agent.id] });
    const contact = await h.api('POST', `/api/v1/accounts/${accountId}/contacts`, { token: admin.token, body: { inbox_id: inbox.id, name: 'C' } });
    const conv = await h.api('POST', `/api/v1/accounts/${accountId}/conversations`, { token: admin.token, body: { source_id: contact.body.payload.contact_inbox.source_id } });
    expect((await h.api('PUT', '/api/v1/profile', { token: agent.token, body: { profile: { name: 'Renamed Agent' } } })).status).toBe(200);
    expect((await h.api('POST', `/api/v1/accounts/${accountId}/conversations/${conv.body.id}/toggle_status`, { token: agent.token, body: { status: 'resolved' } })).status).toBe(200);
    const lines = (await h.api('GET', `/api/v1/accounts/${accountId}/conversations/${conv.body.id}/messages`, { token: admin.token })).body.payload.map((m: any) => m.content);
    expect(lines).toContain('Conversation was marked resolved by Renamed Agent');

    // A token reset: the old token is refused on the next request, the new one works.
    const reset = await h.api('POST', '/api/v1/profile/reset_access_token', { token: agent.token });
    expect(reset.status).toBe(200);
    expect((await h.api('GET', inboxes, { token: agent.token })).status).toBe(401);
    const fresh = reset.body.access_token as string;
    expect((await h.api('GET', inboxes, { token: fresh })).status).toBe(200);

    // Removed from the account: refused at once.
    expect((await h.api('DELETE', `/api/v1/accounts/${accountId}/agents/${agent.id}`, { token: admin.token })).status).toBe(200);
    expect((await h.api('GET', inboxes, { token: fresh })).status).toBe(401);
  });

  if (dialect === 'sqlite') it('a change committed by another connection (the CLI) applies to the next request', async () => {
    const { accountId, admin } = await h.account();
    const inboxes = `/api/v1/accounts/${accountId}/inboxes`;
    expect((await authStatements(admin.token, inboxes)).status).toBe(200);
    expect((await authStatements(admin.token, inboxes)).auth).toBe(0); // cached
    const other = new SQLite(h.databaseUrl.slice('sqlite:'.length));
    try {
      other.pragma('busy_timeout = 5000');
      other.prepare("delete from access_tokens where owner_type = 'User' and owner_id = ?").run(admin.id);
    } finally {
      other.close();
    }
    expect((await h.api('GET', inboxes, { token: admin.token })).status).toBe(401);
  });
});

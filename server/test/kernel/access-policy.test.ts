import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { enforceAccessPolicies, type Access } from '../../src/accounts/guard.js';
import type { AppContext } from '../../src/context.js';
import { describeEachDb, type TestServer } from '../support/harness.js';
import { counts, createContact, createConversation, useScene, type Scene } from '../support/conversations.js';

/**
 * One authorization style (issue 10 item 4): every route states its access policy in its options,
 * and a route that forgets it (or states one that cannot hold) is refused when the server starts,
 * not discovered in production. The policies' behaviour on the real routes is
 * covered by test/foundation/access.test.ts and test/kernel/body-auth.test.ts.
 */

async function register(url: string, access?: Access | string) {
  const app = Fastify();
  enforceAccessPolicies(app, {} as AppContext);
  try {
    app.get(url, access === undefined ? {} : { config: { access: access as Access } }, async () => ({ ok: true }));
    await app.ready();
  } finally {
    await app.close();
  }
}

describe('access policies', () => {
  it('refuses at startup a route that declares no access policy', async () => {
    await expect(register('/api/v1/accounts/:account_id/things')).rejects.toThrow(/declares no access policy/);
    await expect(register('/api/v1/profile/things')).rejects.toThrow(/declares no access policy/);
    await expect(register('/public/api/v1/inboxes/:inbox_identifier/things')).rejects.toThrow(/declares no access policy/);
    await expect(register('/auth/things')).rejects.toThrow(/declares no access policy/);
  });

  it('refuses an unknown policy, an account route open to non-members, and inbox-member without a conversation in the path', async () => {
    await expect(register('/api/v1/profile/things', 'admins')).rejects.toThrow(/unknown access policy/);
    await expect(register('/api/v1/accounts/:account_id/things', 'signed-in')).rejects.toThrow(/account route is for members/);
    await expect(register('/api/v1/accounts/:account_id/things', 'public')).rejects.toThrow(/account route is for members/);
    await expect(register('/api/v1/accounts/:account_id/inboxes/:id', 'inbox-member')).rejects.toThrow(/needs :conversation_id/);
  });

  it("accepts routes that state a fitting policy, and the OpenAPI plugins' routes without one", async () => {
    await expect(register('/api/v1/accounts/:account_id/things', 'member')).resolves.toBeUndefined();
    await expect(register('/api/v1/accounts/:account_id/things', 'administrator')).resolves.toBeUndefined();
    await expect(register('/api/v1/accounts/:account_id/conversations/:conversation_id/x', 'inbox-member')).resolves.toBeUndefined();
    await expect(register('/api/v1/profile/things', 'signed-in')).resolves.toBeUndefined();
    await expect(register('/public/api/v1/things', 'public')).resolves.toBeUndefined();
    await expect(register('/api-docs/json')).resolves.toBeUndefined();
  });
});

describeEachDb('the inbox-member policy', (dialect) => {
  let h: TestServer;
  let s: Scene;
  useScene(dialect, (started) => ({ h, s } = started));

  it('settles the conversation of the path before the body: 404 when absent, 401 outside the agent\'s inboxes, whatever the body', async () => {
    const agent = await h.user(s.accountId);
    const mine = await h.inbox(s.accountId, { name: 'Mine', members: [agent.id] });
    const hidden = await createConversation(h, s);
    const visible = await createConversation(h, s, { source_id: (await createContact(h, { ...s, inbox: mine })).sourceId });
    const before = await counts(h);
    const bad = { content: 7, message_type: 'sideways' }; // invalid on every field
    const post = (id: number, token: string) => h.api('POST', `${s.base}/conversations/${id}/messages`, { token, body: bad });
    expect((await post(hidden.id, agent.token)).status).toBe(401);
    expect((await post(999_999, agent.token)).status).toBe(404);
    expect((await post(999_999, s.admin.token)).status).toBe(404);
    // A conversation the caller may see: now the body is validated.
    expect((await post(visible.id, agent.token)).status).toBe(422);
    expect((await post(hidden.id, s.admin.token)).status).toBe(422);
    // A malformed id names no conversation: 404, as the reference answers, before the body too.
    expect((await post(0, s.admin.token)).status).toBe(404);
    expect(await counts(h)).toEqual(before);
  });
});

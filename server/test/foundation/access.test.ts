import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { counts } from './helpers.js';

type Ids = { accountId: number; inboxId: number; agentId: number; otherId: number };
type Route = { method: string; path: (i: Ids) => string; body?: (i: Ids) => unknown; admin: boolean };

const A = (i: Ids) => `/api/v1/accounts/${i.accountId}`;

/** Every account-scoped route of issue 2, with a valid body; the last ones delete things. */
const ROUTES: Route[] = [
  { method: 'GET', path: A, admin: false },
  { method: 'PATCH', path: A, body: () => ({ name: 'Renamed' }), admin: true },
  { method: 'PUT', path: A, body: () => ({ settings: { a: 1 } }), admin: true },
  { method: 'GET', path: (i) => `${A(i)}/agents`, admin: false },
  { method: 'POST', path: (i) => `${A(i)}/agents`, body: () => ({ name: 'New', email: `new-${Math.random()}@example.com` }), admin: true },
  { method: 'PATCH', path: (i) => `${A(i)}/agents/${i.agentId}`, body: () => ({ name: 'Renamed agent' }), admin: true },
  { method: 'PUT', path: (i) => `${A(i)}/agents/${i.agentId}`, body: () => ({ availability: 'busy' }), admin: true },
  { method: 'GET', path: (i) => `${A(i)}/inboxes`, admin: false },
  { method: 'GET', path: (i) => `${A(i)}/inboxes/${i.inboxId}`, admin: false },
  { method: 'POST', path: (i) => `${A(i)}/inboxes`, body: () => ({ name: 'New inbox', channel: { type: 'api' } }), admin: true },
  { method: 'PATCH', path: (i) => `${A(i)}/inboxes/${i.inboxId}`, body: () => ({ name: 'Renamed inbox' }), admin: true },
  { method: 'PUT', path: (i) => `${A(i)}/inboxes/${i.inboxId}`, body: () => ({ greeting_enabled: true }), admin: true },
  { method: 'POST', path: (i) => `${A(i)}/inboxes/${i.inboxId}/reset_secret`, admin: true },
  { method: 'GET', path: (i) => `${A(i)}/inbox_members/${i.inboxId}`, admin: false },
  { method: 'POST', path: (i) => `${A(i)}/inbox_members`, body: (i) => ({ inbox_id: i.inboxId, user_ids: [i.otherId] }), admin: true },
  { method: 'PATCH', path: (i) => `${A(i)}/inbox_members`, body: (i) => ({ inbox_id: i.inboxId, user_ids: [i.agentId] }), admin: true },
  { method: 'DELETE', path: (i) => `${A(i)}/inbox_members`, body: (i) => ({ inbox_id: i.inboxId, user_ids: [i.otherId] }), admin: true },
  { method: 'DELETE', path: (i) => `${A(i)}/agents/${i.otherId}`, admin: true },
  { method: 'DELETE', path: (i) => `${A(i)}/inboxes/${i.inboxId}`, admin: true },
];

const NOT_AUTHORIZED = { error: 'You are not authorized to do this action' };
const NOT_FOUND = { error: 'Resource could not be found' };

describeEachDb('roles and account isolation', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect);
  });
  afterAll(() => h.close());

  /** An account with an admin, an agent (member of the inbox) and a second agent. */
  async function world() {
    const { accountId, admin } = await h.account();
    const agent = await h.user(accountId);
    const other = await h.user(accountId);
    const inbox = await h.inbox(accountId, { members: [agent.id] });
    const ids: Ids = { accountId, inboxId: inbox.id, agentId: agent.id, otherId: other.id };
    return { ids, admin, agent, other };
  }
  const call = (r: Route, ids: Ids, user: TestUser) => h.api(r.method, r.path(ids), { token: user.token, body: r.body?.(ids) });

  describe('role rules', () => {
    it('agents get 401 on every administrator route and nothing is written; member routes answer them', async () => {
      const { ids, agent } = await world();
      const before = await counts(h);
      for (const r of ROUTES) {
        const res = await call(r, ids, agent);
        if (r.admin) {
          expect(res.status, `${r.method} ${r.path(ids)}`).toBe(401);
          expect(res.body).toEqual(NOT_AUTHORIZED);
        } else {
          expect(res.status, `${r.method} ${r.path(ids)}`).toBe(200);
        }
      }
      expect(await counts(h)).toEqual(before);
      // the same agent body that is invalid still gets 401, not a 422 about the body
      const res = await h.api('POST', `${A(ids)}/inboxes`, { token: agent.token, body: { name: 5, channel: 'x' } });
      expect(res.status).toBe(401);
    });

    it('administrators can use every route', async () => {
      const { ids, admin } = await world();
      for (const r of ROUTES) {
        const res = await call(r, ids, admin);
        expect(res.status, `${r.method} ${r.path(ids)}: ${res.text}`).toBe(200);
      }
    });

    it('an agent promoted to administrator gains the rights at once, and loses them when demoted', async () => {
      const { ids, admin, agent } = await world();
      const url = `${A(ids)}/inboxes`;
      const body = { name: 'By agent', channel: { type: 'api' } };
      expect((await h.api('POST', url, { token: agent.token, body })).status).toBe(401);
      expect((await h.api('PATCH', `${A(ids)}/agents/${agent.id}`, { token: admin.token, body: { role: 'administrator' } })).body.role).toBe(
        'administrator',
      );
      expect((await h.api('POST', url, { token: agent.token, body })).status).toBe(200);
      await h.api('PATCH', `${A(ids)}/agents/${agent.id}`, { token: admin.token, body: { agent: { role: 'agent' } } });
      expect((await h.api('POST', url, { token: agent.token, body })).status).toBe(401);
    });
  });

  describe('account isolation', () => {
    it("a user of account A gets 401 on every route of account B, and B is untouched", async () => {
      const a = await world();
      const b = await world();
      const before = await counts(h);
      for (const user of [a.admin, a.agent]) {
        for (const r of ROUTES) {
          const res = await call(r, b.ids, user);
          expect(res.status, `${r.method} ${r.path(b.ids)}`).toBe(401);
          expect(res.body).toEqual(NOT_AUTHORIZED);
        }
      }
      expect(await counts(h)).toEqual(before);
      const inbox = await h.api('GET', `${A(b.ids)}/inboxes/${b.ids.inboxId}`, { token: b.admin.token });
      expect(inbox.body.name).toBe('API Channel');
    });

    it("B's ids inside A's path are 404 (422 for user ids), and nothing is written", async () => {
      const a = await world();
      const b = await world();
      const before = await counts(h);
      const mixed: Ids = { accountId: a.ids.accountId, inboxId: b.ids.inboxId, agentId: b.ids.agentId, otherId: b.ids.otherId };
      const byId = ROUTES.filter((r) => /\/(agents|inboxes|inbox_members)\/\d+/.test(r.path(mixed)));
      expect(byId.length).toBe(9);
      for (const r of byId) {
        const res = await call(r, mixed, a.admin);
        expect(res.status, `${r.method} ${r.path(mixed)}`).toBe(404);
        expect(res.body).toEqual(NOT_FOUND);
      }
      // membership changes: B's inbox is not found; B's users are not agents of A
      for (const method of ['POST', 'PATCH', 'DELETE']) {
        const url = `${A(a.ids)}/inbox_members`;
        const wrongInbox = await h.api(method, url, { token: a.admin.token, body: { inbox_id: b.ids.inboxId, user_ids: [a.ids.agentId] } });
        expect(wrongInbox.status).toBe(404);
        const wrongUsers = await h.api(method, url, {
          token: a.admin.token,
          body: { inbox_id: a.ids.inboxId, user_ids: [a.ids.otherId, b.ids.agentId] },
        });
        expect(wrongUsers.status).toBe(422);
        expect(wrongUsers.body.attributes).toEqual(['user_ids']);
      }
      expect(await counts(h)).toEqual(before);
      const members = await h.api('GET', `${A(b.ids)}/inbox_members/${b.ids.inboxId}`, { token: b.admin.token });
      expect(members.body.payload.map((m: { id: number }) => m.id)).toEqual([b.ids.agentId]);
    });

    it('every account route in the OpenAPI document refuses another account (401/404), and ROUTES covers ours', async () => {
      const a = await world();
      const b = await world();
      const doc = (await h.api('GET', '/api-docs/json')).body;
      const key = (method: string, path: string) => `${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '{}')}`;
      const zero: Ids = { accountId: 0, inboxId: 0, agentId: 0, otherId: 0 };
      const listed = new Set(ROUTES.map((r) => key(r.method, r.path(zero).replace(/\/0(?=\/|$)/g, '/{x}'))));
      const ours = /^\/api\/v1\/accounts\/\{account_id\}(\/(agents|inboxes|inbox_members)(\/\{[^}]+\}(\/reset_secret)?)?)?$/;
      const before = await counts(h);
      const violations: string[] = [];
      const unlisted: string[] = [];
      let checked = 0;
      for (const [path, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
        if (!path.startsWith('/api/v1/accounts/{account_id}')) continue;
        for (const method of Object.keys(item)) {
          if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
          const url = path.replace('{account_id}', String(b.ids.accountId)).replace(/\{[^}]+\}/g, String(b.ids.inboxId));
          for (const user of [a.admin, a.agent]) {
            const res = await h.api(method.toUpperCase(), url, { token: user.token, body: method === 'get' ? undefined : {} });
            if (![401, 404].includes(res.status)) violations.push(`${method.toUpperCase()} ${url} → ${res.status} ${res.text.slice(0, 100)}`);
          }
          checked++;
          if (ours.test(path) && !listed.has(key(method, path))) unlisted.push(key(method, path));
        }
      }
      expect(unlisted, 'routes of this module missing from ROUTES').toEqual([]);
      expect(violations, 'account routes that answer a non-member with something else than 401/404').toEqual([]);
      expect(checked).toBeGreaterThanOrEqual(ROUTES.length);
      expect(await counts(h)).toEqual(before);
    });
  });
});

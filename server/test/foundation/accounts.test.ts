import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { multipart } from './helpers.js';

describeEachDb('account, request bodies and OpenAPI', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect, { BODY_LIMIT_BYTES: String(64 * 1024) });
  });
  afterAll(() => h.close());

  describe('account', () => {
    it('shows the account to any member', async () => {
      const { accountId } = await h.account({ name: 'Acme' });
      const agent = await h.user(accountId);
      const r = await h.api('GET', `/api/v1/accounts/${accountId}`, { token: agent.token });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: accountId, name: 'Acme', locale: 'en', domain: null, support_email: null, status: 'active', settings: {}, custom_attributes: {} });
      expect(Date.parse(r.body.created_at)).toBeGreaterThan(0);
    });

    it('lets administrators edit it, merging settings', async () => {
      const { accountId, admin } = await h.account();
      const url = `/api/v1/accounts/${accountId}`;
      const a = await h.api('PATCH', url, {
        token: admin.token,
        body: { name: 'Renamed', locale: 'pt_BR', domain: 'mail.example.com', support_email: 'Help@Example.com', settings: { auto_resolve_after: 60 } },
      });
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ name: 'Renamed', locale: 'pt_BR', domain: 'mail.example.com', support_email: 'help@example.com', settings: { auto_resolve_after: 60 } });
      const b = await h.api('PATCH', url, { token: admin.token, body: { account: { settings: { reporting_timezone: 'UTC' } } } });
      expect(b.body.settings).toEqual({ auto_resolve_after: 60, reporting_timezone: 'UTC' });
      const mp = multipart({ 'settings': '{"audio_transcriptions":true}', domain: '' });
      const c = await h.api('PATCH', url, { token: admin.token, body: mp.body, headers: mp.headers });
      expect(c.status).toBe(200);
      expect(c.body).toMatchObject({ domain: null, settings: { auto_resolve_after: 60, reporting_timezone: 'UTC', audio_transcriptions: true } });
    });

    it('refuses invalid edits with 422, changing nothing', async () => {
      const { accountId, admin } = await h.account({ name: 'Stable' });
      const url = `/api/v1/accounts/${accountId}`;
      for (const body of [
        { name: '' },
        { name: '   ' },
        { name: 'x'.repeat(256) },
        { locale: 'not a locale' },
        { domain: 'd'.repeat(101) },
        { support_email: 'nope' },
        { settings: 'not json' },
        { settings: '[1]' },
        { settings: { big: 'x'.repeat(30_000) } },
        { name: 'ok', support_email: 'nope' },
      ]) {
        const r = await h.api('PATCH', url, { token: admin.token, body });
        expect(r.status, JSON.stringify(body).slice(0, 60)).toBe(422);
        expect(r.body.error).toBeTypeOf('string');
      }
      const r = await h.api('GET', url, { token: admin.token });
      expect(r.body).toMatchObject({ name: 'Stable', locale: 'en', settings: {} });
    });
  });

  describe('request bodies', () => {
    it('answers malformed and oversized bodies with 4xx JSON, never 500', async () => {
      const { accountId, admin } = await h.account();
      const url = `/api/v1/accounts/${accountId}/inboxes`;
      const cases: { body: string; headers: Record<string, string>; status: number[] }[] = [
        { body: '{"name":', headers: { 'content-type': 'application/json' }, status: [400] },
        { body: '{"name": "x", "channel": {"type": "api"}', headers: { 'content-type': 'application/json' }, status: [400] },
        { body: 'null', headers: { 'content-type': 'application/json' }, status: [422] },
        { body: '12', headers: { 'content-type': 'application/json' }, status: [422] },
        { body: '<xml/>', headers: { 'content-type': 'application/xml' }, status: [415] },
        { body: JSON.stringify({ name: 'x'.repeat(70 * 1024), channel: { type: 'api' } }), headers: { 'content-type': 'application/json' }, status: [413] },
        { body: `name=${'x'.repeat(70 * 1024)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: [413] },
        { body: '{"name":"a","channel":{"type":"api"},"__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' }, status: [200, 400, 422] },
        { body: '--x\r\nbroken', headers: { 'content-type': 'multipart/form-data; boundary=x' }, status: [400, 413, 415, 422] },
      ];
      for (const c of cases) {
        const r = await h.api('POST', url, { token: admin.token, body: c.body, headers: c.headers });
        expect(c.status, `${c.headers['content-type']} ${c.body.slice(0, 40)} → ${r.status} ${r.text.slice(0, 120)}`).toContain(r.status);
        expect(r.body?.error ?? (r.status === 200 ? 'ok' : undefined)).toBeTypeOf('string');
      }
      // an empty body with a JSON content type is an empty object (so: name missing → 422)
      const empty = await h.api('POST', url, { token: admin.token, body: '', headers: { 'content-type': 'application/json' } });
      expect(empty.status).toBe(422);
      const profile = await h.api('PUT', '/api/v1/profile', { token: admin.token, body: '', headers: { 'content-type': 'application/json' } });
      expect(profile.status).toBe(200);
    });

    it('refuses NUL characters (PostgreSQL cannot store them) with 422 on every text field', async () => {
      const { accountId, admin } = await h.account();
      const inbox = await h.inbox(accountId);
      const agent = await h.user(accountId);
      const nul = 'a\u0000b';
      const a = `/api/v1/accounts/${accountId}`;
      const cases: [string, string, unknown][] = [
        ['POST', '/auth/sign_in', { email: `x${nul}@example.com`, password: 'password123' }],
        ['PUT', '/api/v1/profile', { profile: { name: nul } }],
        ['PUT', '/api/v1/profile', { profile: { display_name: nul } }],
        ['PUT', '/api/v1/profile', { profile: { email: `x${nul}@example.com` } }],
        ['PUT', '/api/v1/profile', { profile: { message_signature: nul } }],
        ['PATCH', a, { name: nul }],
        ['PATCH', a, { domain: nul }],
        ['POST', `${a}/agents`, { name: nul, email: 'nul@example.com' }],
        ['POST', `${a}/agents`, { name: 'N', email: `nul${nul}@example.com` }],
        ['PATCH', `${a}/agents/${agent.id}`, { name: nul }],
        ['POST', `${a}/inboxes`, { name: 'N', channel: { type: 'api', webhook_url: `https://example.com/${nul}` } }],
        ['PATCH', `${a}/inboxes/${inbox.id}`, { greeting_message: nul }],
        ['PATCH', `${a}/inboxes/${inbox.id}`, { business_name: nul }],
        ['PATCH', `${a}/inboxes/${inbox.id}`, { timezone: nul }],
      ];
      for (const [method, url, body] of cases) {
        const r = await h.api(method, url, { token: admin.token, body });
        expect(r.status, `${method} ${url} ${JSON.stringify(body)}`).toBe(422);
      }
    });

    it('accepts a trailing slash and ids sent as strings', async () => {
      const { accountId, admin } = await h.account();
      const inbox = await h.inbox(accountId);
      expect((await h.api('GET', `/api/v1/accounts/${accountId}/inboxes/`, { token: admin.token })).status).toBe(200);
      expect((await h.api('GET', `/api/v1/accounts/${accountId}/inboxes/${inbox.id}/`, { token: admin.token })).body.id).toBe(inbox.id);
      expect((await h.api('GET', `/api/v1/accounts/0${accountId}/agents`, { token: admin.token })).status).toBe(200);
      expect((await h.api('GET', `/api/v1/accounts/abc/agents`, { token: admin.token })).status).toBe(404);
      expect((await h.api('GET', `/api/v1/accounts/abc/agents`, { token: 'bad' })).status).toBe(401);
      expect((await h.api('GET', `/api/v1/accounts/99999999999/agents`, { token: admin.token })).status).toBe(404);
    });
  });

  it('documents every route of this module in the OpenAPI document, with tags and summaries', async () => {
    const doc = (await h.api('GET', '/api-docs/json')).body;
    const expected: [string, string][] = [
      ['post', '/auth/sign_in'],
      ['delete', '/auth/sign_out'],
      ['get', '/auth/invitations/{token}'],
      ['post', '/auth/invitations/{token}'],
      ['get', '/api/v1/profile'],
      ['put', '/api/v1/profile'],
      ['post', '/api/v1/profile/reset_access_token'],
      ['get', '/api/v1/accounts/{account_id}'],
      ['patch', '/api/v1/accounts/{account_id}'],
      ['get', '/api/v1/accounts/{account_id}/agents'],
      ['post', '/api/v1/accounts/{account_id}/agents'],
      ['patch', '/api/v1/accounts/{account_id}/agents/{id}'],
      ['delete', '/api/v1/accounts/{account_id}/agents/{id}'],
      ['get', '/api/v1/accounts/{account_id}/inboxes'],
      ['post', '/api/v1/accounts/{account_id}/inboxes'],
      ['get', '/api/v1/accounts/{account_id}/inboxes/{id}'],
      ['patch', '/api/v1/accounts/{account_id}/inboxes/{id}'],
      ['delete', '/api/v1/accounts/{account_id}/inboxes/{id}'],
      ['post', '/api/v1/accounts/{account_id}/inboxes/{id}/reset_secret'],
      ['get', '/api/v1/accounts/{account_id}/inbox_members/{inbox_id}'],
      ['post', '/api/v1/accounts/{account_id}/inbox_members'],
      ['patch', '/api/v1/accounts/{account_id}/inbox_members'],
      ['delete', '/api/v1/accounts/{account_id}/inbox_members'],
    ];
    for (const [method, path] of expected) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.tags?.length, `${method} ${path} tags`).toBeGreaterThan(0);
      expect(op.summary, `${method} ${path} summary`).toBeTypeOf('string');
    }
    const create = doc.paths['/api/v1/accounts/{account_id}/inboxes'].post;
    expect(JSON.stringify(create.requestBody)).toContain('webhook_url');
    expect(JSON.stringify(create.responses['200'])).toContain('inbox_identifier');
    expect(doc.paths['/auth/sign_in'].post.security).toEqual([]);
  });
});

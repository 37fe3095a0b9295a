import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer, type TestUser } from '../support/harness.js';

/**
 * Canned responses (issue 12): members list (with `search` over short_code and content, ordered as
 * the reference does) and create; administrators update and delete; short_code unique per account;
 * bounded sizes; other accounts' responses are invisible.
 */
describeEachDb('canned responses', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let grace: TestUser; // administrator
  let ada: TestUser; // agent

  beforeAll(async () => {
    h = await startTestServer(dialect);
    ({ accountId } = await h.account());
    grace = await h.user(accountId, { name: 'Grace Hopper', role: 'administrator' });
    ada = await h.user(accountId, { name: 'Ada Lovelace' });
  });
  afterAll(() => h?.close());

  const base = () => `/api/v1/accounts/${accountId}`;
  const api = (method: string, path: string, token: string, body?: unknown) => h.api(method, `${base()}${path}`, { token, body });

  it('create (agents too), list as a bare array, update and delete (administrators); short_code unique; bounded', async () => {
    const created = await api('POST', '/canned_responses', ada.token, { canned_response: { short_code: 'hello', content: 'Hello! How can I help?' } });
    expect(created.status, created.text).toBe(200);
    expect(created.body).toEqual({
      id: expect.any(Number),
      account_id: accountId,
      short_code: 'hello',
      content: 'Hello! How can I help?',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const id = created.body.id;
    // Unwrapped fields work too; "Hello" is another short code than "hello" (as typed).
    expect((await api('POST', '/canned_responses', grace.token, { short_code: 'Hello', content: 'Hi there' })).status).toBe(200);

    for (const [body, attr] of [
      [{ short_code: 'hello', content: 'again' }, 'short_code'],
      [{ short_code: '  ', content: 'x' }, 'short_code'],
      [{ content: 'no code' }, 'short_code'],
      [{ short_code: 'empty' }, 'content'],
      [{ short_code: 'blank', content: '   ' }, 'content'],
      [{ short_code: 'x'.repeat(256), content: 'long code' }, 'short_code'],
      [{ short_code: 'long', content: 'x'.repeat(20_001) }, 'content'],
    ] as const) {
      const r = await api('POST', '/canned_responses', grace.token, { canned_response: body });
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(422);
      // Schema errors name the field by its path in the body (canned_response.short_code).
      expect(r.body.attributes, JSON.stringify(body).slice(0, 80)).toEqual([expect.stringMatching(new RegExp(`(^|\\.)${attr}$`))]);
    }

    const list = await api('GET', '/canned_responses', ada.token);
    expect(list.status).toBe(200);
    expect(list.body.map((c: any) => c.short_code)).toEqual(['hello', 'Hello']);

    // Agents cannot change or delete (401); administrators can.
    expect((await api('PATCH', `/canned_responses/${id}`, ada.token, { content: 'mine' })).status).toBe(401);
    expect((await api('DELETE', `/canned_responses/${id}`, ada.token)).status).toBe(401);
    const upd = await api('PATCH', `/canned_responses/${id}`, grace.token, { canned_response: { content: 'Hello, {{contact.name}}!' } });
    expect(upd.status, upd.text).toBe(200);
    expect(upd.body).toMatchObject({ id, short_code: 'hello', content: 'Hello, {{contact.name}}!' });
    expect((await api('PUT', `/canned_responses/${id}`, grace.token, { short_code: 'Hello' })).body).toMatchObject({ message: 'Short code has already been taken', attributes: ['short_code'] });
    expect((await api('PUT', `/canned_responses/${id}`, grace.token, { short_code: 'greet' })).body.short_code).toBe('greet');

    // Other accounts: invisible, 404.
    const other = await h.account();
    const foreign = await h.api('POST', `/api/v1/accounts/${other.accountId}/canned_responses`, { token: other.admin.token, body: { short_code: 'greet', content: 'theirs' } });
    expect(foreign.status).toBe(200);
    expect((await api('GET', '/canned_responses', grace.token)).body.map((c: any) => c.content)).not.toContain('theirs');
    expect((await api('PATCH', `/canned_responses/${foreign.body.id}`, grace.token, { content: 'x' })).status).toBe(404);
    expect((await api('DELETE', `/canned_responses/${foreign.body.id}`, grace.token)).status).toBe(404);
    expect((await h.api('GET', `/api/v1/accounts/${other.accountId}/canned_responses`, { token: ada.token })).status).toBe(401);

    const del = await api('DELETE', `/canned_responses/${id}`, grace.token);
    expect([del.status, del.text]).toEqual([200, '']);
    expect((await api('DELETE', `/canned_responses/${id}`, grace.token)).status).toBe(404);
    expect((await api('GET', '/canned_responses', grace.token)).body.map((c: any) => c.short_code)).toEqual(['Hello']);
  });

  it('search: case-insensitive over short_code and content; short_code prefix first, then short_code, then content; LIKE characters are literal', async () => {
    const { accountId: acc, admin } = await h.account();
    const add = async (short_code: string, content: string) =>
      expect((await h.api('POST', `/api/v1/accounts/${acc}/canned_responses`, { token: admin.token, body: { short_code, content } })).status).toBe(200);
    await add('thanks', 'Thank you for your patience');
    await add('refund-policy', 'Our refund window is 30 days');
    await add('ship', 'Shipping takes 3 days; a REFUND is possible');
    await add('myrefund', 'Your request is noted');
    await add('pct', '100% sure, under_score');
    const search = async (q: string) => {
      const r = await h.api('GET', `/api/v1/accounts/${acc}/canned_responses?search=${encodeURIComponent(q)}`, { token: admin.token });
      expect(r.status, r.text).toBe(200);
      return (r.body as any[]).map((c) => c.short_code);
    };
    expect(await search('REFUND')).toEqual(['refund-policy', 'myrefund', 'ship']);
    expect(await search('days')).toEqual(['refund-policy', 'ship']);
    expect(await search('%')).toEqual(['pct']);
    expect(await search('_')).toEqual(['pct']);
    expect(await search('-')).toEqual(['refund-policy']);
    expect(await search('nothing like it')).toEqual([]);
    expect(await search('')).toHaveLength(5);
    expect((await h.api('GET', `/api/v1/accounts/${acc}/canned_responses?search=${'x'.repeat(256)}`, { token: admin.token })).status).toBe(422);
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { enqueue, startReceiver, waitForStatus, type Receiver } from './support.js';

describeEachDb('account webhooks and the delivery log (routes)', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  let accountId: number;
  let token: string;
  let agentToken: string;
  let other: { accountId: number; token: string };

  beforeAll(async () => {
    h = await startTestServer(dialect, { WEBHOOK_RETRY_SCHEDULE: '0.1' });
    rx = await startReceiver();
    const a = await h.account();
    accountId = a.accountId;
    token = a.admin.token;
    agentToken = (await h.user(accountId, { role: 'agent' })).token;
    const b = await h.account();
    other = { accountId: b.accountId, token: b.admin.token };
  });
  afterAll(async () => {
    await rx.close();
    await h.close();
  });

  const path = (p = '') => `/api/v1/accounts/${accountId}/webhooks${p}`;

  it('creates, lists, updates and deletes webhooks (wrapped or unwrapped bodies)', async () => {
    const inbox = await h.inbox(accountId, { name: 'Filtered' });
    const c = await h.api('POST', path(), {
      token,
      body: { webhook: { url: 'https://example.com/a', name: 'A', inbox_id: inbox.id, subscriptions: ['message_created', 'inbox_created'] } },
    });
    expect(c.status).toBe(200);
    const w = c.body.payload.webhook;
    expect(w).toMatchObject({
      name: 'A',
      url: 'https://example.com/a',
      account_id: accountId,
      subscriptions: ['message_created', 'inbox_created'],
      inbox: { id: inbox.id, name: 'Filtered' },
    });
    expect(w.secret).toMatch(/^whsec_/);

    const plain = await h.api('POST', path(), { token, body: { url: 'http://example.com/b' } });
    expect(plain.status).toBe(200);
    expect(plain.body.payload.webhook.subscriptions).toContain('message_created');
    expect(plain.body.payload.webhook.inbox).toBeUndefined();

    const form = await h.api('POST', path(), {
      token,
      body: 'webhook[url]=https://example.com/form&webhook[subscriptions][]=contact_created&webhook[subscriptions][]=contact_updated',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(200);
    expect(form.body.payload.webhook.subscriptions).toEqual(['contact_created', 'contact_updated']);

    const list = await h.api('GET', path(), { token });
    expect(list.status).toBe(200);
    expect(list.body.payload.webhooks.map((x: any) => x.url)).toEqual(['https://example.com/a', 'http://example.com/b', 'https://example.com/form']);

    const u = await h.api('PATCH', path(`/${w.id}`), { token, body: { webhook: { inbox_id: null, subscriptions: ['conversation_created'] } } });
    expect(u.status).toBe(200);
    expect(u.body.payload.webhook).toMatchObject({ url: 'https://example.com/a', subscriptions: ['conversation_created'] });
    expect(u.body.payload.webhook.inbox).toBeUndefined();
    expect(u.body.payload.webhook.secret).toBe(w.secret);

    const d = await h.api('DELETE', path(`/${w.id}`), { token });
    expect(d.status).toBe(200);
    expect((await h.api('PATCH', path(`/${w.id}`), { token, body: { name: 'x' } })).status).toBe(404);
    expect((await h.api('DELETE', path(`/${w.id}`), { token })).status).toBe(404);
  });

  it('validates url, uniqueness, subscriptions and inbox with 422 JSON', async () => {
    const bad = async (body: unknown) => {
      const r = await h.api('POST', path(), { token, body });
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(typeof r.body.error).toBe('string');
      return r.body;
    };
    expect((await bad({ url: 'ftp://example.com/x' })).attributes).toEqual(['url']);
    expect((await bad({ url: 'not a url' })).attributes).toEqual(['url']);
    expect((await bad({ name: 'no url' })).attributes).toEqual(['url']);
    await h.api('POST', path(), { token, body: { url: 'https://example.com/dup' } });
    expect((await bad({ url: 'https://example.com/dup' })).message).toBe('Url has already been taken');
    expect((await bad({ url: 'https://example.com/s1', subscriptions: [] })).attributes).toEqual(['subscriptions']);
    expect((await bad({ url: 'https://example.com/s2', subscriptions: ['message_created', 'nope'] })).attributes).toEqual(['subscriptions']);
    const foreign = await h.inbox(other.accountId);
    expect((await bad({ url: 'https://example.com/i', inbox_id: foreign.id })).attributes).toEqual(['inbox_id']);
    expect((await bad({ url: 'https://example.com/i', inbox_id: 'abc' })).error).toBeTruthy();
    // The same URL in another account is fine.
    const o = await h.api('POST', `/api/v1/accounts/${other.accountId}/webhooks`, { token: other.token, body: { url: 'https://example.com/dup' } });
    expect(o.status).toBe(200);
    // A PATCH onto a taken URL is refused too.
    const mine = await h.api('POST', path(), { token, body: { url: 'https://example.com/mine' } });
    const p = await h.api('PATCH', path(`/${mine.body.payload.webhook.id}`), { token, body: { url: 'https://example.com/dup' } });
    expect(p.status).toBe(422);
  });

  it('is for administrators of the account only', async () => {
    const w = (await h.api('POST', path(), { token, body: { url: 'https://example.com/admin-only' } })).body.payload.webhook;
    for (const [method, p] of [
      ['GET', path()],
      ['POST', path()],
      ['PATCH', path(`/${w.id}`)],
      ['DELETE', path(`/${w.id}`)],
      ['POST', path(`/${w.id}/reset_secret`)],
      ['GET', path(`/${w.id}/deliveries`)],
    ] as const) {
      expect((await h.api(method, p, { token: agentToken, body: { url: 'https://example.com/z' } })).status, `${method} ${p}`).toBe(401);
      expect((await h.api(method, p, { token: other.token, body: { url: 'https://example.com/z' } })).status, `${method} ${p}`).toBe(401);
      expect((await h.api(method, p, { body: {} })).status).toBe(401);
    }
    // Another account's webhook id through one's own account is not found.
    const theirs = (await h.api('POST', `/api/v1/accounts/${other.accountId}/webhooks`, { token: other.token, body: { url: 'https://example.com/theirs' } })).body
      .payload.webhook;
    expect((await h.api('PATCH', path(`/${theirs.id}`), { token, body: { name: 'mine now' } })).status).toBe(404);
    expect((await h.api('GET', path(`/${theirs.id}/deliveries`), { token })).status).toBe(404);
    expect((await h.api('POST', path(`/${theirs.id}/reset_secret`), { token })).status).toBe(404);
  });

  it('pages and filters the delivery logs of an inbox and of a webhook; redelivery is scoped', async () => {
    rx.respond = (r) => (r.json?.n % 2 ? { status: 500, body: 'nope' } : { status: 200, body: 'yes' });
    const inbox = await h.inbox(accountId, { webhook_url: rx.url });
    const ids: string[] = [];
    for (let n = 0; n < 30; n++) ids.push(await enqueue(h, { accountId, type: 'inbox', endpointId: inbox.id, payload: { event: 'message_created', n } }));
    for (const id of ids) await waitForStatus(h, id, (Number(ids.indexOf(id)) % 2 ? 'failed' : 'succeeded'));

    const base = `/api/v1/accounts/${accountId}/inboxes/${inbox.id}/webhook_deliveries`;
    const p1 = await h.api('GET', base, { token });
    expect(p1.status).toBe(200);
    expect(p1.body.meta).toEqual({ count: 30, current_page: 1, total_pages: 2 });
    expect(p1.body.payload).toHaveLength(25);
    const first = p1.body.payload[0];
    expect(first.delivery_id).toBe(ids[29]);
    expect(first).toMatchObject({ event: 'message_created', status: 'failed', next_attempt_at: null });
    expect(first.attempts).toHaveLength(2);
    expect(first.attempts[0]).toMatchObject({ attempt: 1, status_code: 500, response_snippet: 'nope', error: '500 Internal Server Error' });
    expect(typeof first.attempts[0].duration_ms).toBe('number');
    expect(typeof first.attempts[0].started_at).toBe('number');
    expect(typeof first.created_at).toBe('number');

    const p2 = await h.api('GET', `${base}?page=2`, { token });
    expect(p2.body.payload).toHaveLength(5);
    expect(p2.body.meta.current_page).toBe(2);
    const ok = await h.api('GET', `${base}?status=succeeded`, { token });
    expect(ok.body.meta.count).toBe(15);
    expect(ok.body.payload.every((d: any) => d.status === 'succeeded' && d.attempts.length === 1)).toBe(true);
    expect((await h.api('GET', `${base}?status=bogus`, { token })).status).toBe(422);
    expect((await h.api('GET', base, { token: agentToken })).status).toBe(401);
    expect((await h.api('GET', `/api/v1/accounts/${other.accountId}/inboxes/${inbox.id}/webhook_deliveries`, { token: other.token })).status).toBe(404);

    const w = (await h.api('POST', path(), { token, body: { url: `${rx.url}?log` } })).body.payload.webhook;
    const wid = await enqueue(h, { accountId, type: 'webhook', endpointId: w.id, payload: { n: 2 } });
    await waitForStatus(h, wid, 'succeeded');
    const wl = await h.api('GET', path(`/${w.id}/deliveries`), { token });
    expect(wl.body.meta.count).toBe(1);
    expect(wl.body.payload[0]).toMatchObject({ delivery_id: wid, status: 'succeeded', payload: { n: 2 } });

    // Redelivery: admin of the owning account only.
    const row = first.id;
    expect((await h.api('POST', `/api/v1/accounts/${accountId}/webhook_deliveries/${row}/redeliver`, { token: agentToken })).status).toBe(401);
    expect((await h.api('POST', `/api/v1/accounts/${other.accountId}/webhook_deliveries/${row}/redeliver`, { token: other.token })).status).toBe(404);
    const notAnId = await h.api('POST', `/api/v1/accounts/${accountId}/webhook_deliveries/nope/redeliver`, { token });
    expect([notAnId.status, notAnId.body]).toEqual([404, { error: 'Resource could not be found' }]);
    expect((await h.api('POST', `/api/v1/accounts/${accountId}/webhook_deliveries/msg_unknown/redeliver`, { token })).status).toBe(404);
  });

  it('documents the routes in OpenAPI under the Webhooks tag', async () => {
    const doc = (await h.api('GET', '/api-docs/json')).body;
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/api/v1/accounts/{account_id}/webhooks',
      '/api/v1/accounts/{account_id}/webhooks/{id}',
      '/api/v1/accounts/{account_id}/webhooks/{id}/reset_secret',
      '/api/v1/accounts/{account_id}/webhooks/{id}/deliveries',
      '/api/v1/accounts/{account_id}/inboxes/{inbox_id}/webhook_deliveries',
      '/api/v1/accounts/{account_id}/webhook_deliveries/{id}/redeliver',
    ]) {
      expect(paths).toContain(p);
    }
    expect(doc.paths['/api/v1/accounts/{account_id}/webhooks'].post.tags).toEqual(['Webhooks']);
  });
});

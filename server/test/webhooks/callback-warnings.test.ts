import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { privateCallback } from '../../src/webhooks/callback-check.js';

/**
 * Issue 14 item 2: a callback URL the SSRF guard would refuse (WEBHOOK_ALLOW_PRIVATE_NETWORK=false)
 * is stored, and the inbox / webhook JSON says so in `warnings`; nothing is said for a public
 * address, a host that cannot be looked up, or when private networks are allowed.
 */
describeEachDb('callback URL warnings', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let token: string;

  beforeAll(async () => {
    h = await startTestServer(dialect, { WEBHOOK_ALLOW_PRIVATE_NETWORK: 'false' });
    const a = await h.account();
    accountId = a.accountId;
    token = a.admin.token;
  });
  afterAll(() => h.close());

  const api = (method: string, p: string, body?: unknown, as = token) => h.api(method, `/api/v1/accounts/${accountId}${p}`, { token: as, body });
  const warning = (field: string, address: string, reason: string) => ({
    code: 'private_network',
    field,
    address,
    reason,
    host: expect.any(String),
    message: expect.stringContaining('deliveries to it are refused while WEBHOOK_ALLOW_PRIVATE_NETWORK=false'),
  });

  it('inbox: a loopback callback is stored and warned about on create, update and show (administrators only)', async () => {
    const created = await api('POST', '/inboxes', { name: 'Local', channel: { type: 'api', webhook_url: 'http://127.0.0.1:4000/hook' } });
    expect(created.status, created.text).toBe(200);
    expect(created.body.webhook_url).toBe('http://127.0.0.1:4000/hook');
    expect(created.body.warnings).toEqual([warning('webhook_url', '127.0.0.1', 'loopback')]);
    expect(created.body.warnings[0].message).toMatch(/^The callback URL's host 127\.0\.0\.1 is a loopback address: /);
    const id = created.body.id;

    const shown = await api('GET', `/inboxes/${id}`);
    expect(shown.body.warnings).toEqual([warning('webhook_url', '127.0.0.1', 'loopback')]);
    const agent = await h.user(accountId);
    await h.api('POST', `/api/v1/accounts/${accountId}/inbox_members`, { token, body: { inbox_id: id, user_ids: [agent.id] } });
    const asAgent = await api('GET', `/inboxes/${id}`, undefined, agent.token);
    expect(asAgent.status).toBe(200);
    expect(asAgent.body).not.toHaveProperty('warnings');
    const list = await api('GET', '/inboxes');
    expect(list.body.payload.find((i: { id: number }) => i.id === id)).not.toHaveProperty('warnings');

    for (const [url, address, reason] of [
      ['http://[::1]:8080/cb', '::1', 'loopback'],
      ['https://10.1.2.3/cb', '10.1.2.3', 'private'],
      ['http://169.254.169.254/latest', '169.254.169.254', 'linkLocal'],
      ['http://[::ffff:192.168.0.10]/cb', '::ffff:c0a8:a', 'private'],
    ]) {
      const r = await api('PATCH', `/inboxes/${id}`, { channel: { webhook_url: url } });
      expect(r.status, r.text).toBe(200);
      expect(r.body.webhook_url).toBe(url);
      expect(r.body.warnings, url).toEqual([warning('webhook_url', address, reason)]);
    }
    // A host name is judged by what it resolves to.
    const named = await api('PATCH', `/inboxes/${id}`, { channel: { webhook_url: 'http://localhost:3000/cb' } });
    expect(named.body.warnings).toHaveLength(1);
    expect(named.body.warnings[0]).toMatchObject({ host: 'localhost', reason: 'loopback' });
    expect(named.body.warnings[0].message).toMatch(/^The callback URL's host localhost resolves to \S+ \(loopback\): /);
    // An update that leaves the URL alone still says it.
    expect((await api('PATCH', `/inboxes/${id}`, { name: 'Local again' })).body.warnings).toHaveLength(1);
    expect((await api('POST', `/inboxes/${id}/reset_secret`)).body.warnings).toHaveLength(1);
  });

  it('inbox: nothing to say for a public address, an unresolvable host or no callback', async () => {
    const created = await api('POST', '/inboxes', { name: 'Public', channel: { type: 'api', webhook_url: 'https://93.184.215.14/hook' } });
    expect(created.status).toBe(200);
    expect(created.body).not.toHaveProperty('warnings');
    const id = created.body.id;
    for (const url of ['http://no-such-host.invalid/cb', 'https://[2606:4700:4700::1111]/cb', null]) {
      const r = await api('PATCH', `/inboxes/${id}`, { channel: { webhook_url: url } });
      expect(r.status, r.text).toBe(200);
      expect(r.body, String(url)).not.toHaveProperty('warnings');
    }
  });

  it('account webhook: warned on create, update and in the list; stored either way', async () => {
    const created = await api('POST', '/webhooks', { url: 'http://192.168.1.20/events', subscriptions: ['message_created'] });
    expect(created.status, created.text).toBe(200);
    const w = created.body.payload.webhook;
    expect(w.url).toBe('http://192.168.1.20/events');
    expect(w.warnings).toEqual([warning('url', '192.168.1.20', 'private')]);
    const list = await api('GET', '/webhooks');
    expect(list.body.payload.webhooks.find((x: { id: number }) => x.id === w.id).warnings).toEqual([warning('url', '192.168.1.20', 'private')]);
    const moved = await api('PATCH', `/webhooks/${w.id}`, { url: 'https://93.184.215.14/events' });
    expect(moved.status).toBe(200);
    expect(moved.body.payload.webhook).not.toHaveProperty('warnings');
    const back = await api('PUT', `/webhooks/${w.id}`, { webhook: { url: 'http://127.0.0.2/events' } });
    expect(back.body.payload.webhook.warnings).toEqual([warning('url', '127.0.0.2', 'loopback')]);
    expect((await api('POST', `/webhooks/${w.id}/reset_secret`)).body.payload.webhook.warnings).toHaveLength(1);
    // Bad input is still a 422, with nothing written.
    const bad = await api('POST', '/webhooks', { url: 'ftp://127.0.0.1/x' });
    expect(bad.status).toBe(422);
  });
});

describeEachDb('callback URL warnings with WEBHOOK_ALLOW_PRIVATE_NETWORK=true', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect, { WEBHOOK_ALLOW_PRIVATE_NETWORK: 'true' });
  });
  afterAll(() => h.close());

  it('says nothing about a loopback callback or webhook', async () => {
    const { accountId, admin } = await h.account();
    const api = (method: string, p: string, body?: unknown) => h.api(method, `/api/v1/accounts/${accountId}${p}`, { token: admin.token, body });
    const inbox = await api('POST', '/inboxes', { name: 'Local', channel: { type: 'api', webhook_url: 'http://127.0.0.1:4000/hook' } });
    expect(inbox.status).toBe(200);
    expect(inbox.body).not.toHaveProperty('warnings');
    expect((await api('GET', `/inboxes/${inbox.body.id}`)).body).not.toHaveProperty('warnings');
    const hook = await api('POST', '/webhooks', { url: 'http://localhost:9/events' });
    expect(hook.status).toBe(200);
    expect(hook.body.payload.webhook).not.toHaveProperty('warnings');
  });
});

describe('the host name lookup of a callback check', () => {
  const opts = { allowPrivateNetwork: false, timeoutMs: 100 };

  it('judges every address a name resolves to', async () => {
    expect(await privateCallback('https://hooks.example/cb', { ...opts, lookup: async () => ['93.184.215.14', '10.0.0.7'] })).toEqual({ host: 'hooks.example', address: '10.0.0.7', reason: 'private' });
    expect(await privateCallback('https://hooks.example/cb', { ...opts, lookup: async () => ['93.184.215.14'] })).toBeNull();
  });

  it('cannot tell when the lookup fails or outlasts its bound: no warning, no error', async () => {
    expect(await privateCallback('https://hooks.example/cb', { ...opts, lookup: () => Promise.reject(new Error('ENOTFOUND')) })).toBeNull();
    const started = Date.now();
    // Answers only after the bound (a private address, had it come in time).
    const late = () => new Promise<string[]>((ok) => setTimeout(() => ok(['127.0.0.1']), 400));
    expect(await privateCallback('https://hooks.example/cb', { ...opts, lookup: late })).toBeNull();
    expect(Date.now() - started).toBeLessThan(400);
  });
});

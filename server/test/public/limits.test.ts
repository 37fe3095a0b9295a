import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { PublicClient, freshIp, type Inbox } from './helpers.js';

describeEachDb('client API: abuse limits', (dialect) => {
  let h: TestServer;
  let admin: TestUser;
  let inbox: Inbox;
  let quiet: Inbox;
  const clients: PublicClient[] = [];
  const client = () => {
    const c = new PublicClient(h);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    h = await startTestServer(dialect, { TRUST_PROXY: 'true', PUBLIC_API_LIMIT_PER_IP: '5', PUBLIC_API_LIMIT_PER_INBOX: '12', BODY_LIMIT_BYTES: String(512 * 1024) });
    const acc = await h.account();
    admin = acc.admin;
    inbox = await h.inbox(acc.accountId, { name: 'Busy' });
    quiet = await h.inbox(acc.accountId, { name: 'Quiet' });
  });
  afterAll(() => h?.close());

  describe('rate limits', () => {
    it('per IP: the 6th request in a minute is a 429 JSON with Retry-After; another IP is not affected', async () => {
      const c = client();
      for (let i = 0; i < 5; i++) expect((await c.call('GET', c.base(quiet))).status).toBe(200);
      const r = await c.call('GET', c.base(quiet));
      expect(r.status).toBe(429);
      expect(r.body).toEqual({ error: expect.any(String) });
      const retry = Number(r.headers['retry-after']);
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(60);
      // every client route counts, unknown inboxes and refused requests included
      expect((await c.call('POST', `${c.base(quiet)}/contacts`, { name: 'x' })).status).toBe(429);
      expect((await c.call('GET', '/public/api/v1/inboxes/unknown')).status).toBe(429);
      const other = client();
      expect((await other.call('GET', other.base(quiet))).status).toBe(200);
    });

    it('per inbox: many IPs together are limited at the inbox limit; other inboxes are not', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 14; i++) {
        const c = client();
        statuses.push((await c.call('GET', c.base(inbox))).status);
      }
      expect(statuses.slice(0, 12).every((s) => s === 200)).toBe(true);
      expect(statuses.slice(12)).toEqual([429, 429]);
      const c = client();
      expect((await c.call('GET', c.base(quiet))).status).toBe(200);
    });

    it('does not limit the Application API', async () => {
      const ip = freshIp();
      for (let i = 0; i < 8; i++) {
        const r = await h.api('GET', '/api/v1/profile', { token: admin.token, headers: { 'x-forwarded-for': ip } });
        expect(r.status).toBe(200);
      }
    });
  });

  describe('body and content limits', () => {
    const fresh = async () => {
      const acc = await h.account();
      return h.inbox(acc.accountId);
    };

    it('contact and conversation bodies over 64 KiB are a 413 JSON', async () => {
      const c = client();
      const ib = await fresh();
      const r = await c.call('POST', `${c.base(ib)}/contacts`, { name: 'x', custom_attributes: { big: 'y'.repeat(70 * 1024) } });
      expect(r.status).toBe(413);
      expect(r.body).toEqual({ error: expect.any(String) });
    });

    it('message bodies follow the global limit (BODY_LIMIT_BYTES): 150 000 characters fit', async () => {
      const c = client();
      const ib = await fresh();
      const s = await c.session(ib);
      const conv = await c.conversation(ib, s.source_id);
      const url = `${c.contactUrl(ib, s.source_id)}/conversations/${conv.id}/messages`;
      const r = await c.call('POST', url, { content: 'é'.repeat(150_000) }); // 300 KB of UTF-8
      expect(r.status).toBe(200);
      expect(r.body.content).toHaveLength(150_000);
    });

    it('a message body over the global limit is a 413 JSON', async () => {
      const c = client();
      const ib = await fresh();
      const s = await c.session(ib);
      const conv = await c.conversation(ib, s.source_id);
      const url = `${c.contactUrl(ib, s.source_id)}/conversations/${conv.id}/messages`;
      const r = await c.call('POST', url, { content: '\u0001'.repeat(100_000) }); // 600 KB once JSON-escaped
      expect(r.status).toBe(413);
      expect(r.body).toEqual({ error: expect.any(String) });
    });
  });

  it('no response leaked a token or a secret', async () => {
    for (const c of clients) if (c.responses.length) await c.scanForLeaks([admin.token, inbox.hmac_token, inbox.secret]);
  });
});

import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { blockedReason, parseRetryAfter } from '../../src/webhooks/http-client.js';
import { channelxSignature, newDeliveryId, standardSignature } from '../../src/webhooks/signer.js';
import pkg from '../../package.json' with { type: 'json' };
import { attempts, delivery, deliveryWorker, enqueue, freePort, startReceiver, waitForStatus, waitUntil, type Receiver } from './support.js';

describe('signing and address classification (units)', () => {
  it('computes both signatures as DESIGN §3 says', () => {
    const secret = 'whsec_' + crypto.randomBytes(32).toString('base64');
    const body = '{"event":"message_created"}';
    const ts = 1_700_000_000;
    const expectedHex = crypto.createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
    expect(channelxSignature(secret, ts, body)).toBe(`sha256=${expectedHex}`);
    const sig = standardSignature(secret, 'msg_1', ts, body);
    const wh = new Webhook(secret);
    expect(wh.sign('msg_1', new Date(ts * 1000), body)).toBe(sig);
  });

  it('makes time-ordered, unique delivery ids', () => {
    const a = newDeliveryId(1000);
    const b = newDeliveryId(2000);
    expect(a).toMatch(/^msg_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(a < b).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => newDeliveryId())).size).toBe(1000);
  });

  it('refuses loopback, private, link-local, CGNAT, ULA, metadata, mapped and special addresses', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fc00::1', 'fd00:ec2::254', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:169.254.169.254']) {
      expect(blockedReason(a), a).not.toBeNull();
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(blockedReason(a), a).toBeNull();
  });

  it('judges an IPv6 address that embeds an IPv4 one as that IPv4 address (compatible, mapped, translated, NAT64, 6to4)', () => {
    const embedded: Record<string, string> = {
      '::127.0.0.1': 'loopback',
      '::7f00:1': 'loopback',
      '::10.0.0.1': 'private',
      '::a9fe:a9fe': 'linkLocal',
      '::ffff:0:7f00:1': 'loopback',
      '64:ff9b::7f00:1': 'loopback',
      '64:ff9b::10.1.2.3': 'private',
      '2002:7f00:1::': 'loopback',
      '2002:c0a8:101::1': 'private',
    };
    for (const [a, range] of Object.entries(embedded)) expect(blockedReason(a), a).toBe(range);
    // The same embeddings of a public address are public; :: and ::1 keep their IPv6 meaning.
    for (const a of ['::8.8.8.8', '64:ff9b::808:808', '2002:808:808::1']) expect(blockedReason(a), a).toBeNull();
    expect(blockedReason('::1')).toBe('loopback');
    expect(blockedReason('::')).toBe('unspecified');
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    const at = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', at)).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(undefined)).toBeNull();
  });
});

describeEachDb('webhook delivery engine', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  let accountId: number;
  let token: string;

  beforeAll(async () => {
    h = await startTestServer(dialect, { WEBHOOK_RETRY_SCHEDULE: '0.2,0.2,0.2', WEBHOOK_TIMEOUT_MS: '700' });
    rx = await startReceiver();
    const a = await h.account();
    accountId = a.accountId;
    token = a.admin.token;
  });
  afterAll(async () => {
    await rx.close();
    await h.close();
  });

  const inboxTo = async (url: string) => h.inbox(accountId, { webhook_url: url });
  const reset = (respond: Receiver['respond'] = () => ({ status: 200, body: 'ok' })) => {
    rx.requests.length = 0;
    rx.respond = respond;
  };

  it('POSTs the stored body with both header sets, verifiable by recomputing and by standardwebhooks', async () => {
    reset(() => ({ status: 200, body: 'thanks' }));
    const inbox = await inboxTo(rx.url);
    const payload = { event: 'message_created', id: 42, content: 'héllo ✓' };
    const id = await enqueue(h, { accountId, type: 'inbox', endpointId: inbox.id, payload });
    const [req] = await rx.waitFor(1);
    expect(req.body).toBe(JSON.stringify(payload));
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toBe(`ChannelX-Webhooks/${pkg.version}`);
    expect(req.headers['x-channelx-delivery']).toBe(id);
    expect(req.headers['webhook-id']).toBe(id);
    expect(req.headers['x-channelx-event']).toBe('message_created');
    const ts = Number(req.headers['x-channelx-timestamp']);
    expect(Math.abs(ts - req.at / 1000)).toBeLessThan(5); // signed when sent: compared with the arrival, not with when the test looks
    expect(req.headers['webhook-timestamp']).toBe(String(ts));
    const hex = crypto.createHmac('sha256', inbox.secret).update(`${ts}.${req.body}`).digest('hex');
    expect(req.headers['x-channelx-signature']).toBe(`sha256=${hex}`);
    expect(new Webhook(inbox.secret).verify(req.body, req.headers as Record<string, string>)).toEqual(payload);
    expect(() => new Webhook('whsec_' + crypto.randomBytes(32).toString('base64')).verify(req.body, req.headers as Record<string, string>)).toThrow();
    const d = await waitForStatus(h, id, 'succeeded');
    expect(d.attempts).toBe(1);
    expect(d.last_status_code).toBe(200);
    const log = await attempts(h, id);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ attempt: 1, status_code: 200, response_snippet: 'thanks', error: null });
  });

  it('sends old and new signatures for 24 h after a secret rotation', async () => {
    reset();
    const created = await h.api('POST', `/api/v1/accounts/${accountId}/webhooks`, {
      token,
      body: { webhook: { url: `${rx.url}?rotation`, subscriptions: ['message_created'] } },
    });
    expect(created.status).toBe(200);
    const w = created.body.payload.webhook;
    const rotated = await h.api('POST', `/api/v1/accounts/${accountId}/webhooks/${w.id}/reset_secret`, { token });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.payload.webhook.secret;
    expect(fresh).not.toBe(w.secret);
    expect(fresh).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await enqueue(h, { accountId, type: 'webhook', endpointId: w.id });
    const [req] = await rx.waitFor(1);
    const sigs = String(req.headers['webhook-signature']).split(' ');
    expect(sigs).toHaveLength(2);
    expect(sigs.every((s) => s.startsWith('v1,'))).toBe(true);
    const headers = req.headers as Record<string, string>;
    expect(() => new Webhook(fresh).verify(req.body, headers)).not.toThrow();
    expect(() => new Webhook(w.secret).verify(req.body, headers)).not.toThrow();
    const ts = req.headers['x-channelx-timestamp'];
    expect(req.headers['x-channelx-signature']).toBe(channelxSignature(fresh, Number(ts), req.body));

    // Past the 24 h window only the new secret signs.
    await h.server.ctx.database.db
      .updateTable('webhooks')
      .set({ secret_rotated_at: Date.now() - 25 * 3600 * 1000 })
      .where('id', '=', w.id)
      .execute();
    reset();
    await enqueue(h, { accountId, type: 'webhook', endpointId: w.id });
    const [late] = await rx.waitFor(1);
    expect(String(late.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => new Webhook(w.secret).verify(late.body, late.headers as Record<string, string>)).toThrow();
  });

  it('retries a 500 with the same delivery id, then succeeds', async () => {
    reset((_r, n) => (n < 3 ? { status: 500, body: 'boom' } : { status: 204 }));
    const inbox = await inboxTo(rx.url);
    const id = await enqueue(h, { accountId, type: 'inbox', endpointId: inbox.id });
    const d = await waitForStatus(h, id, 'succeeded');
    expect(rx.requests.map((r) => r.headers['x-channelx-delivery'])).toEqual([id, id, id]);
    expect(new Set(rx.requests.map((r) => r.body)).size).toBe(1);
    expect(d.attempts).toBe(3);
    const log = await attempts(h, id);
    expect(log.map((a) => a.status_code)).toEqual([500, 500, 204]);
    expect(log[0]).toMatchObject({ attempt: 1, response_snippet: 'boom', error: '500 Internal Server Error' });
    // ±10 % jitter around 200 ms between attempts: never earlier; the upper bound only tells the
    // configured schedule from the 5 s default (a loaded machine delays a retry, never advances it).
    const gap = rx.requests[1].at - rx.requests[0].at;
    expect(gap).toBeGreaterThanOrEqual(170);
    expect(gap).toBeLessThan(4000);
  });

  it('retries a timeout with the same delivery id', async () => {
    reset((_r, n) => (n === 1 ? { status: 200, delayMs: 1500 } : { status: 200 }));
    const inbox = await inboxTo(rx.url);
    const id = await enqueue(h, { accountId, type: 'inbox', endpointId: inbox.id });
    await waitForStatus(h, id, 'succeeded');
    expect(rx.requests.map((r) => r.headers['webhook-id'])).toEqual([id, id]);
    const log = await attempts(h, id);
    expect(log[0].status_code).toBeNull();
    expect(log[0].error).toMatch(/timeout after 700 ms/);
    expect(log[0].duration_ms).toBeGreaterThanOrEqual(650);
  });

  it('retries a refused connection with the same delivery id until the receiver is up', async () => {
    const port = await freePort();
    const inbox = await inboxTo(`http://127.0.0.1:${port}/late`);
    const id = await enqueue(h, { accountId, type: 'inbox', endpointId: inbox.id });
    await waitUntil(async () => (await attempts(h, id)).length >= 1, 15_000, 'first attempt');
    const late = await startReceiver(port);
    try {
      await waitForStatus(h, id, 'succeeded');
      expect(late.requests.at(-1)!.headers['x-channelx-delivery']).toBe(id);
      const log = await attempts(h, id);
      expect(log[0].error).toMatch(/ECONNREFUSED/);
      expect(log.at(-1)!.status_code).toBe(200);
    } finally {
      await late.close();
    }
  });

  it('does not follow redirects (a failure)', async () => {
    reset(() => ({ status: 302, headers: { location: 'http://127.0.0.1:1/' } }));
    const inbox = await inboxTo(rx.url);
    const id = await enqueue(h, { accountId, type: 'inbox', endpointId: inbox.id });
    const d = await waitForStatus(h, id, 'failed');
    expect(d.last_error).toMatch(/302 Found \(redirects are not followed\)/);
    expect(rx.requests).toHaveLength(4);
  });

  it('honours Retry-After on 429 and 503 (seconds and HTTP date)', async () => {
    reset((_r, n) =>
      n === 1
        ? { status: 503, headers: { 'retry-after': '1' } }
        : n === 2
          ? { status: 429, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } }
          : { status: 200 },
    );
    const inbox = await inboxTo(rx.url);
    const id = await enqueue(h, { accountId, type: 'inbox', endpointId: inbox.id });
    await waitForStatus(h, id, 'succeeded', 15_000);
    const [a, b, c] = rx.requests;
    expect(b.at - a.at).toBeGreaterThanOrEqual(950);
    expect(c.at - b.at).toBeGreaterThanOrEqual(900); // HTTP dates have 1 s resolution
  });

  it('dead-letters after the last attempt (N delays = N+1 attempts)', async () => {
    reset(() => ({ status: 500 }));
    const inbox = await inboxTo(rx.url);
    const id = await enqueue(h, { accountId, type: 'inbox', endpointId: inbox.id });
    const d = await waitForStatus(h, id, 'failed');
    expect(d.attempts).toBe(4);
    expect(d.next_attempt_at).toBeNull();
    expect(d.completed_at).not.toBeNull();
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.requests).toHaveLength(4);
  });

  it('redelivers a dead letter with the same delivery id and a fresh schedule', async () => {
    reset(() => ({ status: 500 }));
    const inbox = await inboxTo(rx.url);
    const id = await enqueue(h, { accountId, type: 'inbox', endpointId: inbox.id });
    const failed = await waitForStatus(h, id, 'failed');
    reset(() => ({ status: 200 }));
    const r = await h.api('POST', `/api/v1/accounts/${accountId}/webhook_deliveries/${failed.id}/redeliver`, { token });
    expect(r.status).toBe(200);
    expect(r.body.delivery_id).toBe(id);
    const d = await waitForStatus(h, id, 'succeeded');
    expect(d.attempts).toBe(1);
    expect(rx.requests[0].headers['webhook-id']).toBe(id);
    const log = await attempts(h, id);
    expect(log.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5]);
    // by delivery id too
    const again = await h.api('POST', `/api/v1/accounts/${accountId}/webhook_deliveries/${id}/redeliver`, { token });
    expect(again.status).toBe(200);
    await rx.waitFor(2);
  });

  it('disables an account webhook that answers 410 Gone; an inbox callback is failed without retry', async () => {
    reset(() => ({ status: 410 }));
    const created = await h.api('POST', `/api/v1/accounts/${accountId}/webhooks`, {
      token,
      body: { url: `${rx.url}?gone`, subscriptions: ['message_created'] },
    });
    const w = created.body.payload.webhook;
    const id = await enqueue(h, { accountId, type: 'webhook', endpointId: w.id });
    const d = await waitForStatus(h, id, 'failed');
    expect(d.attempts).toBe(1);
    const row = await h.server.ctx.database.db.selectFrom('webhooks').selectAll().where('id', '=', w.id).executeTakeFirstOrThrow();
    expect(row.disabled_at).not.toBeNull();
    expect(row.disabled_reason).toBe('410 Gone');
    const listed = await h.api('GET', `/api/v1/accounts/${accountId}/webhooks`, { token });
    expect(listed.body.payload.webhooks.find((x: any) => x.id === w.id).disabled_at).toBeGreaterThan(0);
    // Later deliveries to the disabled endpoint are not attempted.
    const next = await enqueue(h, { accountId, type: 'webhook', endpointId: w.id });
    const nd = await waitForStatus(h, next, 'failed');
    expect(nd.last_error).toMatch(/disabled/);
    expect(rx.requests).toHaveLength(1);
    // Any update re-enables it.
    const patched = await h.api('PATCH', `/api/v1/accounts/${accountId}/webhooks/${w.id}`, { token, body: { name: 'back' } });
    expect(patched.body.payload.webhook.disabled_at).toBeNull();

    reset(() => ({ status: 410 }));
    const inbox = await inboxTo(rx.url);
    const cb = await enqueue(h, { accountId, type: 'inbox', endpointId: inbox.id });
    const cd = await waitForStatus(h, cb, 'failed');
    expect(cd.attempts).toBe(1);
    expect(cd.last_status_code).toBe(410);
  });

  it('fails deliveries whose endpoint is gone without sending', async () => {
    const id = await enqueue(h, { accountId, type: 'webhook', endpointId: 999_999 });
    const d = await waitForStatus(h, id, 'failed');
    expect(d.last_error).toBe('endpoint no longer exists');
    expect(d.attempts).toBe(0);
    expect((await delivery(h, id)).completed_at).not.toBeNull();
  });
});

describeEachDb('webhook delivery isolation (an endpoint that hangs)', (dialect) => {
  let h: TestServer;
  let accountId: number;
  // A timeout longer than the test: the slow endpoint's requests hang until it releases them.
  beforeAll(async () => {
    h = await startTestServer(dialect, { WEBHOOK_TIMEOUT_MS: '60000' });
    ({ accountId } = await h.account());
  });
  afterAll(() => h.close());

  it('never lets a slow endpoint delay a fast one', async () => {
    // The slow endpoint answers nothing until the end of the test: the fast one must get all of its
    // deliveries while every slow request hangs (an ordering, not a stopwatch).
    let release!: () => void;
    const held = new Promise<void>((ok) => (release = ok));
    const slow = await startReceiver(0, () => held.then(() => ({ status: 200 })));
    const fast = await startReceiver(0, () => ({ status: 200 }));
    try {
      const slowInbox = await h.inbox(accountId, { webhook_url: slow.url });
      const fastInbox = await h.inbox(accountId, { webhook_url: fast.url });
      const cap = h.server.ctx.config.webhookConcurrencyPerEndpoint;
      // More than the worker may hold for one endpoint (2 × cap): 24 rows must stay in the database.
      for (let i = 0; i < 2 * cap + 24; i++) await enqueue(h, { accountId, type: 'inbox', endpointId: slowInbox.id });
      await slow.waitFor(1);
      for (let i = 0; i < 10; i++) await enqueue(h, { accountId, type: 'inbox', endpointId: fastInbox.id });
      await fast.waitFor(10, 20_000);
      expect(slow.requests.length).toBeLessThanOrEqual(cap); // still hanging, none answered
      // The slow endpoint holds at most its per-endpoint share; the rest waits in the database.
      const mine = deliveryWorker(h).stats.endpoints[`inbox:${slowInbox.id}`];
      expect(mine.sending).toBeLessThanOrEqual(cap);
      expect(mine.held).toBeLessThanOrEqual(2 * cap);
      expect(deliveryWorker(h).stats.held).toBeLessThanOrEqual(128);
      const pendingRows = await h.server.ctx.database.db
        .selectFrom('webhook_deliveries')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('endpoint_type', '=', 'inbox')
        .where('endpoint_id', '=', slowInbox.id)
        .where('status', '=', 'pending')
        .executeTakeFirstOrThrow();
      expect(Number(pendingRows.n)).toBeGreaterThanOrEqual(24);
    } finally {
      release();
      await slow.close();
      await fast.close();
    }
  });
});

describeEachDb('webhook SSRF guard (WEBHOOK_ALLOW_PRIVATE_NETWORK=false)', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  beforeAll(async () => {
    h = await startTestServer(dialect, { WEBHOOK_ALLOW_PRIVATE_NETWORK: 'false', WEBHOOK_RETRY_SCHEDULE: '0.1' });
    rx = await startReceiver();
  });
  afterAll(async () => {
    await rx.close();
    await h.close();
  });

  for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]', '[::127.0.0.1]', '[::7f00:1]']) {
    it(`refuses http://${host}:port at connect time and records the attempt`, async () => {
      const { accountId } = await h.account();
      const inbox = await h.inbox(accountId, { webhook_url: `http://${host}:${rx.port}/hook` });
      const id = await enqueue(h, { accountId, type: 'inbox', endpointId: inbox.id });
      const d = await waitForStatus(h, id, 'failed');
      expect(d.attempts).toBe(2);
      const log = await attempts(h, id);
      expect(log).toHaveLength(2);
      expect(log[0].status_code).toBeNull();
      expect(log[0].error).toMatch(/^refused: .* resolves to .* \(loopback\); set WEBHOOK_ALLOW_PRIVATE_NETWORK=true to allow$/);
      expect(rx.requests).toHaveLength(0);
    });
  }
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { boundEndpoints, ENDPOINT_LABELS } from '../../src/metrics/index.js';
import { describeEachDb, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { parsePrometheus, sampleValue, type Family } from '../support/prometheus.js';
import { apiContact, apiConversation, apiMessage, consumer, disconnectAll, subscribe } from '../realtime/cable.js';
import { startReceiver, waitUntil, type Receiver } from '../webhooks/support.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const MESSAGES_ROUTE = '/api/v1/accounts/:account_id/conversations/:conversation_id/messages';

/** Label names our own series may carry: nothing that could hold an id of an account, user or conversation. */
const OUR_LABELS = new Set(['method', 'route', 'status', 'listener', 'endpoint', 'state', 'result', 'version', 'dialect', 'node', 'le']);

describeEachDb('GET /metrics', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  let accountId: number;
  let admin: TestUser;
  let failing: number;
  let gone: number;
  let sourceId: string;

  beforeAll(async () => {
    // One retry, far away: a failing endpoint stays `retrying` for the whole test.
    h = await startTestServer(dialect, { METRICS_TOKEN: TOKEN, WEBHOOK_RETRY_SCHEDULE: '600' });
    rx = await startReceiver(0, (r) => (r.path === '/gone' ? { status: 410 } : { status: 500, body: 'down' }));
    ({ accountId, admin } = await h.account());
    failing = (await h.inbox(accountId, { webhook_url: `http://127.0.0.1:${rx.port}/fail` })).id;
    gone = (await h.inbox(accountId, { webhook_url: `http://127.0.0.1:${rx.port}/gone` })).id;
  });
  afterEach(() => disconnectAll());
  afterAll(async () => {
    await rx.close();
    await h.close();
  });

  const scrape = async (authorization = `Bearer ${TOKEN}`) => {
    const res = await fetch(`${h.url}/metrics`, { headers: { authorization } });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text(), auth: res.headers.get('www-authenticate') };
  };
  const metrics = async () => {
    const r = await scrape();
    expect(r.status).toBe(200);
    return parsePrometheus(r.text);
  };

  it('answers only with the token: 401 without it or with a wrong one, 200 with the text format', async () => {
    for (const authorization of ['', `Bearer ${TOKEN.replace(/.$/, 'x')}`, `Bearer ${TOKEN}x`, TOKEN, `Basic ${TOKEN}`]) {
      const r = await scrape(authorization);
      expect(r.status, authorization).toBe(401);
      expect(JSON.parse(r.text)).toEqual({ error: 'Invalid Access Token' });
      expect(r.auth).toBe('Bearer realm="metrics"');
    }
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(ok.text).not.toContain(TOKEN);
  });

  it('counts traffic by route pattern, reflects a failing endpoint and /cable, and leaks no id or token into a label', async () => {
    // Traffic: a conversation in each inbox with an outgoing message (its callback fails: 500 or 410).
    const conversations: number[] = [];
    for (const inboxId of [failing, gone]) {
      const contact = await apiContact(h, admin.token, accountId, inboxId);
      sourceId = contact.sourceId;
      const conv = await apiConversation(h, admin.token, accountId, inboxId, contact);
      conversations.push(conv.displayId);
      await apiMessage(h, admin.token, accountId, conv.displayId, { content: 'agent reply', message_type: 'outgoing' });
    }
    expect((await h.api('GET', `/api/v1/accounts/${accountId}/nowhere/42`)).status).toBe(404);
    const sub = await subscribe(consumer(h), { pubsub_token: admin.pubsub_token, account_id: accountId, user_id: admin.id });
    expect(sub.state).toBe('connected');

    const failingKey = `inbox:${failing}`;
    const goneKey = `inbox:${gone}`;
    let m!: Map<string, Family>;
    await waitUntil(
      async () => {
        m = await metrics();
        return (
          (sampleValue(m, 'channelx_webhook_deliveries_failed_total', 'channelx_webhook_deliveries_failed_total', { endpoint: goneKey }) ?? 0) >= 1 &&
          (sampleValue(m, 'channelx_webhook_deliveries', 'channelx_webhook_deliveries', { endpoint: failingKey, state: 'retrying' }) ?? 0) >= 1
        );
      },
      20_000,
      'the failing endpoints in the delivery metrics',
    );

    // HELP and TYPE for every family of ours.
    const types: Record<string, string> = {
      channelx_http_requests_total: 'counter',
      channelx_http_request_duration_seconds: 'histogram',
      channelx_webhook_attempt_duration_seconds: 'histogram',
      channelx_webhook_deliveries_failed_total: 'counter',
      channelx_webhook_deliveries: 'gauge',
      channelx_webhook_sends_in_flight: 'gauge',
      channelx_outbox_lag_events: 'gauge',
      channelx_outbox_lag_seconds: 'gauge',
      channelx_outbox_dead_events: 'gauge',
      channelx_outbox_listener_failures: 'gauge',
      channelx_cable_connections: 'gauge',
      channelx_cable_subscriptions: 'gauge',
      channelx_build_info: 'gauge',
      nodejs_eventloop_lag_seconds: 'gauge',
      nodejs_eventloop_lag_p99_seconds: 'gauge',
      ...(dialect === 'sqlite'
        ? { channelx_sqlite_connection_waits_total: 'counter', channelx_sqlite_connection_wait_seconds_total: 'counter', channelx_sqlite_connection_outstanding: 'gauge' }
        : { channelx_db_pool_connections: 'gauge', channelx_db_pool_idle_connections: 'gauge', channelx_db_pool_waiting_queries: 'gauge', channelx_db_pool_max_connections: 'gauge' }),
    };
    for (const [name, type] of Object.entries(types)) {
      expect(m.get(name)?.type, name).toBe(type);
      expect(m.get(name)?.help, name).toMatch(/\w{3,}/);
    }
    for (const f of m.values()) if (f.name.startsWith('channelx_')) expect(f.help, f.name).toBeTruthy();

    // The request counter of the route we hit, with its status; the histogram agrees with it.
    const posts = { method: 'POST', route: MESSAGES_ROUTE, status: '200' };
    expect(sampleValue(m, 'channelx_http_requests_total', 'channelx_http_requests_total', posts)).toBe(2);
    expect(sampleValue(m, 'channelx_http_request_duration_seconds', 'channelx_http_request_duration_seconds_count', posts)).toBe(2);
    expect(sampleValue(m, 'channelx_http_request_duration_seconds', 'channelx_http_request_duration_seconds_bucket', { ...posts, le: '+Inf' })).toBe(2);
    expect(sampleValue(m, 'channelx_http_request_duration_seconds', 'channelx_http_request_duration_seconds_sum', posts)).toBeGreaterThan(0);
    expect(sampleValue(m, 'channelx_http_requests_total', 'channelx_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    const scrapes = sampleValue(m, 'channelx_http_requests_total', 'channelx_http_requests_total', { method: 'GET', route: '/metrics', status: '200' })!;
    expect(scrapes).toBeGreaterThanOrEqual(1);
    expect(sampleValue(m, 'channelx_http_requests_total', 'channelx_http_requests_total', { method: 'GET', route: '/metrics', status: '401' })).toBe(5);

    // Deliveries: 500s are http_error attempts and keep the endpoint retrying; 410 failed it for good.
    expect(sampleValue(m, 'channelx_webhook_attempt_duration_seconds', 'channelx_webhook_attempt_duration_seconds_count', { result: 'http_error' })).toBeGreaterThanOrEqual(2);
    expect(sampleValue(m, 'channelx_webhook_attempt_duration_seconds', 'channelx_webhook_attempt_duration_seconds_count', { result: 'success' })).toBeUndefined();
    const pending = sampleValue(m, 'channelx_webhook_deliveries', 'channelx_webhook_deliveries', { endpoint: failingKey, state: 'pending' })!;
    expect(pending).toBeGreaterThanOrEqual(sampleValue(m, 'channelx_webhook_deliveries', 'channelx_webhook_deliveries', { endpoint: failingKey, state: 'retrying' })!);
    expect(sampleValue(m, 'channelx_webhook_deliveries_failed_total', 'channelx_webhook_deliveries_failed_total', { endpoint: failingKey })).toBeUndefined();
    expect(sampleValue(m, 'channelx_webhook_deliveries', 'channelx_webhook_deliveries', { endpoint: goneKey, state: 'pending' }) ?? 0).toBe(0);

    // /cable: one socket, one subscription while connected.
    expect(sampleValue(m, 'channelx_cable_connections', 'channelx_cable_connections')).toBe(1);
    expect(sampleValue(m, 'channelx_cable_subscriptions', 'channelx_cable_subscriptions')).toBe(1);

    // Outbox: every listener has a series; all caught up once drained (the database-derived series
    // are read at most once a second, so poll), nothing dead.
    const lagOf = (listener: string) => sampleValue(m, 'channelx_outbox_lag_events', 'channelx_outbox_lag_events', { listener });
    await waitUntil(
      async () => {
        await h.server.ctx.dispatcher.drain();
        m = await metrics();
        return m.get('channelx_outbox_lag_events')!.samples.every((s) => s.value === 0);
      },
      10_000,
      'every listener caught up',
    );
    const listeners = m.get('channelx_outbox_lag_events')!.samples.map((s) => s.labels.listener).sort();
    expect(listeners).toEqual(expect.arrayContaining(['realtime', 'webhooks']));
    for (const listener of listeners) {
      expect(lagOf(listener), listener).toBe(0);
      expect(sampleValue(m, 'channelx_outbox_lag_seconds', 'channelx_outbox_lag_seconds', { listener }), listener).toBe(0);
      expect(sampleValue(m, 'channelx_outbox_dead_events', 'channelx_outbox_dead_events', { listener }), listener).toBe(0);
      expect(sampleValue(m, 'channelx_outbox_listener_failures', 'channelx_outbox_listener_failures', { listener }), listener).toBe(0);
    }
    if (dialect === 'postgres') expect(sampleValue(m, 'channelx_db_pool_max_connections', 'channelx_db_pool_max_connections')).toBe(10);
    expect(sampleValue(m, 'channelx_build_info', 'channelx_build_info', { dialect })).toBe(1);
    expect(sampleValue(m, 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);

    // No token, secret, session id or raw URL in any label of ours.
    const inboxRow = await h.server.ctx.database.db.selectFrom('channel_api').select(['secret', 'hmac_token', 'identifier']).executeTakeFirstOrThrow();
    const secrets = [TOKEN, admin.token, admin.pubsub_token, sourceId, inboxRow.secret, inboxRow.hmac_token, inboxRow.identifier].filter(Boolean) as string[];
    const text = (await scrape()).text;
    for (const s of secrets) expect(text).not.toContain(s);
    for (const f of m.values()) {
      if (!f.name.startsWith('channelx_')) continue;
      for (const s of f.samples) {
        for (const [label, value] of Object.entries(s.labels)) {
          expect(OUR_LABELS.has(label), `${f.name} label ${label}`).toBe(true);
          // A route pattern: literal segments, `:name` parameters, `*`; never a number, token or id.
          if (label === 'route') expect(value, value).toMatch(/^(unmatched|\/|(\/(:[a-z_]+|\*|[a-z][a-z0-9_.-]*))+)$/);
          if (label === 'endpoint') expect(value).toMatch(/^((inbox|webhook):\d+|other)$/);
        }
      }
    }
    for (const displayId of conversations) expect(text).not.toContain(`/conversations/${displayId}`);
    expect(text).not.toContain(`/accounts/${accountId}/`);

    // The socket goes away: back to zero.
    disconnectAll();
    await waitUntil(async () => sampleValue(await metrics(), 'channelx_cable_connections', 'channelx_cable_connections') === 0, 10_000, 'cable connections back to 0');
    expect(sampleValue(await metrics(), 'channelx_cable_subscriptions', 'channelx_cable_subscriptions')).toBe(0);
  });
});

describeEachDb('GET /metrics off and readiness', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect);
  });
  afterAll(() => h.close());

  const ready = () => h.api('GET', '/health/ready');
  const readyBody = (failing: string[], checks: Record<string, string> = {}, extra: Record<string, unknown> = {}) => ({
    status: failing.length ? 'not_ready' : 'ready',
    checks: { database: 'up', migrations: 'applied', outbox: 'running', deliveries: 'running', cable: 'accepting', ...checks },
    failing,
    pending_migrations: [],
    failing_listeners: [],
    version: expect.any(String),
    ...extra,
  });

  it('without METRICS_TOKEN, /metrics is 404 (with or without a token)', async () => {
    for (const authorization of [undefined, `Bearer ${TOKEN}`, 'Bearer ']) {
      const r = await h.api('GET', '/metrics', { headers: authorization === undefined ? {} : { authorization } });
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: 'Resource could not be found' });
    }
  });

  it('readiness: 503 naming the migrations while one is missing, 200 once applied', async () => {
    const db = h.server.ctx.database.db;
    const row = await db.selectFrom('kysely_migration' as never).selectAll().where('name' as never, '=', '0008_unread_counter' as never).executeTakeFirstOrThrow();
    await db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '0008_unread_counter' as never).execute();
    const missing = await ready();
    expect(missing.status).toBe(503);
    expect(missing.body).toEqual(readyBody(['migrations'], { migrations: 'pending' }, { pending_migrations: ['0008_unread_counter'] }));
    await db.insertInto('kysely_migration' as never).values(row as never).execute();
    const r = await ready();
    expect(r.status).toBe(200);
    expect(r.body).toEqual(readyBody([]));
  });

  it('a database that does not answer: readiness 503 naming only the database, liveness 503 degraded', async () => {
    const database = h.server.ctx.database;
    const ping = database.ping;
    database.ping = async () => false;
    try {
      const r = await ready();
      expect(r.status).toBe(503);
      // The migrations were seen applied already (asked until then only): not a second failure.
      expect(r.body).toEqual(readyBody(['database'], { database: 'down' }));
      const live = await h.api('GET', '/health');
      expect(live.status).toBe(503);
      expect(live.body).toEqual({ status: 'degraded', database: 'down', version: expect.any(String) });
    } finally {
      database.ping = ping;
    }
    expect((await ready()).status).toBe(200);
  });

  it('liveness stays 200 while readiness is 503 naming the stopped delivery worker, then the stopped outbox', async () => {
    await h.server.ctx.deliveries.stop();
    let r = await ready();
    expect(r.status).toBe(503);
    expect(r.body).toEqual(readyBody(['deliveries'], { deliveries: 'stopped' }));
    const live = await h.api('GET', '/health');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok', database: 'up', version: expect.any(String) });

    await h.server.ctx.dispatcher.stop();
    r = await ready();
    expect(r.status).toBe(503);
    expect(r.body).toEqual(readyBody(['outbox', 'deliveries'], { outbox: 'stopped', deliveries: 'stopped' }));
  });

  it('documents both endpoints in the OpenAPI document', async () => {
    const doc = (await h.api('GET', '/api-docs/json')).body;
    expect(doc.paths['/health/ready'].get.responses['503']).toBeTruthy();
    expect(doc.paths['/metrics'].get.responses['200'].content['text/plain']).toBeTruthy();
    expect(doc.paths['/metrics'].get.security).toEqual([{ metricsToken: [] }]);
  });
});

describe('METRICS_TOKEN', () => {
  it('must be long enough and printable, and is never echoed in the error', () => {
    for (const bad of ['short', 'has a space in it 0123456789']) {
      expect(() => loadConfig({ METRICS_TOKEN: bad })).toThrow(ConfigError);
      try {
        loadConfig({ METRICS_TOKEN: bad });
      } catch (err) {
        expect((err as Error).message).not.toContain(bad);
      }
    }
    expect(loadConfig({ METRICS_TOKEN: TOKEN }).metricsToken).toBe(TOKEN);
    expect(loadConfig({}).metricsToken).toBeNull();
  });
});

describe('the endpoint label of channelx_webhook_deliveries', () => {
  it('names the endpoints with the most, sums the rest and what the breakdown did not read as "other"', () => {
    const all = Array.from({ length: ENDPOINT_LABELS + 5 }, (_, i) => ({ endpoint: `inbox:${i + 1}`, pending: i + 1, retrying: i % 2, inFlight: 0 }));
    const counted = all.reduce((n, b) => n + b.pending, 0);
    const out = boundEndpoints(all, { pending: counted + 1000, inFlight: 3 });
    expect(out).toHaveLength(ENDPOINT_LABELS + 1);
    expect(out.slice(0, ENDPOINT_LABELS).map((b) => b.endpoint)).toEqual(all.slice(5).reverse().map((b) => b.endpoint));
    const other = out[ENDPOINT_LABELS];
    expect(other).toEqual({ endpoint: 'other', pending: 1 + 2 + 3 + 4 + 5 + 1000, retrying: 0 + 1 + 0 + 1 + 0, inFlight: 3 });
    expect(out.reduce((n, b) => n + b.pending, 0)).toBe(counted + 1000);
    // Few endpoints, everything read: no "other".
    expect(boundEndpoints(all.slice(0, 2), { pending: 3, inFlight: 0 }).map((b) => b.endpoint)).toEqual(['inbox:2', 'inbox:1']);
  });
});

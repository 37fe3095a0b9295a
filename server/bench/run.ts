/**
 * `npm run bench`: DESIGN §7 measured on this machine, loopback only, bounded in time (~2 min).
 * Starts a baseline (bare Fastify + one SQLite insert per request) and ChannelX on the embedded
 * default as child processes, drives them from this process, prints a table and, as the last line,
 * one JSON object with the measures. Last, the dashboard's section (bench/dashboard.ts: its initial
 * JavaScript and its timings in headless Chromium, ~1–2 min more; timings skipped without Chromium).
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import autocannon from 'autocannon';
import SQLite from 'better-sqlite3';
import WebSocket from 'ws';
import { freePort, startNode, waitHttp, rssMiB, percentile, round, json } from './lib.js';

const QUICK = process.argv.includes('--quick');
const LOAD_S = QUICK ? 3 : 8;
const WS_CONNECTIONS = QUICK ? 1000 : 10_000;
const SYNCHRONOUS = process.argv.includes('--full-sync') ? 'full' : 'normal';

function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function baseline(): Promise<number> {
  const port = await freePort();
  const child = startNode('bench/baseline.ts', [String(port), SYNCHRONOUS], {});
  try {
    await waitHttp(`http://127.0.0.1:${port}/`);
    const res = await cannon({
      url: `http://127.0.0.1:${port}/messages`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'baseline message' }),
      connections: 50,
      duration: LOAD_S,
    });
    return res.requests.average;
  } finally {
    child.kill('SIGTERM');
  }
}

type Receiver = {
  url: string;
  onBody: (fn: (body: any, at: number) => void) => void;
  /** While unavailable the receiver answers 503 with Retry-After: 1 (deliveries pile up in the database). */
  setAvailable(up: boolean): void;
  close(): Promise<void>;
};

async function receiver(): Promise<Receiver> {
  let handler: (body: any, at: number) => void = () => {};
  let available = true;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = performance.timeOrigin + performance.now();
      if (!available) return void res.writeHead(503, { 'retry-after': '1' }).end('down');
      res.writeHead(200).end('ok');
      try {
        handler(JSON.parse(Buffer.concat(chunks).toString()), at);
      } catch {
        /* ignore */
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as any).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    onBody: (fn) => (handler = fn),
    setAvailable: (up) => (available = up),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function main() {
  const rows: [string, string, string][] = [];
  const result: Record<string, number> = {};

  console.error('baseline …');
  result.baseline_rps = round(await baseline(), 0);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    DATABASE_URL: `sqlite:${path.join(dir, 'bench.sqlite')}`,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    SQLITE_SYNCHRONOUS: SYNCHRONOUS,
    WEBHOOK_ALLOW_PRIVATE_NETWORK: 'true',
    PUBLIC_API_LIMIT_PER_IP: '100000000',
    PUBLIC_API_LIMIT_PER_INBOX: '100000000',
    CONVERSATION_MESSAGE_PER_MINUTE_LIMIT: '100000000',
    CABLE_MAX_CONNECTIONS_PER_IP: String(WS_CONNECTIONS + 100),
    CABLE_AUTH_TIMEOUT_MS: '60000',
  };
  const setup = JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'setup', '--account', 'Bench', '--name', 'Bench', '--email', 'bench@example.com', '--password', 'bench-password', '--json'], {
      env: { ...process.env, ...env },
    }).toString(),
  );
  // The server runs as `npm start` runs it: the bundled build under plain node.
  execFileSync('npm', ['run', '--silent', 'build']);
  const server = startNode('dist/main.js', [], env);
  const hook = await receiver();
  try {
    await waitHttp(`${base}/health`);
    await new Promise((r) => setTimeout(r, 1500));
    result.rss_idle_mib = round(rssMiB(server.pid!));

    const token = setup.access_token as string;
    const acct = `${base}/api/v1/accounts/${setup.account_id}`;
    const quiet = await json(`${acct}/inboxes`, { method: 'POST', token, body: JSON.stringify({ name: 'Bench', channel: { type: 'api' } }) });
    const hooked = await json(`${acct}/inboxes`, {
      method: 'POST',
      token,
      body: JSON.stringify({ name: 'Bench hooked', channel: { type: 'api', webhook_url: hook.url } }),
    });
    const conversationIn = async (inboxId: number) => {
      const c = await json(`${acct}/contacts`, { method: 'POST', token, body: JSON.stringify({ name: 'Bench', inbox_id: inboxId }) });
      const sourceId = c.payload.contact_inbox.source_id;
      const conv = await json(`${acct}/conversations`, { method: 'POST', token, body: JSON.stringify({ source_id: sourceId }) });
      return { sourceId, conversationId: conv.id as number, contact: c.payload.contact };
    };

    // 1. Ingest: incoming message create, 50 connections.
    console.error('ingest …');
    const q = await conversationIn(quiet.id);
    const ingest = await cannon({
      url: `${acct}/conversations/${q.conversationId}/messages`,
      method: 'POST',
      headers: { 'content-type': 'application/json', api_access_token: token },
      body: JSON.stringify({ content: 'This is an incoming message from API Channel', message_type: 'incoming' }),
      connections: 50,
      duration: LOAD_S,
    });
    result.ingest_rps = round(ingest.requests.average, 0);
    result.ingest_p99_ms = ingest.latency.p99;
    result.ingest_ratio = round(result.ingest_rps / result.baseline_rps, 2);
    if (ingest.non2xx || ingest.errors) console.error(`ingest: ${ingest.non2xx} non-2xx, ${ingest.errors} errors`);

    // 2. Client API: message create as the contact.
    console.error('client api …');
    const inboxIdentifier = quiet.inbox_identifier as string;
    const pc = await json(`${base}/public/api/v1/inboxes/${inboxIdentifier}/contacts`, { method: 'POST', body: JSON.stringify({ name: 'Client' }) });
    const pconv = await json(`${base}/public/api/v1/inboxes/${inboxIdentifier}/contacts/${pc.source_id}/conversations`, { method: 'POST', body: '{}' });
    const client = await cannon({
      url: `${base}/public/api/v1/inboxes/${inboxIdentifier}/contacts/${pc.source_id}/conversations/${pconv.id}/messages`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'hello from the client API' }),
      connections: 50,
      duration: LOAD_S,
    });
    result.client_api_rps = round(client.requests.average, 0);
    if (client.non2xx || client.errors) console.error(`client api: ${client.non2xx} non-2xx, ${client.errors} errors`);

    // Latency is measured in steady state: first let the outbox listeners finish the load phases' backlog.
    const settle = async () => {
      const db = new SQLite(path.join(dir, 'bench.sqlite'), { readonly: true });
      try {
        const deadline = Date.now() + 60_000;
        for (;;) {
          const max = (db.prepare('select max(id) m from events').get() as any).m ?? 0;
          const min = (db.prepare('select min(last_event_id) m from event_consumers').get() as any).m ?? 0;
          if (min >= max || Date.now() > deadline) return;
          await new Promise((r) => setTimeout(r, 200));
        }
      } finally {
        db.close();
      }
    };
    await settle();

    // 3. Webhook end-to-end latency at 500 msg/s.
    console.error('webhooks …');
    const h = await conversationIn(hooked.id);
    const sentAt = new Map<number, number>();
    const latencies: number[] = [];
    let received = 0;
    let lastAt = 0;
    hook.onBody((body, at) => {
      if (body.event !== 'message_created') return;
      received++;
      lastAt = at;
      const t = sentAt.get(body.id);
      if (t !== undefined) latencies.push(at - t);
    });
    const rate = 500;
    const total = rate * (QUICK ? 2 : 5);
    const url = `${acct}/conversations/${h.conversationId}/messages`;
    const t0 = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const start = performance.timeOrigin + performance.now();
      inflight.push(
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', api_access_token: token }, body: JSON.stringify({ content: `m${i}`, message_type: 'incoming' }) })
          .then((r) => r.json())
          .then((m: any) => void sentAt.set(m.id, start)),
      );
    }
    await Promise.all(inflight);
    const deadline = Date.now() + 15_000;
    while (received < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    latencies.sort((a, b) => a - b);
    result.webhook_p50_ms = round(percentile(latencies, 50), 1);
    result.webhook_p99_ms = round(percentile(latencies, 99), 1);

    // 4. Sustained deliveries: a burst of messages, first while the receiver answers (deliveries
    // and ingest share the server's CPU), then a backlog built while it was down, drained alone.
    const burst = QUICK ? 2000 : 6000;
    const postBurst = (content: string) =>
      cannon({
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json', api_access_token: token },
        body: JSON.stringify({ content, message_type: 'incoming' }),
        connections: 50,
        amount: burst,
      });
    const waitReceived = async (n: number) => {
      const deadline = Date.now() + 60_000;
      while (received < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    };
    received = 0;
    const burstStart = performance.timeOrigin + performance.now();
    await postBurst('burst');
    await waitReceived(burst);
    result.webhook_deliveries_per_s_during_ingest = round(received / ((lastAt - burstStart) / 1000), 0);

    hook.setAvailable(false);
    await postBurst('backlog');
    await settle();
    // Wait until every backlog delivery has had its first (503) attempt, then bring the receiver back
    // and make all their retries due at once — a receiver returning after an outage.
    const rw = new SQLite(path.join(dir, 'bench.sqlite'));
    rw.pragma('busy_timeout = 5000');
    try {
      const d = Date.now() + 60_000;
      const waiting = rw.prepare("select count(*) n from webhook_deliveries where status = 'pending' and attempts >= 1");
      while ((waiting.get() as any).n < burst && Date.now() < d) await new Promise((r) => setTimeout(r, 100));
      hook.setAvailable(true);
      received = 0;
      rw.prepare("update webhook_deliveries set next_attempt_at = ? where status = 'pending'").run(Date.now());
    } finally {
      rw.close();
    }
    const drainStart = performance.timeOrigin + performance.now();
    await waitReceived(burst);
    result.webhook_deliveries_per_s = round(received / ((lastAt - drainStart) / 1000), 0);

    // 5. WebSockets: many subscriptions, memory per connection, fan-out latency.
    console.error(`websockets (${WS_CONNECTIONS}) …`);
    await settle();
    const before = rssMiB(server.pid!);
    const identifier = JSON.stringify({ channel: 'RoomChannel', pubsub_token: h.contact.contact_inboxes?.[0]?.pubsub_token ?? '' });
    const fanoutContact = await json(`${base}/public/api/v1/inboxes/${hooked.inbox_identifier}/contacts`, { method: 'POST', body: JSON.stringify({ name: 'Fanout' }) });
    const fanoutConv = await json(`${base}/public/api/v1/inboxes/${hooked.inbox_identifier}/contacts/${fanoutContact.source_id}/conversations`, { method: 'POST', body: '{}' });
    const fanIdentifier = JSON.stringify({ channel: 'RoomChannel', pubsub_token: fanoutContact.pubsub_token });
    const sockets: WebSocket[] = [];
    let confirmed = 0;
    const open = (ident: string) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/cable`, ['actioncable-v1-json']);
        ws.on('message', (raw) => {
          const f = JSON.parse(raw.toString());
          if (f.type === 'welcome') ws.send(JSON.stringify({ command: 'subscribe', identifier: ident }));
          else if (f.type === 'confirm_subscription') {
            confirmed++;
            resolve(ws);
          } else if (f.type === 'reject_subscription') reject(new Error('rejected'));
        });
        ws.on('error', reject);
      });
    for (let i = 0; i < WS_CONNECTIONS; i += 200) {
      // 20 sockets watch the conversation that gets the fan-out messages; the rest are other subscribers.
      const batch = await Promise.all(Array.from({ length: Math.min(200, WS_CONNECTIONS - i) }, (_, k) => open(i + k < 20 ? fanIdentifier : identifier)));
      sockets.push(...batch);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const after = rssMiB(server.pid!);
    result.ws_connections = confirmed;
    result.ws_kib_per_connection = round(((after - before) * 1024) / Math.max(1, confirmed), 1);

    const watchers = sockets.slice(0, 20);
    const fan: number[] = [];
    const pending = new Map<string, number>();
    for (const ws of watchers) {
      ws.on('message', (raw) => {
        const f = JSON.parse(raw.toString());
        if (f.message?.event === 'message.created') {
          const t = pending.get(f.message.data.content);
          if (t !== undefined) fan.push(performance.timeOrigin + performance.now() - t);
        }
      });
    }
    for (let i = 0; i < (QUICK ? 30 : 100); i++) {
      const content = `fan-${i}`;
      pending.set(content, performance.timeOrigin + performance.now());
      await json(`${acct}/conversations/${fanoutConv.id}/messages`, { method: 'POST', token, body: JSON.stringify({ content }) });
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 1000));
    fan.sort((a, b) => a - b);
    result.ws_fanout_p99_ms = round(percentile(fan, 99), 1);
    for (const ws of sockets) ws.terminate();
  } finally {
    server.kill('SIGTERM');
    await hook.close();
    await new Promise((r) => setTimeout(r, 500));
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // ────────────────────────────────────────────────────────────────────────────────────────────
  // 6. The dashboard (bench/dashboard.ts, also `npm run bench:dashboard`): initial JavaScript gzipped,
  // and list / conversation timings in headless Chromium on its own seeded server. Without
  // /usr/bin/chromium only the weight is measured (a loud skip); a failure here keeps the table above.
  console.error('dashboard …');
  let dashboard: import('./dashboard.js').DashboardBench | null = null;
  try {
    const { dashboardBench } = await import('./dashboard.js');
    dashboard = await dashboardBench({ runs: QUICK ? 3 : 5 });
  } catch (err) {
    console.error(`\n${'!'.repeat(78)}\n!! dashboard bench FAILED: ${(err as Error).stack ?? err}\n${'!'.repeat(78)}\n`);
  }
  // ────────────────────────────────────────────────────────────────────────────────────────────

  const targets: Record<string, string> = {
    ingest_ratio: '≥ 0.5',
    ingest_p99_ms: '≤ 20',
    webhook_p50_ms: '≤ 5',
    webhook_p99_ms: '≤ 25',
    webhook_deliveries_per_s: '≥ 2000',
    webhook_deliveries_per_s_during_ingest: '',
    ws_connections: `${WS_CONNECTIONS}`,
    ws_kib_per_connection: '≤ 40',
    ws_fanout_p99_ms: '≤ 25',
    rss_idle_mib: '≤ 150',
  };
  for (const [k, v] of Object.entries(result)) rows.push([k, String(v), targets[k] ?? '']);
  console.log('| measure | value | target |\n|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  if (dashboard) {
    console.log('\n**Dashboard** (headless Chromium; bench/dashboard.ts)\n');
    const { printDashboard } = await import('./dashboard.js');
    printDashboard(dashboard);
    Object.assign(result, dashboard.result);
  } else console.log('\n**Dashboard**: FAILED (see stderr)');
  console.log(JSON.stringify(result));
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

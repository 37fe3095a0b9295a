import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { freePort, startReceiver, waitUntil, type Receiver } from './support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

type Child = { proc: ChildProcess; url: string; exited: Promise<number | null>; output: () => string };

/** The real server (`src/main.ts`) as a child process, so it can be killed with SIGKILL. */
async function spawnServer(databaseUrl: string, env: Record<string, string>): Promise<Child> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (c) => (out += c));
  proc.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((ok) => proc.on('exit', (code) => ok(code)));
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    async () => {
      if (proc.exitCode !== null) throw new Error(`server exited early:\n${out}`);
      return fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      );
    },
    30_000,
    'child server to listen',
  );
  return { proc, url, exited, output: () => out };
}

describeEachDb('webhook deliveries survive kill -9', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  let children: Child[] = [];

  beforeAll(async () => {
    // The in-process server only migrates and creates fixtures; it must not deliver anything itself.
    h = await startTestServer(dialect);
    for (const w of [...h.server.workers].reverse()) await w.stop();
    await h.server.ctx.dispatcher.stop();
    rx = await startReceiver(0, () => ({ status: 200, delayMs: 60_000 })); // phase 1: hangs
  });
  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    await rx?.close();
    await h?.close().catch(() => {});
  });

  it('delivers every event after a SIGKILL with deliveries pending and in flight', { timeout: 120_000 }, async () => {
    const env = { WEBHOOK_ALLOW_PRIVATE_NETWORK: 'true', WEBHOOK_RETRY_SCHEDULE: Array(30).fill('0.5').join(','), WEBHOOK_TIMEOUT_MS: '2000' };
    const { accountId, admin } = await h.account();
    const inbox = await h.inbox(accountId, { webhook_url: rx.url });
    const db = h.server.ctx.database.db;

    const a = await spawnServer(h.databaseUrl, env);
    children.push(a);
    const call = async (method: string, p: string, body?: unknown) => {
      const r = await fetch(`${a.url}/api/v1/accounts/${accountId}${p}`, {
        method,
        headers: { 'content-type': 'application/json', api_access_token: admin.token },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json: any = await r.json();
      expect(r.status, JSON.stringify(json)).toBe(200);
      return json;
    };
    const contact = await call('POST', '/contacts', { inbox_id: inbox.id, name: 'Crash Test' });
    const conv = await call('POST', '/conversations', { source_id: contact.payload.contact_inbox.source_id, inbox_id: inbox.id });
    const messageIds: number[] = [];
    for (let i = 0; i < 25; i++) {
      const m = await call('POST', `/conversations/${conv.id}/messages`, { content: `m${i}`, message_type: i % 2 ? 'outgoing' : 'incoming' });
      messageIds.push(m.id);
    }
    // Some sends are hanging on the receiver (in flight), the rest wait in the database.
    await waitUntil(async () => rx.requests.length >= 3, 10_000, 'first sends');
    const before = await db.selectFrom('webhook_deliveries').select(['status']).where('endpoint_id', '=', inbox.id).where('endpoint_type', '=', 'inbox').execute();
    expect(before.some((r) => r.status === 'in_flight')).toBe(true);
    expect(before.some((r) => r.status === 'succeeded')).toBe(false);

    a.proc.kill('SIGKILL');
    await a.exited;

    // Phase 2: a new process on the same database, the receiver answering at once.
    rx.respond = () => ({ status: 200, body: 'ok' });
    const phase2Start = rx.requests.length;
    const b = await spawnServer(h.databaseUrl, env);
    children.push(b);

    // Events committed before the kill but not yet fanned out become deliveries after the restart.
    const deliveries = () =>
      db.selectFrom('webhook_deliveries').select(['delivery_id', 'event_name', 'message_id', 'status']).where('endpoint_type', '=', 'inbox').where('endpoint_id', '=', inbox.id).execute();
    await waitUntil(async () => (await deliveries()).filter((d) => d.event_name === 'message_created').length === messageIds.length, 30_000, 'every message_created delivery');
    const expected = await deliveries();
    expect(expected.filter((d) => d.event_name === 'message_created').map((d) => d.message_id).sort()).toEqual([...messageIds].sort());
    expect(expected.filter((d) => d.event_name === 'conversation_created')).toHaveLength(1);
    await waitUntil(
      async () => {
        const rows = await db.selectFrom('webhook_deliveries').select('status').where('endpoint_type', '=', 'inbox').where('endpoint_id', '=', inbox.id).execute();
        return rows.length >= expected.length && rows.every((r) => r.status === 'succeeded');
      },
      60_000,
      'every delivery to succeed after the restart',
    );
    const received = new Set(rx.requests.slice(phase2Start).map((r) => String(r.headers['x-channelx-delivery'])));
    for (const d of expected) expect(received.has(d.delivery_id), `${d.event_name} ${d.delivery_id}`).toBe(true);
    const gotMessages = new Set(rx.requests.filter((r) => r.json?.event === 'message_created').map((r) => r.json.id));
    for (const id of messageIds) expect(gotMessages.has(id)).toBe(true);
    // No message was marked failed by the outage.
    const statuses = await db.selectFrom('messages').select('status').where('id', 'in', messageIds).execute();
    expect(statuses.every((s) => s.status === 0)).toBe(true);

    b.proc.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });
});

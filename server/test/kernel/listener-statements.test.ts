import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, NO_RATE_LIMITS, startTestServer, type TestServer } from '../support/harness.js';
import { countStatements, type StatementCounter } from '../support/statements.js';
import { deliveryWorker, startReceiver, waitUntil, type Receiver } from '../webhooks/support.js';

/**
 * Issue 13: what the outbox listeners cost per message, counted at the driver (BEGIN/COMMIT
 * included). 200 incoming messages through the Application API on an inbox without a callback and
 * on one with a callback to a local receiver, sent one after another (every commit wakes the
 * listeners on an idle loop: the worst case for batching) and 20 at a time (a burst). Statements
 * are attributed to the request, to each listener (cursor, read, routing, bodies, inserts) and to
 * the delivery worker (adoption, claims, outcomes). The counts are printed (SHOW_STATEMENTS=1
 * prints every statement too); the bounds below are what the delivery side must not exceed.
 * Before issue 13 (SQLite): 9 listener statements per message without a callback, 20 with one.
 */

const N = 200;
const CONCURRENCY = 20;

type Row = { dialect: string; inbox: string; mode: string; perMessage: Record<string, number> };
const table: Row[] = [];

describeEachDb('statements per message in the outbox listeners', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  let counter: StatementCounter;

  beforeAll(async () => {
    counter = countStatements();
    rx = await startReceiver();
    h = await startTestServer(dialect, NO_RATE_LIMITS);
    const scope = <T>(label: string, fn: () => T) => counter.scope(label, fn);
    h.server.ctx.dispatcher.setScope(scope);
    deliveryWorker(h).setScope(scope);
  });
  afterAll(async () => {
    await h?.close();
    await rx?.close();
    if (table.length) {
      // One line per scenario: statements per message, by who ran them.
      for (const r of table) console.log(`[statements/message] ${r.dialect} ${r.inbox} ${r.mode}: ${JSON.stringify(r.perMessage)}`);
    }
  });

  async function conversationIn(accountId: number, token: string, callback: string | null) {
    const inbox = await h.inbox(accountId, { webhook_url: callback });
    const base = `/api/v1/accounts/${accountId}`;
    const contact = await h.api('POST', `${base}/contacts`, { token, body: { inbox_id: inbox.id, name: 'Counted' } });
    expect(contact.status).toBe(200);
    const conv = await h.api('POST', `${base}/conversations`, { token, body: { source_id: contact.body.payload.contact_inbox.source_id } });
    expect(conv.status).toBe(200);
    return { inbox, path: `${base}/conversations/${conv.body.id}/messages` };
  }

  async function settle(hooked: boolean, expected: number) {
    if (hooked) await rx.waitFor(expected, 30_000);
    await h.server.ctx.dispatcher.drain(30_000);
    const worker = deliveryWorker(h);
    await waitUntil(() => worker.stats.held === 0 && worker.stats.sending === 0 && worker.stats.queuedOutcomes === 0, 20_000, 'worker idle');
  }

  async function measure(hooked: boolean, mode: 'sequential' | 'burst') {
    const { accountId, admin } = await h.account();
    const { path } = await conversationIn(accountId, admin.token, hooked ? rx.url : null);
    await settle(hooked, 0);
    rx.requests.length = 0;
    counter.reset();
    const post = (i: number) =>
      counter.scope('request', () => h.api('POST', path, { token: admin.token, body: { content: `m${i}`, message_type: 'incoming' } }));
    if (mode === 'sequential') {
      for (let i = 0; i < N; i++) expect((await post(i)).status).toBe(200);
    } else {
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < N) expect((await post(next++)).status).toBe(200);
        }),
      );
    }
    await counter.scope('settle', () => settle(hooked, N));
    const c = counter.counts();
    if (hooked) expect(rx.requests.filter((r) => r.json?.event === 'message_created')).toHaveLength(N);
    const sum = (pred: (label: string) => boolean) => Object.entries(c).reduce((n, [k, v]) => n + (pred(k) ? v : 0), 0);
    const per = (n: number) => Math.round((n / N) * 100) / 100;
    const perMessage = {
      request: per(c.request ?? 0),
      listeners: per(sum((k) => k.startsWith('listener:'))),
      'listener:webhooks': per(c['listener:webhooks'] ?? 0),
      'listener:realtime': per(c['listener:realtime'] ?? 0),
      worker: per(sum((k) => k === 'worker' || k.startsWith('after:'))),
      other: per(c.other ?? 0),
    };
    table.push({ dialect, inbox: hooked ? 'with callback' : 'without callback', mode, perMessage });
    if (process.env.SHOW_STATEMENTS) {
      for (const label of Object.keys(c)) {
        const hist = new Map<string, number>();
        for (const t of counter.statements(label)) hist.set(t.slice(0, 150), (hist.get(t.slice(0, 150)) ?? 0) + 1);
        console.log(`--- ${dialect} ${hooked} ${mode} ${label}\n` + [...hist].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${n}\t${t}`).join('\n'));
      }
    }
    return perMessage;
  }

  it('an inbox without a callback: the listeners run (almost) nothing per message', { timeout: 120_000 }, async () => {
    const seq = await measure(false, 'sequential');
    const burst = await measure(false, 'burst');
    // The webhook listener asks nothing (the endpoint directory knows there is no endpoint) and
    // writes nothing; the one events read per batch is shared by both listeners; no transaction.
    expect(seq['listener:webhooks']).toBeLessThanOrEqual(0.1);
    expect(burst['listener:webhooks']).toBeLessThanOrEqual(0.1);
    // Sequentially, one events read per commit. On PostgreSQL the commit horizon (kernel/events/horizon.ts)
    // reads again when an older transaction was still open at the read — more often on a loaded machine
    // (1.4–1.8 seen under heavy load), so the bound there is looser; it is still far from the 9 of before.
    expect(seq.listeners).toBeLessThanOrEqual(dialect === 'postgres' ? 2.5 : 1.25);
    // A burst forms real batches: far below one statement per message.
    expect(burst.listeners).toBeLessThanOrEqual(0.6);
  });

  it('an inbox with a callback: one body per event from batched reads, one insert per batch', { timeout: 120_000 }, async () => {
    const seq = await measure(true, 'sequential');
    const burst = await measure(true, 'burst');
    // One event per batch: the body's reads (conversation bundle, account) and the insert.
    expect(seq['listener:webhooks']).toBeLessThanOrEqual(12.5);
    // A burst: the same reads and one insert for the whole batch.
    expect(burst['listener:webhooks']).toBeLessThanOrEqual(3);
  });
});

import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { openDatabase, now, type Database } from '../../src/kernel/db.js';
import { Dispatcher, isTransient, recordEvent, TransientError, type Listener, type OutboxEvent } from '../../src/kernel/events/outbox.js';
import type { EventMap } from '../../src/kernel/events/types.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 9, item 1: one bad event never stops a listener. A listener that throws on an event is
 * retried on that event alone a bounded number of times, then the event is recorded as a dead event
 * (visible to the account's administrators) and the cursor moves on; a transient failure is retried
 * with backoff and never skipped. Stand-alone dispatchers on the test server's database play the
 * listener's node, so a restart is a new dispatcher on the same cursor.
 */

/** A value JSON.stringify cannot serialize: "Maximum call stack size exceeded", as in the issue. */
const DEEP = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));

type Entry = { level: 'error' | 'warn' | 'info'; obj: any; msg?: string };
function captureLog() {
  const entries: Entry[] = [];
  const at = (level: Entry['level']) => (obj: unknown, msg?: string) => void entries.push({ level, obj, msg });
  return { entries, log: { error: at('error'), warn: at('warn'), info: at('info') } };
}


const FAST = { backoffMs: 5, transientMs: 5, transientMaxMs: 40 };

describe('outbox: error classification', () => {
  const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  class MaxRetriesPerRequestError extends Error {
    override name = 'MaxRetriesPerRequestError';
  }
  it.each([
    ['TransientError', new TransientError('redis away')],
    ['SQLITE_BUSY', coded('SQLITE_BUSY', 'database is locked')],
    ['SQLITE_LOCKED_SHAREDCACHE', coded('SQLITE_LOCKED_SHAREDCACHE')],
    ['pg serialization failure 40001', coded('40001')],
    ['pg connection failure 08006', coded('08006')],
    ['pg too many connections 53300', coded('53300')],
    ['pg admin shutdown 57P01', coded('57P01')],
    ['ECONNREFUSED', coded('ECONNREFUSED')],
    ['ECONNRESET', coded('ECONNRESET')],
    ['ETIMEDOUT', coded('ETIMEDOUT')],
    ['ioredis MaxRetriesPerRequestError', new MaxRetriesPerRequestError('Reached the max retries per request limit')],
    ['ioredis closed', new Error('Connection is closed.')],
    ['ioredis offline', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['pg terminated', new Error('Connection terminated unexpectedly')],
    ['wrapped in cause', new Error('publish failed', { cause: coded('ECONNREFUSED') })],
    ['AggregateError of refused connects', new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')])],
  ])('transient: %s', (_, err) => expect(isTransient(err)).toBe(true));

  it.each([
    ['stack overflow', new RangeError('Maximum call stack size exceeded')],
    ['TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['JSON', new SyntaxError('Unexpected token } in JSON at position 3')],
    ['pg invalid input 22P02', coded('22P02')],
    ['pg unique violation 23505', coded('23505')],
    ['SQLITE_CONSTRAINT', coded('SQLITE_CONSTRAINT_UNIQUE')],
    ['a string', 'boom'],
    ['null', null],
  ])('poison: %s', (_, err) => expect(isTransient(err)).toBe(false));
});

describeEachDb('outbox: poison events are isolated, recorded and skipped; transient failures are retried', (dialect) => {
  let h: TestServer;
  let a: { accountId: number; admin: TestUser };
  let b: { accountId: number; admin: TestUser };
  let agentA: TestUser;

  beforeAll(async () => {
    h = await startTestServer(dialect);
    a = await h.account();
    b = await h.account();
    agentA = await h.user(a.accountId, { role: 'agent' });
    await h.server.ctx.database.db.schema
      .createTable('dead_test_effects')
      .ifNotExists()
      .addColumn('event_id', 'bigint', (c) => c.notNull())
      .addColumn('listener', 'varchar(64)', (c) => c.notNull())
      .execute();
  });
  afterAll(() => h?.close());

  const db = () => h.server.ctx.database.db;
  const emit = (events: { accountId: number; payload: Record<string, unknown>; raw?: string }[]) =>
    h.server.ctx.database.transaction(async (trx) => {
      for (const e of events) {
        if (e.raw !== undefined) {
          // A stored payload that is not JSON (written around recordEvent): it must not block the log either.
          await trx.insertInto('events').values({ account_id: e.accountId, name: 'contact.updated', payload: e.raw, created_at: now() }).execute();
        } else await recordEvent(trx, dialect, e.accountId, 'contact.updated', { contact_id: 0, ...e.payload } as EventMap['contact.updated']);
      }
    });
  /** The test's own marks, carried next to the payload's keys (the payload schema admits extra keys). */
  const marks = (e: OutboxEvent) => e.payload as Record<string, unknown>;
  const lastId = async () => Number((await db().selectFrom('events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst())?.m ?? 0);
  const deadOf = (listener: string) => db().selectFrom('dead_events').selectAll().where('listener', '=', listener).orderBy('event_id').execute();
  /** The test's own table, outside the app's schema type. */
  const effects = () => (db() as unknown as Kysely<{ dead_test_effects: { event_id: number; listener: string } }>).selectFrom('dead_test_effects');
  const effectsOf = async (listener: string) =>
    (await effects().select('event_id').where('listener', '=', listener).orderBy('event_id').execute()).map((r) => Number(r.event_id));

  /** A node: its own connection and dispatcher on the test server's database. */
  function node(log: ReturnType<typeof captureLog>['log']) {
    const database: Database = openDatabase(h.databaseUrl);
    const dispatcher = new Dispatcher(database, log, { pollMs: 50, retry: FAST, databaseUrl: dialect === 'postgres' ? h.databaseUrl : undefined });
    return {
      database,
      dispatcher,
      async stop() {
        await dispatcher.stop();
        await database.close();
      },
    };
  }

  /**
   * Throws on events marked `poison` (a real stack overflow), writes one effect row per event in the
   * cursor's transaction (durable), and records what committed (afterCommit) and every attempt.
   */
  function poisonous(name: string, durable: boolean, committed: number[], attempts: Map<number, number>): Listener {
    return {
      name,
      durable,
      async handle(events: OutboxEvent[], trx) {
        for (const e of events) {
          attempts.set(e.id, (attempts.get(e.id) ?? 0) + 1);
          if (marks(e).poison) JSON.stringify({ custom_attributes: DEEP });
          if (durable) await (trx as unknown as Kysely<any>).insertInto('dead_test_effects').values({ event_id: e.id, listener: name }).execute();
        }
      },
      afterCommit: (events) => void committed.push(...events.map((e) => e.id)),
    };
  }

  for (const durable of [true, false]) {
    const kind = durable ? 'durable listener' : 'non-durable listener (in-memory cursor on SQLite)';
    it(`${kind}: a poisoned event is retried alone a bounded number of times, recorded as dead, and the next events are handled exactly once; a restart neither replays nor loses anything`, async () => {
      const name = `poison-${durable ? 'd' : 'm'}-${dialect}`;
      const committed: number[] = [];
      const attempts = new Map<number, number>();
      const cap = captureLog();
      const n1 = node(cap.log);
      n1.dispatcher.register(poisonous(name, durable, committed, attempts));
      await n1.dispatcher.start();
      try {
        // One transaction, so the listener sees them in one batch: good, poison (A), poison (B), unreadable (A), good.
        await emit([
          { accountId: a.accountId, payload: { n: 1 } },
          { accountId: a.accountId, payload: { poison: true } },
          { accountId: b.accountId, payload: { poison: true } },
          { accountId: a.accountId, payload: {}, raw: '{"broken' },
          { accountId: b.accountId, payload: { n: 2 } },
        ]);
        const first = (await lastId()) - 4;
        const [good1, poisonA, poisonB, broken, good2] = [first, first + 1, first + 2, first + 3, first + 4];
        await emit([{ accountId: a.accountId, payload: { n: 3 } }]);
        const good3 = await lastId();
        await n1.dispatcher.drain(20_000);

        expect(committed).toEqual([good1, good2, good3]);
        if (durable) expect(await effectsOf(name)).toEqual([good1, good2, good3]);
        // The bound: `attempts` (3) alone, plus at most one try inside the failed batch; the unreadable one is never handed out.
        for (const id of [poisonA, poisonB]) {
          expect(attempts.get(id)).toBeGreaterThanOrEqual(3);
          expect(attempts.get(id)).toBeLessThanOrEqual(4);
        }
        expect(attempts.has(broken)).toBe(false);

        const dead = await deadOf(name);
        expect(dead.map((d) => [Number(d.event_id), d.account_id, d.event_name, d.attempts])).toEqual([
          [poisonA, a.accountId, 'contact.updated', 3],
          [poisonB, b.accountId, 'contact.updated', 3],
          [broken, a.accountId, 'contact.updated', 1],
        ]);
        expect(dead[0].error).toMatch(/RangeError: Maximum call stack size exceeded/);
        expect(dead[0].error.length).toBeLessThanOrEqual(500);
        // Logged at error level, with what an operator needs.
        const logged = cap.entries.filter((e) => e.level === 'error' && e.obj?.event_id === poisonA);
        expect(logged).toHaveLength(1);
        expect(logged[0].obj).toMatchObject({ listener: name, event: 'contact.updated', account_id: a.accountId });
        expect(logged[0].obj.error).toMatch(/Maximum call stack/);
      } finally {
        await n1.stop();
      }

      // Restart: the same listener on a new node resumes after the dead events, replays nothing.
      const committed2: number[] = [];
      const attempts2 = new Map<number, number>();
      const n2 = node(captureLog().log);
      n2.dispatcher.register(poisonous(name, durable, committed2, attempts2));
      await n2.dispatcher.start();
      try {
        await emit([{ accountId: a.accountId, payload: { n: 4 } }]);
        const good4 = await lastId();
        await n2.dispatcher.drain(20_000);
        expect(committed2).toEqual([good4]);
        expect([...attempts2.keys()]).toEqual([good4]);
        expect(await deadOf(name)).toHaveLength(3);
        if (durable) expect((await effectsOf(name)).slice(-1)).toEqual([good4]);
      } finally {
        await n2.stop();
      }
    });
  }

  it('transient failures (TransientError, SQLITE_BUSY, serialization failure, ECONNREFUSED, ioredis) are retried with backoff and never skipped', async () => {
    const name = `transient-${dialect}`;
    const failures: unknown[] = [
      new TransientError('downstream away'),
      Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
      Object.assign(new Error('could not serialize access'), { code: '40001' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }),
      new Error('Connection is closed.'),
    ]; // more failures than the poison bound (3): a poison classification would skip the event
    const committed: number[] = [];
    const tries: string[] = [];
    const cap = captureLog();
    const n = node(cap.log);
    n.dispatcher.register({
      name,
      async handle(events) {
        for (const e of events) {
          tries.push(String(marks(e).n));
          if (marks(e).n === 'flaky' && failures.length) throw failures.shift();
        }
      },
      afterCommit: (events) => void committed.push(...events.map((e) => e.id)),
    });
    await n.dispatcher.start();
    try {
      await emit([
        { accountId: a.accountId, payload: { n: 'before' } },
        { accountId: a.accountId, payload: { n: 'flaky' } },
        { accountId: a.accountId, payload: { n: 'after' } },
      ]);
      const last = await lastId();
      await n.dispatcher.drain(20_000);

      expect(failures).toHaveLength(0);
      expect(committed).toEqual([last - 2, last - 1, last]); // each exactly once, in order, none skipped
      expect(tries.filter((t) => t === 'flaky')).toHaveLength(6); // five transient failures, then success
      expect(await deadOf(name)).toEqual([]);
      // Warned about, not an error per attempt.
      expect(cap.entries.filter((e) => e.level === 'error')).toEqual([]);
      expect(cap.entries.some((e) => e.level === 'warn' && e.obj?.listener === name)).toBe(true);
    } finally {
      await n.stop();
    }
  });

  it("administrators see their account's dead events (newest first, paged); nobody else does", async () => {
    // The server's own listeners (webhooks, real-time) saw the same events: let them finish first.
    await h.server.ctx.dispatcher.drain(20_000);
    const rows = await db().selectFrom('dead_events').selectAll().where('account_id', '=', a.accountId).orderBy('id', 'desc').execute();
    expect(rows.length).toBeGreaterThan(0);
    const mine = await h.api('GET', `/api/v1/accounts/${a.accountId}/dead_events`, { token: a.admin.token });
    expect(mine.status).toBe(200);
    expect(mine.body.meta).toEqual({ count: rows.length, current_page: 1, total_pages: 1 });
    expect(mine.body.payload.map((d: any) => d.id)).toEqual(rows.map((r) => r.id));
    expect(mine.body.payload[0]).toEqual({
      id: rows[0].id,
      listener: rows[0].listener,
      event_id: Number(rows[0].event_id),
      event: 'contact.updated',
      account_id: a.accountId,
      error: rows[0].error,
      attempts: rows[0].attempts,
      created_at: Math.floor(Number(rows[0].created_at) / 1000),
    });
    expect(mine.body.payload.every((d: any) => d.account_id === a.accountId)).toBe(true);

    // Account B sees only its own.
    const theirs = await h.api('GET', `/api/v1/accounts/${b.accountId}/dead_events`, { token: b.admin.token });
    expect(theirs.status).toBe(200);
    expect(theirs.body.payload.length).toBeGreaterThan(0);
    expect(theirs.body.payload.every((d: any) => d.account_id === b.accountId)).toBe(true);
    const ids = new Set(rows.map((r) => r.id));
    expect(theirs.body.payload.some((d: any) => ids.has(d.id))).toBe(false);

    // B's administrator on A, A's agent, no token: refused.
    expect((await h.api('GET', `/api/v1/accounts/${a.accountId}/dead_events`, { token: b.admin.token })).status).toBe(401);
    expect((await h.api('GET', `/api/v1/accounts/${a.accountId}/dead_events`, { token: agentA.token })).status).toBe(401);
    expect((await h.api('GET', `/api/v1/accounts/${a.accountId}/dead_events`)).status).toBe(401);
    expect((await h.api('GET', `/api/v1/accounts/${a.accountId}/dead_events?page=0`, { token: a.admin.token })).status).toBe(422);
    const page2 = await h.api('GET', `/api/v1/accounts/${a.accountId}/dead_events?page=2`, { token: a.admin.token });
    expect(page2.status).toBe(200);
    expect(page2.body.payload).toEqual([]);
  });
});

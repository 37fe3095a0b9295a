import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgUrl } from '../support/harness.js';
import { dropPgSchema, ensurePgSchema, openDatabase, type Database } from '../../src/kernel/db.js';
import { migrate } from '../../src/kernel/migrate.js';
import { Dispatcher, recordEvent, type Listener, type OutboxEvent } from '../../src/kernel/events/outbox.js';
import type { EventMap } from '../../src/kernel/events/types.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 13: the dispatcher's cheap paths keep the outbox's guarantees.
 * - Wake-ups coalesce: the commits of one event-loop turn reach a listener as one batch.
 * - SQLite, a `plan` listener (the webhook listener's shape): a batch that writes nothing opens no
 *   transaction, a batch that writes commits only its writes, the cursor moves in memory and is
 *   saved on stop; after a crash (nothing saved) the events are planned again and, the writes
 *   being idempotent, every event has exactly one effect — none lost, none doubled.
 * - PostgreSQL, a `skip` listener: skipped batches open no transaction and are handled by nobody;
 *   every other event is handled exactly once, also by two dispatchers sharing the cursor.
 */

const quietLog = { error: () => {}, info: () => {}, warn: () => {} };
type Effects = Kysely<{ planned_effects: { event_id: number; listener: string } }>;

/** Counts the transactions a dispatcher opens on its database. */
function countTransactions(database: Database) {
  const counter = { n: 0 };
  const original = database.transaction.bind(database);
  database.transaction = (fn) => {
    counter.n++;
    return original(fn);
  };
  return counter;
}

const emit = (database: Database, marks: Record<string, unknown>[]) =>
  database.transaction(async (trx) => {
    for (const m of marks) await recordEvent(trx, database.dialect, 1, 'contact.updated', { contact_id: 0, ...m } as EventMap['contact.updated']);
  });
const mark = (e: OutboxEvent) => e.payload as Record<string, unknown>;

describe('outbox: wake-ups coalesce per event-loop turn [sqlite]', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-coalesce-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('ten transactions committed one after another in one turn reach the listener as one batch', async () => {
    const database = openDatabase(`sqlite:${path.join(dir, 'db.sqlite')}`);
    await migrate(database);
    const batches: number[][] = [];
    const d = new Dispatcher(database, quietLog, { pollMs: 60_000 });
    d.register({ name: 'coalesce', async handle(events) { batches.push(events.map((e) => e.id)); } });
    await d.start();
    try {
      await d.drain();
      batches.length = 0;
      // Each awaited before the next begins: a wake-up per commit would read after the first one.
      for (let i = 0; i < 10; i++) await emit(database, [{ n: i }]);
      await d.drain();
      expect(batches.flat()).toHaveLength(10);
      expect(batches).toHaveLength(1);
    } finally {
      await d.stop();
      await database.close();
    }
  });
});

describe('outbox: a plan listener on SQLite', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-planned-'));
  const url = `sqlite:${path.join(dir, 'db.sqlite')}`;
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Writes one effect row per event marked `write` (idempotent: the unique key dedupes a re-run). */
  const planner = (name: string, planned: number[]): Listener => ({
    name,
    async handle() {
      throw new Error('a plan listener is never handed a batch through handle');
    },
    async plan(events) {
      planned.push(...events.map((e) => e.id));
      const writes = events.filter((e) => mark(e).write);
      if (!writes.length) return null;
      return async (trx) => {
        await (trx as unknown as Effects)
          .insertInto('planned_effects')
          .values(writes.map((e) => ({ event_id: e.id, listener: name })))
          .onConflict((oc) => oc.column('event_id').doNothing())
          .execute();
      };
    },
  });
  const effects = async (database: Database) =>
    (await (database.db as unknown as Effects).selectFrom('planned_effects').select('event_id').orderBy('event_id').execute()).map((r) => Number(r.event_id));
  const stored = async (database: Database, name: string) =>
    Number((await database.db.selectFrom('event_consumers').select('last_event_id').where('name', '=', name).executeTakeFirstOrThrow()).last_event_id);

  beforeAll(async () => {
    const database = openDatabase(url);
    await migrate(database);
    await sql`create table planned_effects (event_id integer primary key, listener text not null)`.execute(database.db);
    await database.close();
  });

  it('writes only when a batch has writes; the cursor is saved on stop, and a crash re-plans without doubling an effect', async () => {
    const name = 'planned';
    const db1 = openDatabase(url);
    const planned1: number[] = [];
    const d1 = new Dispatcher(db1, quietLog, { pollMs: 60_000 });
    d1.register(planner(name, planned1));
    await d1.start();
    const before = await stored(db1, name);
    const tx = countTransactions(db1);

    await emit(db1, [{ n: 1 }, { n: 2 }]);
    await d1.drain();
    expect(tx.n).toBe(1); // the emit's own transaction: the batch that wrote nothing opened none
    await emit(db1, [{ n: 3 }, { write: true, n: 4 }]);
    await d1.drain();
    expect(tx.n).toBe(3); // the emit's and the batch's writes
    expect(await stored(db1, name)).toBe(before); // no cursor write of its own
    const written = await effects(db1);
    expect(written).toHaveLength(1);

    await d1.stop();
    const savedAt = await stored(db1, name);
    expect(savedAt).toBe(planned1[planned1.length - 1]); // saved on stop
    await db1.close();

    // A node that dies before saving: its cursor stays where it was stored.
    const db2 = openDatabase(url);
    const planned2: number[] = [];
    const d2 = new Dispatcher(db2, quietLog, { pollMs: 60_000 });
    d2.register(planner(name, planned2));
    await d2.start();
    await emit(db2, [{ write: true, n: 5 }, { n: 6 }, { write: true, n: 7 }]);
    await d2.drain();
    const crashedAt = await stored(db2, name);
    expect(crashedAt).toBe(savedAt);
    // kill -9: no stop, no save (the dispatcher's timers would save within a second).
    (d2 as unknown as { cursors: { save(): Promise<void> } }).cursors.save = async () => {};
    await d2.stop();
    await db2.close();

    const db3 = openDatabase(url);
    const planned3: number[] = [];
    const d3 = new Dispatcher(db3, quietLog, { pollMs: 60_000 });
    d3.register(planner(name, planned3));
    await d3.start();
    await d3.drain();
    // Everything after the stored cursor is planned again (at least once)…
    expect(planned3).toEqual(planned2);
    // …and every write-marked event has exactly one effect.
    const all = await effects(db3);
    expect(all).toEqual([...new Set(all)]);
    expect(all).toHaveLength(3);
    await d3.stop();
    expect(await stored(db3, name)).toBe(planned2[planned2.length - 1]);
    await db3.close();
  });
});

const url = pgUrl();
const schema = `t_outbox_skip_${process.pid}`;

(url ? describe : describe.skip)('outbox: a skip listener on PostgreSQL', () => {
  const nodes: Database[] = [];
  const node = () => {
    const d = openDatabase(url!, { pgSchema: schema });
    nodes.push(d);
    return d;
  };
  beforeAll(async () => {
    await ensurePgSchema(url!, schema);
    const a = node();
    await migrate(a);
    await sql`create table planned_effects (event_id bigint not null, listener text not null)`.execute(a.db);
  });
  afterAll(async () => {
    for (const d of nodes) await d.db.destroy();
    await dropPgSchema(url!, schema);
  });

  /** Skips batches of events marked `quiet` only; handles the rest in the cursor's transaction. */
  const skipper = (name: string, handled: number[]): Listener => ({
    name,
    async skip(events) {
      return events.every((e) => mark(e).quiet);
    },
    async handle(events, trx) {
      await (trx as unknown as Effects)
        .insertInto('planned_effects')
        .values(events.map((e) => ({ event_id: e.id, listener: name })))
        .execute();
    },
    afterCommit: (events) => void handled.push(...events.map((e) => e.id)),
  });
  const effectsOf = async (database: Database, name: string) =>
    (await (database.db as unknown as Effects).selectFrom('planned_effects').select('event_id').where('listener', '=', name).orderBy('event_id').execute()).map((r) =>
      Number(r.event_id),
    );
  const lastId = async (database: Database) => Number((await database.db.selectFrom('events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst())?.m ?? 0);

  it('a skipped batch opens no transaction; the skipped position is stored by the periodic save', async () => {
    const database = node();
    const handled: number[] = [];
    const d = new Dispatcher(database, quietLog, { pollMs: 60_000, databaseUrl: url! });
    d.register(skipper('skip-one', handled));
    await d.start();
    try {
      const tx = countTransactions(database);
      await emit(database, [{ quiet: true }, { quiet: true }]);
      const quietTo = await lastId(database);
      await d.drain();
      expect(tx.n).toBe(1); // the emit's own
      expect(handled).toEqual([]);
      await emit(database, [{ n: 1 }]);
      const loud = await lastId(database);
      await d.drain();
      expect(handled).toEqual([loud]);
      expect(await effectsOf(database, 'skip-one')).toEqual([loud]);
      await emit(database, [{ quiet: true }]);
      const last = await lastId(database);
      await d.drain();
      expect(loud).toBeGreaterThan(quietTo);
      await (d as unknown as { cursors: { save(): Promise<void> } }).cursors.save();
      const row = await database.db.selectFrom('event_consumers').select('last_event_id').where('name', '=', 'skip-one').executeTakeFirstOrThrow();
      expect(Number(row.last_event_id)).toBe(last);
    } finally {
      await d.stop();
    }
  });

  it('two dispatchers sharing the cursor: every event not skipped is handled exactly once, in id order', { timeout: 60_000 }, async () => {
    const name = 'skip-two';
    const [a, b] = [node(), node()];
    const seenA: number[] = [];
    const seenB: number[] = [];
    const da = new Dispatcher(a, quietLog, { pollMs: 20, databaseUrl: url! });
    const db = new Dispatcher(b, quietLog, { pollMs: 20, databaseUrl: url! });
    da.register(skipper(name, seenA));
    db.register(skipper(name, seenB));
    await da.start();
    await db.start();
    try {
      const loud: number[] = [];
      const start = await lastId(a);
      for (let round = 0; round < 30; round++) {
        const marks = Array.from({ length: 1 + (round % 4) }, (_, i) => ({ quiet: (round + i) % 3 !== 0 }));
        await Promise.all(marks.map((m, i) => emit(i % 2 ? b : a, [m])));
      }
      const events = await a.db.selectFrom('events').select(['id', 'payload']).where('id', '>', start).orderBy('id').execute();
      for (const e of events) if (JSON.parse(e.payload).quiet === false) loud.push(Number(e.id));
      expect(loud.length).toBeGreaterThan(10);
      await waitFor(async () => (await effectsOf(a, name)).length >= loud.length, 'every loud event handled', 30_000);
      await da.drain();
      await db.drain();
      const effects = await effectsOf(a, name);
      // Exactly once: no event twice (a skipped position never hides a handled one, nor the reverse).
      expect(effects).toEqual([...new Set(effects)]);
      // Every event of a batch that was not all quiet is handled; every loud event is among them.
      for (const id of loud) expect(effects).toContain(id);
      // Each dispatcher handled its share in id order.
      for (const seen of [seenA, seenB]) expect(seen).toEqual([...seen].sort((x, y) => x - y));
    } finally {
      await da.stop();
      await db.stop();
    }
  });
});

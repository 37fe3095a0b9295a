import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgUrl } from '../support/harness.js';
import { dropPgSchema, ensurePgSchema, openDatabase, type Database, type Tx } from '../../src/kernel/db.js';
import { migrate } from '../../src/kernel/migrate.js';
import { Dispatcher, recordEvent, type Listener, type OutboxEvent } from '../../src/kernel/events/outbox.js';
import { waitFor } from '../support/wait.js';
import { CommitHorizon } from '../../src/kernel/events/horizon.js';

/**
 * Issue 10, item 8: no global lock on event writes (PostgreSQL). Writers commit in parallel; the
 * dispatcher never delivers past an event whose transaction is still in flight (no skip), delivers
 * every committed event exactly once, and keeps commit order within a conversation.
 */

const quiet = { error: () => {}, info: () => {}, warn: () => {} };
const url = pgUrl();
const schema = `t_outbox_conc_${process.pid}`;

/** Collects what a listener saw after its batches committed (so a rolled-back batch never counts). */
function collector(name: string) {
  const seen: OutboxEvent[] = [];
  const listener: Listener = {
    name,
    async handle() {},
    afterCommit: (events) => void seen.push(...events),
  };
  return { seen, listener };
}

const OPEN = 1;
const COMMITTED = 2;
const ROLLED_BACK = 3;
const AFTER_GAP = 4;
const contactId = (e: OutboxEvent) => (e.name === 'contact.updated' ? e.payload.contact_id : null);
const conversationId = (e: OutboxEvent) => (e.name === 'conversation.updated' ? e.payload.conversation_id : null);
const seqOf = (e: OutboxEvent) => (e.name === 'conversation.updated' ? Number(e.payload.changed_attributes?.[0]?.seq?.current_value) : NaN);

/** Whether the dispatcher read events it holds back behind an id still in flight. */
const heldBack = (d: Dispatcher) => (d as unknown as { reader: { horizon: { waiting: boolean } | null } }).reader.horizon?.waiting === true;

/**
 * A transaction left open until `release()` (commit) or `release('rollback')`: `ready` resolves once
 * its body ran up to the wait.
 */
function openTransaction(database: Database, body: (trx: Tx) => Promise<void>) {
  let release!: (how?: 'rollback') => void;
  let ready!: () => void;
  const released = new Promise<'rollback' | undefined>((r) => (release = r));
  const isReady = new Promise<void>((r) => (ready = r));
  const done = database.transaction(async (trx) => {
    await body(trx);
    ready();
    if ((await released) === 'rollback') throw new Error('rolled back on purpose');
  });
  return { ready: isReady, release, done };
}

describe('CommitHorizon: delivery in id order, never past an id that may still commit', () => {
  const ids = (...xs: number[]) => xs.map((id) => ({ id }));
  it('delivers a contiguous run, stops at a gap, and passes it only once the xmin reached the mark taken after it was seen', () => {
    const h = new CommitHorizon();
    expect(h.deliverable(10, ids(11, 12), { xmin: 100n }).map((r) => r.id)).toEqual([11, 12]);
    expect(h.waiting).toBe(false);
    // 13 is missing (in flight, or rolled back): 14 and 15 wait.
    expect(h.deliverable(12, ids(14, 15), { xmin: 100n })).toEqual([]);
    expect(h.waiting && h.unmarked).toBe(true);
    // Until marked, no xmin proves anything.
    expect(h.deliverable(12, ids(14, 15), { xmin: 10_000n })).toEqual([]);
    h.mark(120n);
    expect(h.deliverable(12, ids(14, 15), { xmin: 119n })).toEqual([]);
    // 13 committed meanwhile: delivered in order, whatever the mark.
    expect(h.deliverable(12, ids(13, 14, 15), { xmin: 119n }).map((r) => r.id)).toEqual([13, 14, 15]);
  });
  it('a gap is final once every transaction older than the mark ended; ids above what was seen wait for their own mark', () => {
    const h = new CommitHorizon();
    expect(h.deliverable(0, ids(2, 3), { xmin: 50n })).toEqual([]);
    h.mark(60n);
    // xmin passed the mark: 1 never comes; 2, 3 go; 5 (after a new gap above what was seen) waits.
    expect(h.deliverable(0, ids(2, 3, 5), { xmin: 60n }).map((r) => r.id)).toEqual([2, 3]);
    expect(h.unmarked).toBe(true);
    h.mark(70n);
    expect(h.deliverable(3, ids(5), { xmin: 65n })).toEqual([]);
    expect(h.deliverable(3, ids(5), { xmin: 70n }).map((r) => r.id)).toEqual([5]);
    expect(h.waiting).toBe(false);
  });
});

(url ? describe : describe.skip)('outbox without a global lock [postgres]', () => {
  const nodes: Database[] = [];
  const node = (poolSize = 10) => {
    const d = openDatabase(url!, { pgSchema: schema, poolSize });
    nodes.push(d);
    return d;
  };
  let a: Database;
  let b: Database;

  beforeAll(async () => {
    await ensurePgSchema(url!, schema);
    a = node();
    b = node();
    await migrate(a);
    await sql`create table conc_convs (id integer primary key, n integer not null default 0)`.execute(a.db);
    await sql`insert into conc_convs (id) select g from generate_series(1, 6) g`.execute(a.db);
  });

  afterAll(async () => {
    for (const d of nodes) await d.db.destroy();
    await dropPgSchema(url!, schema);
  });

  /** Runs `fn` with a started dispatcher on `database` whose one listener collects what it saw. */
  async function withDispatcher(database: Database, name: string, fn: (seen: OutboxEvent[], d: Dispatcher) => Promise<void>) {
    const { seen, listener } = collector(name);
    const dispatcher = new Dispatcher(database, quiet, { pollMs: 20, databaseUrl: url! });
    dispatcher.register(listener);
    await dispatcher.start();
    try {
      await fn(seen, dispatcher);
    } finally {
      await dispatcher.stop();
    }
  }
  const contactEvent = (trx: Tx, contactId: number) => recordEvent(trx, 'postgres', 1, 'contact.updated', { contact_id: contactId });

  it('a writer commits while another holds its event uncommitted; nothing is delivered past the open one until it commits, then both exactly once', async () => {
    await withDispatcher(b, 'conc_pair', async (seen, dispatcher) => {
      const first = openTransaction(a, (trx) => contactEvent(trx, OPEN));
      await first.ready;
      // With a lock shared by every writer this would wait for the open transaction: lock_timeout
      // makes that a failure (55P03) instead of a hang, with no clock in the assertion.
      await b.transaction(async (trx) => {
        await sql`set local lock_timeout = '2s'`.execute(trx);
        await sql`set local statement_timeout = '5s'`.execute(trx);
        await contactEvent(trx, COMMITTED);
      });
      // The dispatcher has read the committed event and holds it back behind the open one.
      await waitFor(() => heldBack(dispatcher), 'the dispatcher to hold the committed event back');
      expect(seen).toEqual([]);

      first.release();
      await first.done;
      await dispatcher.drain();
      expect(seen.map(contactId)).toEqual([OPEN, COMMITTED]);
      expect(seen[0].id).toBeLessThan(seen[1].id);
    });
  });

  it('an event whose transaction rolled back leaves a gap that never blocks the log', async () => {
    await withDispatcher(b, 'conc_gap', async (seen, dispatcher) => {
      const doomed = openTransaction(a, (trx) => contactEvent(trx, ROLLED_BACK));
      await doomed.ready;
      await b.transaction((trx) => contactEvent(trx, AFTER_GAP));
      await waitFor(() => heldBack(dispatcher), 'the dispatcher to wait at the gap');
      expect(seen).toEqual([]);
      // Roll the open transaction back: its id is a gap for ever.
      doomed.release('rollback');
      await expect(doomed.done).rejects.toThrow('rolled back on purpose');
      await waitFor(() => seen.length === 1 || undefined, 'the event after the gap');
      expect(seen.map(contactId)).toEqual([AFTER_GAP]);
    });
  });

  it("another node's commit wakes this node's dispatcher through one NOTIFY sent after the commit (no polling)", async () => {
    const writer = new Dispatcher(a, quiet, { pollMs: 3_600_000, databaseUrl: url! }); // no listeners: it only tells the others
    const { seen, listener } = collector('conc_wake');
    const reader = new Dispatcher(b, quiet, { pollMs: 3_600_000, databaseUrl: url! });
    reader.register(listener);
    await writer.start();
    await reader.start();
    // Let the reader's start-up round finish, so only a notification can wake it again.
    const idle = () => !(reader as unknown as { loops: Map<string, { running: boolean }> }).loops.get('conc_wake')!.running;
    await waitFor(idle, 'the reader to be idle');
    try {
      await a.transaction((trx) => recordEvent(trx, 'postgres', 1, 'contact.updated', { contact_id: 77 }));
      await waitFor(() => seen.length === 1 || undefined, 'the other node to be woken');
      expect(seen.map(contactId)).toEqual([77]);
    } finally {
      await reader.stop();
      await writer.stop();
    }
  });

  it('a burst from 3 nodes × 8 connections, some rolled back: every committed event exactly once, each conversation in commit order, two dispatchers sharing the cursor', async () => {
    const writers = [a, b, node(8)];
    const { seen, listener } = collector('conc_burst');
    const other = collector('conc_burst');
    const d1 = new Dispatcher(a, quiet, { pollMs: 20, databaseUrl: url! });
    const d2 = new Dispatcher(writers[2], quiet, { pollMs: 20, databaseUrl: url! });
    d1.register(listener);
    d2.register(other.listener);
    await d1.start();
    await d2.start();
    const committed: { conv: number; seq: number }[] = [];
    const PER_WRITER = 12;
    try {
      await Promise.all(
        writers.flatMap((w, wi) =>
          Array.from({ length: 8 }, async (_, ci) => {
            for (let k = 0; k < PER_WRITER; k++) {
              const conv = ((wi * 8 + ci + k) % 6) + 1;
              const rollback = (wi * 8 + ci + k) % 7 === 0;
              try {
                await w.transaction(async (trx) => {
                  // An event first (its id is taken now), then the conversation lock, as services do it.
                  await recordEvent(trx, 'postgres', 1, 'contact.updated', { contact_id: -conv });
                  const { rows } = await sql<{ n: number }>`update conc_convs set n = n + 1 where id = ${conv} returning n`.execute(trx);
                  const seq = rows[0].n;
                  await recordEvent(trx, 'postgres', 1, 'conversation.updated', { conversation_id: conv, changed_attributes: [{ seq: { previous_value: seq - 1, current_value: seq } }] });
                  if (k % 3 === 0) await new Promise((r) => setImmediate(r)); // interleave commits
                  if (rollback) throw new Error('rollback');
                  committed.push({ conv, seq });
                });
              } catch (err) {
                if ((err as Error).message !== 'rollback') throw err;
              }
            }
          }),
        ),
      );
      await d1.drain(30_000);
      await d2.drain(30_000);
      const all = [...seen, ...other.seen];
      const ids = all.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length); // exactly once
      const delivered = all.filter((e) => e.name === 'conversation.updated').sort((x, y) => x.id - y.id);
      expect(delivered.length).toBe(committed.length);
      expect(all.length).toBe(2 * committed.length);
      // Per conversation, in delivery (id) order, the sequence numbers written under the lock only grow.
      for (let conv = 1; conv <= 6; conv++) {
        const seqs = delivered.filter((e) => conversationId(e) === conv).map(seqOf);
        const expected = committed.filter((c) => c.conv === conv).map((c) => c.seq).sort((x, y) => x - y);
        expect(seqs).toEqual(expected);
      }
      // The batches of each dispatcher were in id order too.
      for (const list of [seen, other.seen]) expect(list.map((e) => e.id)).toEqual([...list.map((e) => e.id)].sort((x, y) => x - y));
    } finally {
      await d1.stop();
      await d2.stop();
    }
  });
});

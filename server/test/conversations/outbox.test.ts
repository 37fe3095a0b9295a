import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, type TestServer } from '../support/harness.js';
import { createContact, lastEventId, useScene, type Scene } from '../support/conversations.js';
import { recordEvent, type Listener, type OutboxEvent } from '../../src/kernel/events/outbox.js';
import type { EventMap } from '../../src/kernel/events/types.js';
import { waitFor } from '../support/wait.js';

const CHILD = path.resolve(import.meta.dirname, '../support/outbox-child.ts');


/** A consumer process: its stdout lines are collected; `kill()` is kill -9. */
function startChild(databaseUrl: string, listener: string, mode: 'block' | 'work') {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, OUTBOX_DB_URL: databaseUrl, OUTBOX_LISTENER: listener, OUTBOX_MODE: mode },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += String(d);
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    lines,
    stderr: () => stderr,
    waitLine: (line: string, ms = 20_000) => waitFor(() => lines.includes(line), `child line "${line}" (stderr: ${stderr.slice(-500)})`, ms),
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describeEachDb('outbox dispatcher', (dialect) => {
  let h: TestServer;
  let s: Scene;
  useScene(dialect, (started) => ({ h, s } = started));

  beforeAll(async () => {
    await h.server.ctx.database.db.schema
      .createTable('outbox_test_effects')
      .ifNotExists()
      .addColumn('event_id', 'bigint', (c) => c.notNull())
      .addColumn('listener', 'varchar(64)', (c) => c.notNull())
      .addColumn('pid', 'integer')
      .execute();
  });

  /** Registers on the running server's dispatcher and waits until its cursor exists (it starts at the log's end). */
  async function listen(listener: Listener) {
    h.server.ctx.dispatcher.register(listener);
    await waitFor(
      () => h.server.ctx.database.db.selectFrom('event_consumers').select('name').where('name', '=', listener.name).executeTakeFirst(),
      `cursor of ${listener.name}`,
    );
  }

  const cursorOf = async (name: string) =>
    Number(
      (await h.server.ctx.database.db.selectFrom('event_consumers').select('last_event_id').where('name', '=', name).executeTakeFirstOrThrow())
        .last_event_id,
    );

  describe('in process', () => {
    it('hands every committed event, in commit order, to each listener with its own cursor', async () => {
      const a: OutboxEvent[] = [];
      const b: OutboxEvent[] = [];
      await listen({ name: `order-a-${dialect}`, handle: async (evs) => void a.push(...evs) });
      await listen({ name: `order-b-${dialect}`, handle: async (evs) => void b.push(...evs) });
      const start = await lastEventId(h);
      await Promise.all(Array.from({ length: 12 }, (_, i) => createContact(h, s, { name: `c${i}` })));

      // Commit order, not insertion order: a transaction that records its event first but commits
      // later must still reach listeners (and before a later-committed one on PostgreSQL's ids).
      const database = h.server.ctx.database;
      let releaseSlow!: () => void;
      const slowCommitted = database.transaction(async (trx) => {
        await recordEvent(trx, database.dialect, s.accountId, 'contact.updated', { contact_id: -1, marker: 'slow' } as EventMap['contact.updated']);
        await new Promise<void>((r) => (releaseSlow = r));
      });
      await waitFor(() => typeof releaseSlow === 'function', 'slow transaction to start');
      const fastCommitted = database.transaction(async (trx) => {
        await recordEvent(trx, database.dialect, s.accountId, 'contact.updated', { contact_id: -2, marker: 'fast' } as EventMap['contact.updated']);
      });
      await new Promise((r) => setTimeout(r, 100));
      releaseSlow();
      await Promise.all([slowCommitted, fastCommitted]);
      await h.server.ctx.dispatcher.drain();

      const expected = (await h.server.ctx.database.db.selectFrom('events').select(['id', 'name']).where('id', '>', start).orderBy('id').execute()).map((e) =>
        Number(e.id),
      );
      expect(expected).toHaveLength(12 * 1 + 2);
      for (const got of [a, b]) {
        expect(got.map((e) => e.id)).toEqual(expected);
        const markers = got.map((e) => (e.payload as Record<string, unknown>).marker).filter(Boolean);
        expect(markers).toEqual(['slow', 'fast']);
      }
      expect(await cursorOf(`order-a-${dialect}`)).toBe(expected[expected.length - 1]);
      expect(await cursorOf(`order-b-${dialect}`)).toBe(expected[expected.length - 1]);
    });

    it('a failing listener does not hold another back, and resumes from its own cursor exactly once', async () => {
      let failures = 3;
      const failing: number[] = [];
      const healthy: number[] = [];
      await listen({
        name: `failing-${dialect}`,
        handle: async (evs) => {
          if (failures > 0) {
            failures--;
            throw new Error('listener down');
          }
          failing.push(...evs.map((e) => e.id));
        },
      });
      await listen({ name: `healthy-${dialect}`, handle: async (evs) => void healthy.push(...evs.map((e) => e.id)) });
      await createContact(h, s);
      const id = await lastEventId(h);
      await waitFor(() => healthy.includes(id), 'healthy listener');
      await waitFor(() => failing.includes(id), 'failing listener to recover');
      expect(failing.filter((x) => x === id)).toHaveLength(1);
      expect(failures).toBe(0);
      // handle() ran; the cursor moves when its transaction commits.
      await waitFor(async () => (await cursorOf(`failing-${dialect}`)) === id, 'failing listener cursor');
    });

    // On SQLite the one connection is held by a transaction until it ends, so a listener that blocks
    // inside handle() blocks the whole database: there, listeners must be quick (DB writes only) and
    // hand slow work to afterCommit / a worker. On PostgreSQL each listener has its own connection.
    if (dialect === 'postgres') it('a slow listener does not block another (PostgreSQL)', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const slow: number[] = [];
      const fast: number[] = [];
      await listen({
        name: `slow-${dialect}`,
        handle: async (evs) => {
          await gate;
          slow.push(...evs.map((e) => e.id));
        },
      });
      await listen({ name: `fast-${dialect}`, handle: async (evs) => void fast.push(...evs.map((e) => e.id)) });
      await createContact(h, s);
      await createContact(h, s);
      const id = await lastEventId(h);
      await waitFor(() => fast.includes(id), 'fast listener while the slow one is blocked');
      expect(slow).toEqual([]);
      release();
      await waitFor(() => slow.includes(id), 'slow listener after release');
    });
  });

  describe('crash and restart', () => {
    it('kill -9 after commit, before the listener finished: the restarted process handles the event exactly once', async () => {
      const name = `crash-${dialect}-${Date.now()}`;
      const db = h.server.ctx.database.db;

      const first = startChild(h.databaseUrl, name, 'block');
      try {
        await first.waitLine('ready');
        await createContact(h, s, { name: 'survives the crash' });
        const eventId = await lastEventId(h);
        await first.waitLine(`received ${eventId}`);
        await first.kill9();
        expect(await db.selectFrom('outbox_test_effects' as any).selectAll().where('listener', '=', name).execute()).toEqual([]);
        expect(await cursorOf(name)).toBeLessThan(eventId);

        const second = startChild(h.databaseUrl, name, 'work');
        try {
          await second.waitLine(`handled ${eventId}`);
          await createContact(h, s, { name: 'after restart' });
          const nextId = await lastEventId(h);
          await second.waitLine(`handled ${nextId}`);
          await second.stop();

          const third = startChild(h.databaseUrl, name, 'work');
          await third.waitLine('ready');
          await new Promise((r) => setTimeout(r, 300)); // several polls: nothing is handed out again
          await third.stop();
          expect(third.lines.filter((l) => l.startsWith('received'))).toEqual([]);

          const effects = (await db
            .selectFrom('outbox_test_effects' as any)
            .select(['event_id' as any])
            .where('listener', '=', name)
            .orderBy('event_id' as any)
            .execute()) as { event_id: number }[];
          expect(effects.map((e) => Number(e.event_id))).toEqual([eventId, nextId]);
          expect(await cursorOf(name)).toBe(nextId);
        } finally {
          await second.kill9().catch(() => {});
        }
      } finally {
        await first.kill9().catch(() => {});
      }
    }, 60_000);
  });
});

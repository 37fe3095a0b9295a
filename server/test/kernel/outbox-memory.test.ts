import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/kernel/db.js';
import { migrate } from '../../src/kernel/migrate.js';
import { Dispatcher, recordEvent, type Listener, type OutboxEvent } from '../../src/kernel/events/outbox.js';

/**
 * Non-durable listeners (real-time) keep their cursor in memory on SQLite. They must still see every
 * event in order, and their cursor must be saved on stop so a restart does not replay old events.
 */
describe('outbox: non-durable listener on SQLite', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-outbox-mem-'));
  const url = `sqlite:${path.join(dir, 'db.sqlite')}`;
  const log = pino({ level: 'silent' });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const listener = (seen: number[]): Listener => ({
    name: 'memory-test',
    durable: false,
    async handle(events: OutboxEvent[]) {
      seen.push(...events.map((e) => e.id));
    },
  });
  const emit = (database: Database, n: number) =>
    database.transaction(async (trx) => {
      for (let i = 0; i < n; i++) await recordEvent(trx, 'sqlite', 1, 'contact.created', { contact_id: i });
    });

  it('delivers in order, and persists the cursor on stop', async () => {
    const db1 = openDatabase(url);
    await migrate(db1);
    const seen1: number[] = [];
    const d1 = new Dispatcher(db1, log, { pollMs: 50 });
    d1.register(listener(seen1));
    await d1.start();
    await emit(db1, 5);
    await d1.drain();
    expect(seen1).toHaveLength(5);
    expect([...seen1].sort((a, b) => a - b)).toEqual(seen1);
    await d1.stop();
    const row = await db1.db.selectFrom('event_consumers').select('last_event_id').where('name', '=', 'memory-test').executeTakeFirstOrThrow();
    expect(Number(row.last_event_id)).toBe(seen1[4]);
    await db1.close();

    const db2 = openDatabase(url);
    const seen2: number[] = [];
    const d2 = new Dispatcher(db2, log, { pollMs: 50 });
    d2.register(listener(seen2));
    await d2.start();
    await emit(db2, 2);
    await d2.drain();
    expect(seen2).toHaveLength(2); // only the new ones: nothing replayed
    expect(seen2[0]).toBeGreaterThan(seen1[4]);
    await d2.stop();
    await db2.close();
  });
});

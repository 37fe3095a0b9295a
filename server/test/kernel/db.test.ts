import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { dropPgSchema, ensurePgSchema, openDatabase, precompiled, type Database } from '../../src/kernel/db.js';
import { migrate } from '../../src/kernel/migrate.js';
import { describeEachDb } from '../support/harness.js';

/** src/kernel/db.ts: compiled-once queries give what the built query gives; the SQLite connection guard. */
describeEachDb('kernel/db', (dialect) => {
  let database: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    if (dialect === 'sqlite') {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-db-'));
      database = openDatabase(`sqlite:${path.join(dir, 'db.sqlite')}`, { sqliteWaitMs: 2000 });
      cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
    } else {
      const base = inject('pgUrl')!;
      const schema = `t_db_${process.pid}_${Date.now()}`;
      await ensurePgSchema(base, schema);
      database = openDatabase(base, { pgSchema: schema });
      cleanup = () => dropPgSchema(base, schema);
    }
    await migrate(database);
    const t = Date.now();
    await database.db
      .insertInto('accounts')
      .values([1, 2, 3].map((i) => ({ name: `Account ${i}`, locale: 'en', status: i === 3 ? 1 : 0, settings: '{}', custom_attributes: '{}', last_display_id: 0, created_at: t + i, updated_at: t + i })) as never)
      .execute();
  });
  afterAll(async () => {
    await database.close();
    await cleanup();
  });

  it('precompiled: the same rows as the query built each time, for any arguments; constants stay constants', async () => {
    const db = database.db;
    const q = precompiled<[string, number], { id: number; name: string }>((d, arg) =>
      d.selectFrom('accounts').select(['id', 'name']).where('name', 'like', arg(0)).where('status', '=', 0).where('id', '>=', arg(1)).orderBy('id').limit(5),
    );
    for (const [pattern, min] of [['Account %', 0], ['Account %', 2], ['%3', 0], ['nothing', 0]] as const) {
      const built = await db.selectFrom('accounts').select(['id', 'name']).where('name', 'like', pattern).where('status', '=', 0).where('id', '>=', min).orderBy('id').limit(5).execute();
      expect((await q.run(db, pattern, min)).rows).toEqual(built);
    }
    expect((await q.run(db, 'Account %', 0)).rows.map((r) => r.name)).toEqual(['Account 1', 'Account 2']); // status 0 only
    // Inside a transaction too, with writes and RETURNING.
    const rename = precompiled<[string, number], { id: number; name: string }>((d, arg) => d.updateTable('accounts').set({ name: arg(0) }).where('id', '=', arg(1)).returning(['id', 'name']));
    const out = await database.transaction(async (trx) => (await rename.first(trx, 'Renamed', 2))!);
    expect(out).toEqual({ id: 2, name: 'Renamed' });
    expect((await db.selectFrom('accounts').select('name').where('id', '=', 2).executeTakeFirstOrThrow()).name).toBe('Renamed');
  });

  if (dialect === 'sqlite') {
    it('WAL checkpoints happen on a background thread: the data reaches the main file without a checkpoint in any commit', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-wal-'));
      const file = path.join(dir, 'wal.sqlite');
      const walled = openDatabase(`sqlite:${file}`, { sqliteCheckpointMs: 50 });
      try {
        await migrate(walled);
        const t = Date.now();
        const big = 'x'.repeat(2000);
        // ~2 MB in 1000 rows: far below the 20 000-page safety net, so no commit checkpoints.
        for (let i = 0; i < 10; i++) {
          await walled.transaction(async (trx) => {
            for (let k = 0; k < 100; k++)
              await trx.insertInto('accounts').values({ name: big, locale: 'en', status: 0, settings: '{}', custom_attributes: '{}', last_display_id: 0, created_at: t, updated_at: t } as never).execute();
          });
        }
        const deadline = Date.now() + 15_000;
        while (fs.statSync(file).size < 2_000_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(fs.statSync(file).size).toBeGreaterThanOrEqual(2_000_000);
      } finally {
        await walled.close(); // stops the thread
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('the checkpointing thread runs only while there are writes: it ends when the WAL stays the same, a commit starts it again', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-wal-idle-'));
      const file = path.join(dir, 'wal.sqlite');
      const walled = openDatabase(`sqlite:${file}`, { sqliteCheckpointMs: 20, sqliteCheckpointIdleMs: 300 });
      const checkpointing = () => (walled.stats() as { checkpointing: boolean }).checkpointing;
      const until = async (ok: () => boolean, what: string) => {
        const deadline = Date.now() + 15_000;
        while (!ok()) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      try {
        expect(checkpointing()).toBe(false); // opened, nothing written: no thread
        await migrate(walled);
        const t = Date.now();
        const account = { locale: 'en', status: 0, settings: '{}', custom_attributes: '{}', last_display_id: 0, created_at: t, updated_at: t };
        await walled.transaction((trx) => trx.insertInto('accounts').values({ name: 'first', ...account } as never).execute());
        expect(checkpointing()).toBe(true); // the first commit started it
        await until(() => !checkpointing(), 'the idle thread to end');
        const big = 'y'.repeat(2000);
        const before = fs.statSync(file).size;
        await walled.transaction(async (trx) => {
          for (let k = 0; k < 500; k++)
            await trx.insertInto('accounts').values({ name: big, ...account } as never).execute();
        });
        expect(checkpointing()).toBe(true); // the commit started it again
        await until(() => fs.statSync(file).size >= before + 1_000_000, 'the new rows to reach the main file');
      } finally {
        await walled.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a query on `db` while the same code holds a transaction fails clearly instead of hanging, also after heavy contention', async () => {
      // Contention: many transactions and plain queries at once all complete.
      const work = Array.from({ length: 200 }, (_, i) =>
        i % 3 ? database.transaction((trx) => trx.selectFrom('accounts').select('id').execute()) : database.db.selectFrom('accounts').select('id').execute(),
      );
      expect((await Promise.all(work)).every((rows) => rows.length === 3)).toBe(true);
      await expect(database.transaction(async () => database.db.selectFrom('accounts').select('id').execute())).rejects.toThrow(/inside a transaction\? Use the transaction/);
      // The connection is usable afterwards.
      expect(await database.db.selectFrom('accounts').select('id').execute()).toHaveLength(3);
    });
  }
});

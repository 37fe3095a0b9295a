import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { sql } from 'kysely';
import SQLite from 'better-sqlite3';
import { dropPgSchema, ensurePgSchema, openDatabase, type Database, type Tx } from '../../src/kernel/db.js';
import { TransactionGroup } from '../../src/kernel/transaction-group.js';
import { describeEachDb } from '../support/harness.js';

/**
 * kernel/transaction-group.ts: the transactions of one turn commit together on SQLite; a caller
 * hears back only after its rows are committed; a failing member takes nobody's write with it.
 */
describeEachDb('kernel/transaction-group', (dialect) => {
  let database: Database;
  let file: string | null = null;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    if (dialect === 'sqlite') {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-group-'));
      file = path.join(dir, 'db.sqlite');
      database = openDatabase(`sqlite:${file}`, { sqliteWaitMs: 5000 });
      cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
    } else {
      const base = inject('pgUrl')!;
      const schema = `t_group_${process.pid}_${Date.now()}`;
      await ensurePgSchema(base, schema);
      database = openDatabase(base, { pgSchema: schema });
      cleanup = () => dropPgSchema(base, schema);
    }
    await sql`create table grouped (id integer primary key, v text not null unique)`.execute(database.db);
  });
  afterAll(async () => {
    await database.close();
    await cleanup();
  });

  const insert = (v: string) => async (trx: Tx) => {
    await sql`insert into grouped (id, v) values (${Number(v.replace(/\D/g, '')) || 0}, ${v})`.execute(trx);
    return v;
  };
  const values = async () => (await sql<{ v: string }>`select v from grouped order by id`.execute(database.db)).rows.map((r) => r.v);

  it('concurrent callers: each gets its own result after the commit that holds its row', async () => {
    const group = new TransactionGroup(database);
    // A second connection sees only committed rows: every caller's row must be visible to it when the caller hears back.
    const other = file ? new SQLite(file, { readonly: true }) : null;
    const seenAtResolve: boolean[] = [];
    const names = Array.from({ length: 30 }, (_, i) => `v${i + 1}`);
    const results = await Promise.all(
      names.map((v) =>
        group.run(insert(v)).then((r) => {
          if (other) seenAtResolve.push(other.prepare('select 1 from grouped where v = ?').get(v) !== undefined);
          return r;
        }),
      ),
    );
    other?.close();
    expect(results).toEqual(names);
    expect(await values()).toEqual(names);
    if (dialect === 'sqlite') {
      expect(seenAtResolve).toEqual(names.map(() => true));
      // One turn's thirty callers share a few commits, not thirty.
      expect(group.stats.members).toBe(30);
      expect(group.stats.groups).toBeGreaterThan(0);
      expect(group.stats.groups).toBeLessThanOrEqual(3);
    } else {
      expect(group.stats.groups).toBe(0); // PostgreSQL: each call its own transaction
    }
  });

  it('a failing member gets its own error; the others are written once, the failing one not at all', async () => {
    const group = new TransactionGroup(database);
    const outcomes = await Promise.allSettled([
      group.run(insert('v101')),
      group.run(async (trx) => {
        await insert('v102')(trx);
        await insert('v1')(trx); // duplicate id and value: fails after writing v102
        return 'never';
      }),
      group.run(insert('v103')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(Error);
    const all = await values();
    expect(all.filter((v) => ['v101', 'v102', 'v103'].includes(v))).toEqual(['v101', 'v103']);
    expect(all.filter((v) => v === 'v1')).toHaveLength(1);
    if (dialect === 'sqlite') expect(group.stats.fallbacks).toBe(1);
  });
});

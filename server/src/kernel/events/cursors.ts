import type { Database, Executor } from '../db.js';
import type { Listener } from './listener.js';
import { createCursor, listCursors, lockCursor, maxEventId, moveCursor, readCursor } from './repository.js';

/**
 * Where each listener is in the outbox. Durable listeners keep their cursor in event_consumers and
 * move it in the transaction that handles the events (locked on PostgreSQL: one node per listener).
 * Non-durable listeners on SQLite keep it in memory, saved at most once per `save()` call.
 */
export class Cursors {
  /** In-memory cursors of non-durable listeners (SQLite), and whether they moved since last saved. */
  private mem = new Map<string, { id: number; dirty: boolean }>();

  constructor(private readonly database: Database) {}

  inMemory(l: Listener) {
    return l.durable === false && this.database.dialect === 'sqlite';
  }

  /** A listener seen for the first time starts at the current end of the log, not at its beginning. */
  async init(l: Listener) {
    await createCursor(this.database.db, l.name, await maxEventId(this.database.db));
  }

  /**
   * Runs `step` with the listener's cursor and moves the cursor to what it returns (null: leave it).
   * Durable cursors: one transaction, cursor locked, `step`'s writes commit with the move. Returns
   * null when another node holds the cursor, else where it was and where it is now.
   */
  async advance(l: Listener, step: (db: Executor, from: number) => Promise<number | null>): Promise<{ from: number; to: number | null } | null> {
    if (this.inMemory(l)) {
      let c = this.mem.get(l.name);
      if (!c) {
        c = { id: (await readCursor(this.database.db, l.name)) ?? 0, dirty: false };
        this.mem.set(l.name, c);
      }
      const from = c.id;
      const to = await step(this.database.db, from);
      if (to !== null && c.id === from) {
        c.id = to;
        c.dirty = true;
      }
      return { from, to };
    }
    return this.database.transaction(async (trx) => {
      const from = await lockCursor(trx, this.database.dialect, l.name);
      if (from === null) return null;
      const to = await step(trx, from);
      if (to !== null) await moveCursor(trx, l.name, to);
      return { from, to };
    });
  }

  /** Every stored cursor, with the in-memory position where there is one. */
  async positions(): Promise<Map<string, number>> {
    const rows = await listCursors(this.database.db);
    return new Map(rows.map((r) => [r.name, this.mem.get(r.name)?.id ?? r.at]));
  }

  /** Saves the in-memory cursors that moved. */
  async save() {
    for (const [name, c] of this.mem) {
      if (!c.dirty) continue;
      c.dirty = false;
      await moveCursor(this.database.db, name, c.id);
    }
  }
}

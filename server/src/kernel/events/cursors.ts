import type { Database, Executor } from '../db.js';
import type { BatchCommit, Listener } from './listener.js';
import { casCursor, createCursor, listCursors, lockCursor, maxEventId, moveCursor, readCursor, saveCursor } from './repository.js';

/** What a step did: the cursor's new position, and the writes to commit with it (if any). */
export type StepResult = { to: number; commit?: BatchCommit | null };

/** An in-memory position: `id` (where the listener is), `stored` (what event_consumers held when last seen). */
type Mem = { id: number; stored: number; dirty: boolean };

/**
 * Where each listener is in the outbox, in one of three ways:
 * - locked (durable listeners without `plan`; every listener on PostgreSQL): the cursor lives in
 *   event_consumers and moves in the transaction that handles the events, locked on PostgreSQL
 *   (one node per listener at a time). A listener with `skip` also keeps an in-memory position
 *   ahead of the stored cursor over the batches it skipped (they did nothing): they cost no
 *   transaction; the position is stored each second and on stop, only if nobody moved the cursor
 *   meanwhile (compare-and-set), and the next batch that does something starts from it only if the
 *   stored cursor is still the one it knew (else another node moved it: its position wins);
 * - memory (non-durable listeners on SQLite): the cursor lives in memory, saved by `save()`;
 * - planned (durable listeners with `plan` on SQLite): read and plan outside any transaction; a
 *   batch's writes commit in a transaction of their own, and the cursor moves in memory (saved by
 *   `save()`: each second and on stop). A crash re-handles the batches since the last save, which
 *   `plan`'s writes dedupe (they are idempotent per event), so nothing is lost and nothing doubles.
 */
export class Cursors {
  private mem = new Map<string, Mem>();

  constructor(private readonly database: Database) {}

  mode(l: Listener): 'locked' | 'memory' | 'planned' {
    if (this.database.dialect !== 'sqlite') return 'locked';
    if (l.durable === false) return 'memory';
    return l.plan ? 'planned' : 'locked';
  }

  /** A locked listener that skips batches which would do nothing (in-memory position ahead of the stored cursor). */
  skipping(l: Listener) {
    return this.mode(l) === 'locked' && !!l.skip;
  }

  /** A listener seen for the first time starts at the current end of the log, not at its beginning. */
  async init(l: Listener) {
    await createCursor(this.database.db, l.name, await maxEventId(this.database.db));
  }

  private async memOf(l: Listener): Promise<Mem> {
    let c = this.mem.get(l.name);
    if (!c) {
      const at = (await readCursor(this.database.db, l.name)) ?? 0;
      c = this.mem.get(l.name) ?? { id: at, stored: at, dirty: false };
      this.mem.set(l.name, c);
    }
    return c;
  }

  /** The in-memory position of a memory, planned or skipping listener. */
  async position(l: Listener): Promise<number> {
    return (await this.memOf(l)).id;
  }

  /** A skipping listener skipped the events after `from` up to `to`: they cost nothing, not even a write. */
  skipTo(l: Listener, from: number, to: number) {
    const c = this.mem.get(l.name);
    if (c && c.id === from) {
      c.id = to;
      c.dirty = true;
    }
  }

  /**
   * Runs `step` with the listener's cursor and moves the cursor to what it returns (null: leave it),
   * committing the step's writes with the move. Locked cursors: one transaction, cursor locked,
   * `step` runs in it. Returns null when another node holds the cursor, else where it was and
   * where it is now.
   */
  async advance(l: Listener, step: (db: Executor, from: number) => Promise<StepResult | null>): Promise<{ from: number; to: number | null } | null> {
    const mode = this.mode(l);
    if (mode !== 'locked') {
      const c = await this.memOf(l);
      const from = c.id;
      const r = await step(this.database.db, from);
      if (!r) return { from, to: null };
      if (r.commit) {
        const commit = r.commit;
        if (mode === 'planned') await this.database.transaction((trx) => commit(trx));
        else await commit(this.database.db); // memory: no transaction to join (non-durable)
      }
      if (c.id === from) {
        c.id = r.to;
        c.dirty = true;
      }
      return { from, to: r.to };
    }
    const c = this.skipping(l) ? await this.memOf(l) : null;
    let moved: { stored: number; to: number | null } | null = null;
    const out = await this.database.transaction(async (trx) => {
      const stored = await lockCursor(trx, this.database.dialect, l.name);
      if (stored === null) return null;
      // Past what this node skipped, unless someone else moved the cursor since (then theirs wins).
      const from = c && c.stored === stored && c.id > stored ? c.id : stored;
      const r = await step(trx, from);
      if (!r) {
        moved = { stored, to: null };
        return { from, to: null };
      }
      if (r.commit) await r.commit(trx);
      await moveCursor(trx, l.name, r.to);
      moved = { stored, to: r.to };
      return { from, to: r.to };
    });
    const m = moved as { stored: number; to: number | null } | null;
    if (c && m) {
      if (m.to !== null) {
        c.id = c.stored = m.to;
        c.dirty = false;
      } else if (c.stored !== m.stored) c.id = c.stored = m.stored; // someone else moved it: start from there
    }
    return out;
  }

  /** Every stored cursor, with the in-memory position where there is one. */
  async positions(): Promise<Map<string, number>> {
    const rows = await listCursors(this.database.db);
    return new Map(rows.map((r) => [r.name, this.mem.get(r.name)?.id ?? r.at]));
  }

  /** Saves the in-memory positions that moved (never moving a stored cursor back, nor over another node's move). */
  async save() {
    for (const [name, c] of this.mem) {
      if (!c.dirty) continue;
      c.dirty = false;
      const { id, stored } = c;
      if (this.database.dialect === 'sqlite') {
        await saveCursor(this.database.db, name, id);
        continue;
      }
      if (await casCursor(this.database.db, name, stored, id)) {
        if (c.stored === stored) c.stored = id;
      } else {
        // Another node moved it: its position wins; what this node skipped may be looked at again.
        const at = (await readCursor(this.database.db, name)) ?? id;
        c.id = c.stored = at;
      }
    }
  }
}

import type { SnapshotBounds } from './repository.js';

/**
 * PostgreSQL without a global lock: which outbox events may be delivered now.
 *
 * Writers no longer serialise, so ids (a sequence, taken at insert) do not follow commit order
 * across transactions: an id can still be invisible because its transaction is in flight while
 * higher ids are committed. Events are delivered in id order, stopping at the first gap — unless
 * the gap is known to be final (its transaction rolled back). That is proven without timeouts:
 * a gap below a committed id M seen in snapshot S was taken by a transaction whose xid x was
 * assigned before the id was drawn (insertEvent sees to it), so before M was drawn, committed and
 * seen by S. A transaction started after S gets a fresh xid F > x (`mark`). Once a later
 * snapshot's xmin reaches F, no transaction with an xid below F is running, so every id ≤ M
 * still missing will never appear. (S's own xmax is no such bound: it is the latest completed
 * xid + 1, and a running transaction may hold a higher one.) This is a fact about the id space,
 * shared by all listeners.
 *
 * Events of one conversation are written under its row lock, so their ids follow their commit
 * order; delivering in id order without skipping an in-flight id keeps that order.
 */
export class CommitHorizon {
  /** Missing ids at or below this never appear. */
  private finalUpTo = 0;
  /** A gap seen: every id ≤ `upTo` is final once a snapshot's xmin reaches `after` (null until marked). */
  private pending: { upTo: number; after: bigint | null } | null = null;

  /** Whether a gap is holding events back (the dispatcher looks again soon). */
  get waiting() {
    return this.pending !== null;
  }

  /** Whether the gap last seen still needs its bound: an xid assigned after the read (`mark`). */
  get unmarked() {
    return this.pending !== null && this.pending.after === null;
  }

  /** Sets the bound of the gap last seen. */
  mark(freshXid: bigint) {
    if (this.pending && this.pending.after === null) this.pending.after = freshXid;
  }

  /** Of `rows` (ids after `cursor`, ascending, read in one snapshot), the prefix that may be delivered. */
  deliverable<T extends { id: number }>(cursor: number, rows: T[], snapshot: SnapshotBounds | null): T[] {
    if (!rows.length || !snapshot) return rows;
    if (this.pending?.after != null && snapshot.xmin >= this.pending.after) {
      this.finalUpTo = Math.max(this.finalUpTo, this.pending.upTo);
      this.pending = null;
    }
    let next = cursor + 1;
    let n = 0;
    for (const r of rows) {
      if (r.id !== next && r.id > this.finalUpTo) break;
      next = r.id + 1;
      n++;
    }
    if (n < rows.length && !this.pending) this.pending = { upTo: rows[rows.length - 1].id, after: null };
    return n === rows.length ? rows : rows.slice(0, n);
  }
}

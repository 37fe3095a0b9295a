import type { Database, Tx } from './db.js';

type Member = { fn: (trx: Tx) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void };

/**
 * Group commit for SQLite writes that are pure database work (issue 13): the transactions asked for
 * in one event-loop turn run one after the other inside ONE transaction, so a burst of concurrent
 * message creates pays one BEGIN/COMMIT and one WAL write of the shared pages (the conversation's,
 * the tails of the messages and events tables and their indexes) instead of one each. Each caller
 * still gets its answer only after the COMMIT that holds its rows — the durability guarantee is the
 * same as its own transaction's.
 *
 * SQLite runs transactions one at a time anyway, so running them back to back in one is the same
 * serial order. If any member fails (or the commit does), the whole group is rolled back and every
 * member is run again in a transaction of its own, so each gets exactly its own result or error and
 * nobody's write is lost or shared with a failing one. Hence the rule for callers: `fn` may only do
 * database work through `trx` (it may run twice; only its last run counts).
 *
 * PostgreSQL has a pool of connections and real concurrency: there each call is its own transaction.
 */
export class TransactionGroup {
  private queue: Member[] = [];
  private scheduled = false;
  /** Commits (a group of one included), the transactions in them, and groups that fell back to one transaction each. */
  readonly stats = { groups: 0, members: 0, fallbacks: 0 };

  constructor(
    private readonly database: Pick<Database, 'dialect' | 'transaction'>,
    private readonly maxMembers = 64,
  ) {}

  run<T>(fn: (trx: Tx) => Promise<T>): Promise<T> {
    if (this.database.dialect !== 'sqlite') return this.database.transaction(fn);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Drains the queue; what arrives while a group commits forms the next group. */
  private async flush() {
    while (this.queue.length) {
      const group = this.queue.splice(0, this.maxMembers);
      if (group.length === 1) {
        const [m] = group;
        this.stats.groups++;
        this.stats.members++;
        await this.database.transaction(m.fn).then(m.resolve, m.reject);
        continue;
      }
      let results: unknown[];
      try {
        results = await this.database.transaction(async (trx) => {
          const out: unknown[] = [];
          for (const m of group) out.push(await m.fn(trx));
          return out;
        });
      } catch {
        // Somebody's error (or the commit's): nothing of the group was written. Each on its own.
        this.stats.fallbacks++;
        this.stats.groups += group.length;
        this.stats.members += group.length;
        for (const m of group) await this.database.transaction(m.fn).then(m.resolve, m.reject);
        continue;
      }
      this.stats.groups++;
      this.stats.members += group.length;
      group.forEach((m, i) => m.resolve(results[i]));
    }
    this.scheduled = false;
  }
}

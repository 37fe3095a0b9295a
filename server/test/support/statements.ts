import { AsyncLocalStorage } from 'node:async_hooks';
import SQLite from 'better-sqlite3';
import pg from 'pg';

/**
 * Counts the SQL statements this process executes, at the driver (every better-sqlite3 statement
 * run, every pg `client.query`, BEGIN and COMMIT included), attributed to what ran them: the test
 * wraps its requests in `scope('request', …)`, and the dispatcher and delivery worker label their
 * own work through their `setScope` hooks (listener:<name>, after:<name>, worker). Statements
 * outside any scope count as 'other'. Test-only: installing it patches the driver prototypes of
 * this process (every test file runs in its own process).
 */
export type StatementCounter = {
  /** Runs `fn` with statements attributed to `label`. */
  scope<T>(label: string, fn: () => T): T;
  /** Counts per label since the last reset. */
  counts(): Record<string, number>;
  /** SQL text per label since the last reset (for reading what ran). */
  statements(label: string): string[];
  reset(): void;
};

let installed: StatementCounter | null = null;

export function countStatements(): StatementCounter {
  if (installed) return installed;
  const als = new AsyncLocalStorage<string>();
  const counts = new Map<string, number>();
  const texts = new Map<string, string[]>();
  const record = (sql: unknown) => {
    const label = als.getStore() ?? 'other';
    counts.set(label, (counts.get(label) ?? 0) + 1);
    let list = texts.get(label);
    if (!list) texts.set(label, (list = []));
    if (list.length < 5000) list.push(typeof sql === 'string' ? sql : String((sql as { text?: string })?.text ?? sql));
  };

  // better-sqlite3: every statement (Kysely's, BEGIN/COMMIT, directly prepared ones) is one of these calls.
  const probe = new SQLite(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown> & { source?: string };
  probe.close();
  for (const method of ['run', 'all', 'get', 'iterate'] as const) {
    const original = proto[method];
    proto[method] = function (this: { source: string }, ...args: unknown[]) {
      record(this.source);
      return original.apply(this, args);
    };
  }
  // pg: every query of every client (pool clients are pg.Client).
  const clientProto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = clientProto.query;
  clientProto.query = function (this: unknown, ...args: unknown[]) {
    record(args[0]);
    return query.apply(this, args);
  };

  installed = {
    scope: (label, fn) => als.run(label, fn),
    counts: () => Object.fromEntries(counts),
    statements: (label) => texts.get(label) ?? [],
    reset() {
      counts.clear();
      texts.clear();
    },
  };
  return installed;
}

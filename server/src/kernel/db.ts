import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, sql, type Compilable, type Driver, type LogEvent, type QueryResult, type Transaction } from 'kysely';
import type { DB } from './schema.js';
import { TransactionGroup } from './transaction-group.js';

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<DB>;
export type Tx = Transaction<DB>;
/** Anything queries can run on: the database or an open transaction. */
export type Executor = Kysely<DB> | Transaction<DB>;

export type Database = {
  db: Db;
  dialect: Dialect;
  /** Runs fn in a transaction; afterCommit hooks registered inside run only once it committed. */
  transaction<T>(fn: (trx: Tx) => Promise<T>): Promise<T>;
  /**
   * A transaction that may share its commit with the others asked for in the same event-loop turn
   * (SQLite group commit, kernel/transaction-group.ts; on PostgreSQL the same as `transaction`). Its
   * answer still comes after the COMMIT that holds it. `fn` must do only database work through `trx`:
   * it runs again on its own when another member of its group fails.
   */
  grouped<T>(fn: (trx: Tx) => Promise<T>): Promise<T>;
  /** Commits of grouped transactions and the transactions in them (SQLite). */
  readonly groupStats: TransactionGroup['stats'];
  /** Called after every commit that wrote outbox events (set by the dispatcher). */
  onEventsCommitted: (() => void) | null;
  /** SQLite only: `PRAGMA data_version`, which changes when another connection (the CLI) commits. */
  dataVersion?: () => number;
  ping(): Promise<boolean>;
  /** Connection counters for the metrics (read at scrape time; kept by plain increments, no timers). */
  stats(): DatabaseStats;
  close(): Promise<void>;
};

export type DatabaseStats =
  | { dialect: 'postgres'; pool: { total: number; idle: number; waiting: number; max: number } }
  | {
      dialect: 'sqlite';
      /** Callers holding or waiting for the single connection right now. */
      outstanding: number;
      /** Queries that had to wait for the connection (it was held), how long they waited in all, and how many gave up. */
      waits: number;
      waitSeconds: number;
      timeouts: number;
      /** The WAL checkpointing thread runs (it runs while there are writes). */
      checkpointing: boolean;
    };

/** The SQLite connection guard's counters (see GuardedSqliteDialect). */
type SqliteCounters = { outstanding: number; waits: number; waitMs: number; timeouts: number };

// int8 (bigint) columns hold epoch-millisecond timestamps and counts: read them as numbers.
pg.types.setTypeParser(20, (v) => Number(v));

export type OpenOptions = {
  /** PostgreSQL only: use this schema (created if missing) as search_path. Tests isolate files this way. */
  pgSchema?: string;
  poolSize?: number;
  /** SQLite only (see Config.sqliteSynchronous). */
  sqliteSynchronous?: 'normal' | 'full';
  /** SQLite only: how often a background thread checkpoints the WAL (ms; 0: SQLite's own auto-checkpoint in commits). */
  sqliteCheckpointMs?: number;
  /** SQLite only: the checkpointing thread ends after this long without WAL growth; the next commit starts it again (30 s). */
  sqliteCheckpointIdleMs?: number;
  /** SQLite only: how long a query waits for the connection before it fails as a likely `db`-inside-a-transaction mistake (15 s). */
  sqliteWaitMs?: number;
  /** Called with the SQL of every statement executed through Kysely (tests count statements per request with it). */
  onQuery?: (sql: string) => void;
};

export function openDatabase(url: string, opts: OpenOptions = {}): Database {
  let db: Db;
  let dialect: Dialect;
  let dataVersion: (() => number) | undefined;
  let checkpointer: Checkpointer | null = null;
  let stats: () => DatabaseStats;
  if (url.startsWith('sqlite:')) {
    dialect = 'sqlite';
    const file = url.slice('sqlite:'.length) || './data/channelx.sqlite';
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const conn = new SQLite(file);
    conn.pragma('journal_mode = WAL');
    conn.pragma('foreign_keys = ON');
    conn.pragma('busy_timeout = 5000');
    // WAL + NORMAL loses nothing when the process crashes (kill -9 included); FULL also keeps the
    // last commits through an OS crash or power cut, at the price of an fsync per commit.
    conn.pragma(`synchronous = ${opts.sqliteSynchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    const ms = opts.sqliteCheckpointMs ?? 1000;
    checkpointer = file === ':memory:' || ms <= 0 ? null : new Checkpointer(conn, path.resolve(file), ms, opts.sqliteCheckpointIdleMs ?? 30_000);
    const counters: SqliteCounters = { outstanding: 0, waits: 0, waitMs: 0, timeouts: 0 };
    db = new Kysely<DB>({ dialect: new GuardedSqliteDialect({ database: withStatementCache(conn, checkpointer ? () => checkpointer!.touch() : null) }, opts.sqliteWaitMs ?? 15_000, counters), ...queryLog(opts) });
    stats = () => ({ dialect: 'sqlite', outstanding: counters.outstanding, waits: counters.waits, waitSeconds: counters.waitMs / 1000, timeouts: counters.timeouts, checkpointing: checkpointer?.running ?? false });
    // Prepared once: conn.pragma() prepares a statement on every call (8 % of a message's CPU).
    const version = conn.prepare('PRAGMA data_version').pluck();
    dataVersion = () => version.get() as number;
  } else {
    dialect = 'postgres';
    const schema = opts.pgSchema;
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 10,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    pool.on('error', () => {
      /* an idle client died (server restart); the pool replaces it */
    });
    db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), ...queryLog(opts) });
    const max = opts.poolSize ?? 10;
    stats = () => ({ dialect: 'postgres', pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max } });
  }

  const database: Database = {
    db,
    dialect,
    dataVersion,
    onEventsCommitted: null,
    async transaction(fn) {
      const state = { wroteEvents: false };
      const result = await db.transaction().execute(async (trx) => {
        txState.set(trx, state);
        return fn(trx);
      });
      if (state.wroteEvents) database.onEventsCommitted?.();
      return result;
    },
    grouped: (fn) => group.run(fn),
    get groupStats() {
      return group.stats;
    },
    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    stats: () => stats(),
    async close() {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
  const group = new TransactionGroup(database);
  return database;
}

// The checkpointing thread: its own connection to the file, a PASSIVE checkpoint every `ms` (never
// waits for readers or writers; what it cannot copy now it copies next time). After `idleMs` in
// which the WAL did not change it ends (the main thread sees the exit): an idle server keeps no thread.
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 0');
let last = -1, quietSince = Date.now();
const timer = setInterval(() => {
  let log = last;
  try { log = db.pragma('wal_checkpoint(PASSIVE)')[0].log; } catch { /* busy: next time */ }
  if (log !== last) { last = log; quietSince = Date.now(); }
  else if (Date.now() - quietSince >= workerData.idleMs) { clearInterval(timer); db.close(); parentPort.close(); }
}, workerData.ms);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

/**
 * WAL checkpoints off the request path: SQLite's auto-checkpoint runs inside the commit that crosses
 * 1000 pages, a 20–30 ms stall of the event loop every few thousand messages. Here a worker thread
 * checkpoints every second instead; the connection's own auto-checkpoint stays as a safety net at
 * 20 000 pages (~80 MB of WAL), should the thread ever fall behind or not run.
 *
 * The thread runs while there are writes: every statement that may write `touch()`es the
 * checkpointer, which starts the thread when none runs; the thread ends itself once the WAL stayed
 * the same for `idleMs` (a V8 isolate is ~13 MB of resident memory an idle server does not need).
 */
class Checkpointer {
  private worker: Worker | null = null;
  private lastTouch = 0;
  private stopped = false;
  private readonly driver = createRequire(import.meta.url).resolve('better-sqlite3');

  constructor(
    private readonly conn: SQLite.Database,
    private readonly file: string,
    private readonly ms: number,
    private readonly idleMs: number,
  ) {
    conn.pragma('wal_autocheckpoint = 20000');
  }

  get running() {
    return this.worker !== null;
  }

  /** A commit happened: make sure a thread checkpoints. Cheap when one runs. */
  touch() {
    this.lastTouch = Date.now();
    if (this.worker || this.stopped) return;
    const worker = new Worker(CHECKPOINTER, { eval: true, workerData: { file: this.file, ms: this.ms, idleMs: this.idleMs, driver: this.driver } });
    worker.unref();
    worker.on('error', () => {
      try {
        this.conn.pragma('wal_autocheckpoint = 1000'); // the thread died: SQLite checkpoints in commits again
      } catch {
        /* closed */
      }
    });
    worker.once('exit', () => {
      if (this.worker !== worker) return;
      this.worker = null;
      // A commit came while the thread was deciding it was idle: start another.
      if (!this.stopped && Date.now() - this.lastTouch < this.idleMs) this.touch();
    });
    this.worker = worker;
  }

  stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // Held (ref) while it stops: an unref'd thread and timer would let the process end before
      // the caller's close() resolves.
      worker.ref();
      const fallback = setTimeout(() => void worker.terminate().then(() => resolve()), 2000);
      worker.once('exit', () => {
        clearTimeout(fallback);
        resolve();
      });
      worker.postMessage('stop');
    });
  }
}

const queryLog = (opts: OpenOptions) => {
  const onQuery = opts.onQuery;
  return onQuery ? { log: (e: LogEvent) => void (e.level === 'query' && onQuery(e.query.sql)) } : {};
};

/**
 * Kysely prepares every statement anew; the same SQL text recurs constantly, so keep the prepared
 * statements (bounded, least recently used evicted). Safe: Kysely runs one statement at a time.
 * `prepare` is replaced on the connection itself (no proxy in front of every property access).
 */
function withStatementCache(conn: SQLite.Database, onWrite: (() => void) | null, max = 500): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = conn.prepare.bind(conn);
  const cached = (source: string) => {
    let stmt = cache.get(source);
    if (stmt) {
      cache.delete(source);
    } else {
      stmt = prepare(source);
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
    }
    cache.set(source, stmt);
    // Every statement that may write (the WAL checkpointer runs while there are writes).
    if (!stmt.reader) onWrite?.();
    return stmt;
  };
  Object.defineProperty(conn, 'prepare', { value: cached, configurable: true, writable: true });
  return conn;
}

/**
 * better-sqlite3 has one connection that Kysely hands out under a mutex. A query issued on `db`
 * while the same code path holds a transaction would wait forever; this turns that programming
 * error into a clear exception instead of a hung request.
 */
class GuardedSqliteDialect extends SqliteDialect {
  constructor(
    config: ConstructorParameters<typeof SqliteDialect>[0],
    private readonly waitMs: number,
    /** `outstanding`: callers holding or waiting for the single connection; the rest counts the waits. */
    private readonly counters: SqliteCounters,
  ) {
    super(config);
  }

  createDriver(): Driver {
    const inner = super.createDriver();
    const WAIT_MS = this.waitMs;
    const c = this.counters;
    return new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'releaseConnection') {
          return async (conn: Parameters<Driver['releaseConnection']>[0]) => {
            c.outstanding--;
            return target.releaseConnection(conn);
          };
        }
        if (prop !== 'acquireConnection') {
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v; // private fields need the real `this`
        }
        return async () => {
          // Uncontended (nobody holds or waits for the connection), it is handed over at once: no timer.
          if (c.outstanding++ === 0) return target.acquireConnection();
          // Contended: the wait is counted and timed (this path already arms a timer).
          c.waits++;
          const since = performance.now();
          let timedOut = false;
          const acquiring = target.acquireConnection();
          void acquiring.then((c) => {
            if (timedOut) void target.releaseConnection(c);
          });
          let timer: NodeJS.Timeout | undefined;
          try {
            return await Promise.race([
              acquiring,
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => {
                  timedOut = true;
                  c.timeouts++;
                  c.outstanding--; // this caller gives up; the connection it would get is released above
                  reject(new Error(`SQLite connection wait exceeded ${WAIT_MS / 1000} s: a query on \`db\` inside a transaction? Use the transaction (trx).`));
                }, WAIT_MS);
              }),
            ]);
          } finally {
            clearTimeout(timer);
            c.waitMs += performance.now() - since;
          }
        };
      },
    });
  }
}

/**
 * A hot query built and compiled once per dialect, then run with new arguments: no Kysely building
 * or compiling per call (through Kysely a primary-key select costs ~40 µs, ~10 µs as a prepared
 * statement). `build` writes the query with `arg(i)` standing for the i-th argument of `run`; every
 * other value it uses is a constant of the query. Repositories keep owning their SQL: this only
 * caches what Kysely would compile anyway (tests/kernel/precompiled.test.ts checks the results
 * equal the built query's on both dialects).
 */
const ARG = Symbol('precompiled argument');
type ArgMarker = { readonly [ARG]: number };
type Plan = { sql: string; params: ({ arg: number } | { value: unknown })[]; query: CompiledQuery['query'] };

export function precompiled<Args extends unknown[], Row>(build: (db: Executor, arg: (i: number) => any) => Compilable<Row>) {
  const plans = new Map<unknown, Plan>();
  const arg = (i: number): ArgMarker => ({ [ARG]: i });
  const planFor = (db: Executor): Plan => {
    const adapter = db.getExecutor().adapter.constructor;
    let plan = plans.get(adapter);
    if (!plan) {
      const compiled = build(db, arg).compile();
      plan = {
        sql: compiled.sql,
        query: compiled.query,
        params: compiled.parameters.map((p) => (p !== null && typeof p === 'object' && ARG in p ? { arg: (p as ArgMarker)[ARG] } : { value: p })),
      };
      plans.set(adapter, plan);
    }
    return plan;
  };
  return {
    async run(db: Executor, ...args: Args): Promise<QueryResult<Row>> {
      const plan = planFor(db);
      const parameters = plan.params.map((p) => ('arg' in p ? args[p.arg] : p.value));
      return db.executeQuery<Row>({ sql: plan.sql, parameters, query: plan.query, queryId: { queryId: '' } } as CompiledQuery<Row>);
    },
    async first(db: Executor, ...args: Args): Promise<Row | undefined> {
      return (await this.run(db, ...args)).rows[0];
    },
  };
}

const txState = new WeakMap<object, { wroteEvents: boolean }>();

/** Marks a transaction as having written outbox rows, so its commit wakes the dispatcher. */
export function markEventsWritten(trx: Executor) {
  const s = txState.get(trx);
  if (s) s.wroteEvents = true;
}

/** Creates a PostgreSQL schema (tests isolate each file in its own). */
export async function ensurePgSchema(url: string, schema: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`create schema if not exists "${schema.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}

export async function dropPgSchema(url: string, schema: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema.replace(/"/g, '')}" cascade`);
  } finally {
    await client.end();
  }
}

export const now = () => Date.now();

/** JSON columns are text on both dialects. */
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? {});
}
export function fromJson<T = Record<string, unknown>>(text: string | null | undefined, fallback: T = {} as T): T {
  if (text == null || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Booleans are integer 0/1 on both dialects (better-sqlite3 cannot bind booleans). */
export const bit = (b: boolean | null | undefined) => (b ? 1 : 0);

/** Unix seconds from epoch milliseconds (the wire format's timestamps). */
export const unix = (ms: number | null | undefined) => (ms == null ? null : Math.floor(ms / 1000));

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e?.message ?? '');
}

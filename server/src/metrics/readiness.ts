import type { AppContext } from '../context.js';
import { pendingMigrations } from '../kernel/migrate.js';

/**
 * Readiness (`GET /health/ready`): may this node take traffic? Unlike liveness (`/health`: the
 * process answers and the database with it), it also wants every migration of this build applied,
 * the outbox listeners running (none retrying a transient failure right now), the delivery worker
 * running and /cable accepting sockets (it stops at shutdown, before anything else).
 */

export type ReadinessChecks = {
  database: 'up' | 'down';
  migrations: 'applied' | 'pending' | 'unknown';
  outbox: 'running' | 'stopped' | 'failing';
  deliveries: 'running' | 'stopped';
  cable: 'accepting' | 'closing';
};

export type Readiness = {
  checks: ReadinessChecks;
  /** The checks that failed, in the order above (empty: ready). */
  failing: (keyof ReadinessChecks)[];
  /** Migrations of this build not applied, and listeners in a transient failure (details for the operator). */
  pendingMigrations: string[];
  failingListeners: string[];
};

/** A check that does not answer within this long counts as failed (a hung database must not hang the probe). */
const CHECK_TIMEOUT_MS = 2000;

const within = <T>(p: Promise<T>, fallback: T): Promise<T> =>
  new Promise<T>((resolve) => {
    const timer = setTimeout(() => resolve(fallback), CHECK_TIMEOUT_MS);
    timer.unref();
    p.then(
      (v) => resolve(v),
      () => resolve(fallback),
    ).finally(() => clearTimeout(timer));
  });

export function readinessChecker(ctx: Pick<AppContext, 'database' | 'dispatcher' | 'deliveries' | 'realtime'>) {
  // Once every migration of this build is applied it stays so: asked until then only.
  let migrated = false;
  return async function check(): Promise<Readiness> {
    const database = (await within(ctx.database.ping(), false)) ? 'up' : 'down';
    let pending: string[] | null = [];
    if (!migrated) pending = database === 'up' ? await within(pendingMigrations(ctx.database), null) : null;
    if (pending?.length === 0) migrated = true;
    const failingListeners = Object.entries(ctx.dispatcher.status())
      .filter(([, s]) => s.transientFailures > 0)
      .map(([name]) => name);
    const checks: ReadinessChecks = {
      database,
      migrations: pending === null ? 'unknown' : pending.length ? 'pending' : 'applied',
      outbox: !ctx.dispatcher.running ? 'stopped' : failingListeners.length ? 'failing' : 'running',
      deliveries: ctx.deliveries.running ? 'running' : 'stopped',
      cable: ctx.realtime.hub.isClosing ? 'closing' : 'accepting',
    };
    const ok: ReadinessChecks = { database: 'up', migrations: 'applied', outbox: 'running', deliveries: 'running', cable: 'accepting' };
    // A database that is down says why; its migrations (unknown then) are not a second failure.
    const failing = (Object.keys(checks) as (keyof ReadinessChecks)[]).filter((k) => checks[k] !== ok[k] && !(k === 'migrations' && database === 'down'));
    return { checks, failing, pendingMigrations: pending ?? [], failingListeners };
  };
}

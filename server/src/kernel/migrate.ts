import { DEFAULT_MIGRATION_TABLE, Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './db.js';
import * as m0001 from './migrations/0001_init.js';
import * as m0002 from './migrations/0002_dead_events.js';
import * as m0003 from './migrations/0003_user_consent.js';
import * as m0004 from './migrations/0004_message_deliveries.js';
import * as m0005 from './migrations/0005_contact_labels.js';
import * as m0006 from './migrations/0006_inbox_working_hours.js';
import * as m0007 from './migrations/0007_teams_labels_canned.js';
import * as m0008 from './migrations/0008_unread_counter.js';
import * as m0009 from './migrations/0009_delivery_blocked.js';
import * as m0010 from './migrations/0010_snoozed_until_index.js';

/** Migrations are listed here in order; each is written once for both dialects. */
const MIGRATIONS = { '0001_init': m0001, '0002_dead_events': m0002, '0003_user_consent': m0003, '0004_message_deliveries': m0004, '0005_contact_labels': m0005, '0006_inbox_working_hours': m0006, '0007_teams_labels_canned': m0007, '0008_unread_counter': m0008, '0009_delivery_blocked': m0009, '0010_snoozed_until_index': m0010 } as const;

export async function migrate(database: Database): Promise<string[]> {
  const pg = database.dialect === 'postgres';
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, mod] of Object.entries(MIGRATIONS)) out[name] = { up: (db) => mod.up(db, pg) };
      return out;
    },
  };
  // Kysely looks for its migration tables in every schema unless told which one; with several
  // schemas in one PostgreSQL database (tests, or installations sharing a server) pin the current one.
  const schema = pg ? (await sql<{ s: string }>`select current_schema() as s`.execute(database.db)).rows[0]?.s : undefined;
  const migrator = new Migrator({ db: database.db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    // PostgreSQL: the migrator's catalog scan reads every schema of the database, and one dropped
    // meanwhile by someone else (another installation or test run sharing the database) fails it
    // with 3F000 naming that schema. The migrations run in one transaction, so nothing was applied:
    // try again.
    const e = error as { code?: string; message?: string };
    if (pg && attempt < 5 && e.code === '3F000' && !(schema && e.message?.includes(`"${schema}"`))) continue;
    throw error;
  }
}

/**
 * The migrations of this build not yet applied to the database (readiness: `GET /health/ready`).
 * Reads the migrator's table of the current schema directly: no catalog scan (see above).
 */
export async function pendingMigrations(database: Database): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from ${sql.table(DEFAULT_MIGRATION_TABLE)}`.execute(database.db);
  const applied = new Set(rows.map((r) => r.name));
  return Object.keys(MIGRATIONS).filter((name) => !applied.has(name));
}

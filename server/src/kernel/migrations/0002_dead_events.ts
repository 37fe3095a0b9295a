import type { Kysely } from 'kysely';

/**
 * Dead events: outbox events a listener could not process after bounded retries (src/kernel/events/outbox.ts).
 * One row per listener and event; `account_id` is the event's account (what administrators see).
 */
export async function up(db: Kysely<any>, pg: boolean): Promise<void> {
  await db.schema
    .createTable('dead_events')
    .addColumn('id', pg ? 'serial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('listener', 'varchar(64)', (c) => c.notNull())
    .addColumn('event_id', 'bigint', (c) => c.notNull())
    .addColumn('account_id', 'integer', (c) => c.notNull())
    .addColumn('event_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('error', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('dead_events_once', ['listener', 'event_id'])
    .execute();
  await db.schema.createIndex('dead_events_account').on('dead_events').columns(['account_id', 'id']).execute();
}

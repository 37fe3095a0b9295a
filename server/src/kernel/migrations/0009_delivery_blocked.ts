import { sql, type Kysely } from 'kysely';

/**
 * Issue 14: whether a delivery's last attempt was refused by the SSRF guard (no connection made,
 * WEBHOOK_ALLOW_PRIVATE_NETWORK=false), so a start with the setting allowed can make those rows
 * due at once instead of after their next retry delay. Rows refused before this migration are
 * recognised by the guard's error text.
 */
export async function up(db: Kysely<any>, _pg: boolean): Promise<void> {
  await db.schema
    .alterTable('webhook_deliveries')
    .addColumn('blocked', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`update webhook_deliveries set blocked = 1
    where status = 'pending' and last_error like 'refused: %' and last_error like '%set WEBHOOK_ALLOW_PRIVATE_NETWORK=true to allow'`.execute(db);
}

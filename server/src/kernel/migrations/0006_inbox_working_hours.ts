import type { Kysely } from 'kysely';

/**
 * Issue 12: an inbox's weekly working hours (the reference's `working_hours`: one entry per day of
 * the week). Stored as the JSON array the API shows; NULL means the reference's default schedule
 * (Monday to Friday 9:00-17:00, closed at the weekend).
 */
export async function up(db: Kysely<any>, _pg: boolean): Promise<void> {
  await db.schema.alterTable('inboxes').addColumn('working_hours', 'text').execute();
}

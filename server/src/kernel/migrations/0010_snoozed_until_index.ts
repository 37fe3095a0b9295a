import { sql, type Kysely } from 'kysely';

/**
 * Snoozes that end by themselves: the snooze worker looks every few seconds for snoozed
 * conversations whose snoozed_until has passed (every account). A partial index keeps that a
 * lookup of the snoozed rows only, however many conversations there are.
 */
export async function up(db: Kysely<any>, _pg: boolean): Promise<void> {
  // status 3 is snoozed (CONVERSATION_STATUS); the same statement on SQLite and PostgreSQL.
  await sql`create index conversations_snoozed_until on conversations (snoozed_until) where status = 3`.execute(db);
}

import type { Kysely } from 'kysely';

/**
 * Issue 11: retrying a failed outgoing message (POST …/messages/:id/retry) finds its callback
 * delivery by message id. Only deliveries of message events carry one.
 */
export async function up(db: Kysely<any>, _pg: boolean): Promise<void> {
  await db.schema
    .createIndex('webhook_deliveries_message')
    .on('webhook_deliveries')
    .columns(['message_id', 'id'])
    .where((eb: any) => eb('message_id', 'is not', null))
    .execute();
}

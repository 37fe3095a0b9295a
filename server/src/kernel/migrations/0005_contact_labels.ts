import type { Kysely } from 'kysely';

/**
 * Issue 12: contact labels (`GET/POST /contacts/:id/labels`, the `labels` contact filter, `labels[]`
 * on the contact list). Stored as label titles, like conversation_labels: free strings, one row per
 * (contact, title), gone with the contact.
 */
export async function up(db: Kysely<any>, pg: boolean): Promise<void> {
  await db.schema
    .createTable('contact_labels')
    .addColumn('id', pg ? 'serial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('contact_id', 'integer', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
    .addColumn('account_id', 'integer', (c) => c.notNull())
    .addColumn('label', 'varchar(255)', (c) => c.notNull())
    .addUniqueConstraint('contact_labels_pair', ['contact_id', 'label'])
    .execute();
  await db.schema.createIndex('contact_labels_label').on('contact_labels').columns(['account_id', 'label']).execute();
}

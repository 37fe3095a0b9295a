import type { Kysely } from 'kysely';

/**
 * Issue 12: teams (with members and a conversation's team), account labels and canned responses.
 * Every table carries its account_id and is indexed on it; names, titles and short codes are unique
 * per account (titles and team names are stored lowercased, as the reference does, so that
 * uniqueness is case-insensitive). A conversation's team goes back to none when the team is deleted.
 */
export async function up(db: Kysely<any>, pg: boolean): Promise<void> {
  const id = (t: ReturnType<Kysely<any>['schema']['createTable']>) =>
    t.addColumn('id', pg ? 'serial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()));
  const account = (c: any) => c.notNull().references('accounts.id').onDelete('cascade');

  await id(db.schema.createTable('teams'))
    .addColumn('account_id', 'integer', account)
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('allow_auto_assign', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('teams_account_name', ['account_id', 'name'])
    .execute();

  await id(db.schema.createTable('team_members'))
    .addColumn('team_id', 'integer', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('account_id', 'integer', account)
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('team_members_pair', ['team_id', 'user_id'])
    .execute();
  await db.schema.createIndex('team_members_account_user').on('team_members').columns(['account_id', 'user_id']).execute();

  await db.schema
    .alterTable('conversations')
    .addColumn('team_id', 'integer', (c) => c.references('teams.id').onDelete('set null'))
    .execute();
  await db.schema.createIndex('conversations_account_team').on('conversations').columns(['account_id', 'team_id']).execute();

  await id(db.schema.createTable('labels'))
    .addColumn('account_id', 'integer', account)
    .addColumn('title', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('color', 'varchar(7)', (c) => c.notNull().defaultTo('#1f93ff'))
    .addColumn('show_on_sidebar', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('labels_account_title', ['account_id', 'title'])
    .execute();

  await id(db.schema.createTable('canned_responses'))
    .addColumn('account_id', 'integer', account)
    .addColumn('short_code', 'varchar(255)', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('canned_responses_account_short_code', ['account_id', 'short_code'])
    .execute();
}

import type { Kysely } from 'kysely';

/**
 * Issue 9 (items 4 and 8):
 * - `membership_invitations`: an account's invitation of a user who already exists. The user is
 *   not a member until they accept it; until then the account sees only what it typed (email,
 *   name) and the role, availability and auto_offline it chose, which the membership gets on accept.
 * - `users.credentials_version`: bumped whenever the user's pubsub_token is rotated (access-token
 *   reset, password change). Socket subscriptions remember the version they were authorized with,
 *   so a rotation disconnects exactly the sockets that used an older token, on every node.
 */
export async function up(db: Kysely<any>, pg: boolean): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('credentials_version', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  const ref = (t: string) => (c: any) => c.notNull().references(`${t}.id`).onDelete('cascade');
  await db.schema
    .createTable('membership_invitations')
    .addColumn('id', pg ? 'serial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('account_id', 'integer', ref('accounts'))
    .addColumn('user_id', 'integer', ref('users'))
    .addColumn('inviter_id', 'integer')
    .addColumn('email', 'varchar(255)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)')
    .addColumn('role', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('availability', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('auto_offline', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('membership_invitations_pair', ['account_id', 'user_id'])
    .execute();
  await db.schema.createIndex('membership_invitations_user').on('membership_invitations').column('user_id').execute();
}

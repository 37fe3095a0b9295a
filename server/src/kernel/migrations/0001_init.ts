import { sql, type Kysely, type CreateTableBuilder } from 'kysely';

/** Written once for both dialects with the schema builder; `pg` decides the id column type. */
export async function up(db: Kysely<any>, pg: boolean): Promise<void> {
  const table = (name: string) =>
    db.schema
      .createTable(name)
      .addColumn('id', pg ? 'serial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()));
  const ts = <T extends string>(t: CreateTableBuilder<T, any>) =>
    t.addColumn('created_at', 'bigint', (c) => c.notNull()).addColumn('updated_at', 'bigint', (c) => c.notNull());
  const ref = (t: string) => (c: any) => c.notNull().references(`${t}.id`).onDelete('cascade');

  await ts(table('accounts'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('locale', 'varchar(16)', (c) => c.notNull().defaultTo('en'))
    .addColumn('domain', 'varchar(100)')
    .addColumn('support_email', 'varchar(100)')
    .addColumn('status', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('custom_attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('last_display_id', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await ts(table('users'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('display_name', 'varchar(255)')
    .addColumn('email', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text')
    .addColumn('pubsub_token', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('message_signature', 'text')
    .addColumn('ui_settings', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('confirmed', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();

  await table('access_tokens')
    .addColumn('owner_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('owner_id', 'integer', (c) => c.notNull())
    .addColumn('token', 'varchar(64)', (c) => c.notNull())
    .addColumn('token_digest', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('access_tokens_owner', ['owner_type', 'owner_id'])
    .execute();

  await table('user_sessions')
    .addColumn('user_id', 'integer', ref('users'))
    .addColumn('token_digest', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await table('account_users')
    .addColumn('account_id', 'integer', ref('accounts'))
    .addColumn('user_id', 'integer', ref('users'))
    .addColumn('role', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('inviter_id', 'integer')
    .addColumn('availability', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('auto_offline', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('active_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('account_users_pair', ['account_id', 'user_id'])
    .execute();

  await table('invitations')
    .addColumn('account_id', 'integer', ref('accounts'))
    .addColumn('user_id', 'integer', ref('users'))
    .addColumn('inviter_id', 'integer')
    .addColumn('token_digest', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await ts(table('channel_api'))
    .addColumn('account_id', 'integer', ref('accounts'))
    .addColumn('webhook_url', 'varchar(2048)')
    .addColumn('identifier', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('hmac_token', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('hmac_mandatory', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('secret', 'varchar(128)', (c) => c.notNull())
    .addColumn('previous_secret', 'varchar(128)')
    .addColumn('secret_rotated_at', 'bigint')
    .addColumn('additional_attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();

  await ts(table('inboxes'))
    .addColumn('account_id', 'integer', ref('accounts'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('channel_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('channel_id', 'integer', (c) => c.notNull())
    .addColumn('greeting_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('greeting_message', 'text')
    .addColumn('enable_auto_assignment', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('working_hours_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('out_of_office_message', 'text')
    .addColumn('timezone', 'varchar(64)', (c) => c.notNull().defaultTo('UTC'))
    .addColumn('enable_email_collect', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('csat_survey_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('allow_messages_after_resolved', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('lock_to_single_conversation', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sender_name_type', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('business_name', 'varchar(255)')
    .execute();
  await db.schema.createIndex('inboxes_account').on('inboxes').column('account_id').execute();

  await table('inbox_members')
    .addColumn('inbox_id', 'integer', ref('inboxes'))
    .addColumn('user_id', 'integer', ref('users'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('inbox_members_pair', ['inbox_id', 'user_id'])
    .execute();

  await ts(table('contacts'))
    .addColumn('account_id', 'integer', ref('accounts'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('email', 'varchar(255)')
    .addColumn('phone_number', 'varchar(32)')
    .addColumn('identifier', 'varchar(255)')
    .addColumn('additional_attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('custom_attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('blocked', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('contact_type', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_activity_at', 'bigint')
    .addUniqueConstraint('contacts_email', ['account_id', 'email'])
    .addUniqueConstraint('contacts_phone', ['account_id', 'phone_number'])
    .addUniqueConstraint('contacts_identifier', ['account_id', 'identifier'])
    .execute();

  await ts(table('contact_inboxes'))
    .addColumn('contact_id', 'integer', ref('contacts'))
    .addColumn('inbox_id', 'integer', ref('inboxes'))
    .addColumn('source_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('hmac_verified', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pubsub_token', 'varchar(64)', (c) => c.notNull().unique())
    .addUniqueConstraint('contact_inboxes_source', ['inbox_id', 'source_id'])
    .execute();
  await db.schema.createIndex('contact_inboxes_contact').on('contact_inboxes').column('contact_id').execute();

  await ts(table('conversations'))
    .addColumn('account_id', 'integer', ref('accounts'))
    .addColumn('display_id', 'integer', (c) => c.notNull())
    .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
    .addColumn('inbox_id', 'integer', ref('inboxes'))
    .addColumn('contact_id', 'integer', ref('contacts'))
    .addColumn('contact_inbox_id', 'integer', ref('contact_inboxes'))
    .addColumn('assignee_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('status', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('priority', 'integer')
    .addColumn('snoozed_until', 'bigint')
    .addColumn('status_changed_at', 'bigint')
    .addColumn('additional_attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('custom_attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('agent_last_seen_at', 'bigint')
    .addColumn('assignee_last_seen_at', 'bigint')
    .addColumn('contact_last_seen_at', 'bigint')
    .addColumn('first_reply_created_at', 'bigint')
    .addColumn('waiting_since', 'bigint')
    .addColumn('last_activity_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('conversations_display', ['account_id', 'display_id'])
    .execute();
  await db.schema
    .createIndex('conversations_listing')
    .on('conversations')
    .columns(['account_id', 'status', 'last_activity_at'])
    .execute();
  await db.schema.createIndex('conversations_contact').on('conversations').column('contact_id').execute();

  await table('conversation_labels')
    .addColumn('conversation_id', 'integer', ref('conversations'))
    .addColumn('account_id', 'integer', (c) => c.notNull())
    .addColumn('label', 'varchar(255)', (c) => c.notNull())
    .addUniqueConstraint('conversation_labels_pair', ['conversation_id', 'label'])
    .execute();
  await db.schema.createIndex('conversation_labels_label').on('conversation_labels').columns(['account_id', 'label']).execute();

  await ts(table('messages'))
    .addColumn('account_id', 'integer', ref('accounts'))
    .addColumn('inbox_id', 'integer', ref('inboxes'))
    .addColumn('conversation_id', 'integer', ref('conversations'))
    .addColumn('content', 'text')
    .addColumn('message_type', 'integer', (c) => c.notNull())
    .addColumn('content_type', 'varchar(32)')
    .addColumn('content_attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('additional_attributes', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('private', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('source_id', 'varchar(255)')
    .addColumn('sender_type', 'varchar(32)')
    .addColumn('sender_id', 'integer')
    .addColumn('echo_id', 'varchar(255)')
    .execute();
  await db.schema.createIndex('messages_conversation').on('messages').columns(['conversation_id', 'id']).execute();
  // Idempotent ingestion: one incoming message per source_id per inbox.
  await db.schema
    .createIndex('messages_incoming_source')
    .on('messages')
    .columns(['inbox_id', 'source_id'])
    .unique()
    .where(sql.ref('source_id'), 'is not', null)
    .where(sql.ref('message_type'), '=', 0)
    .execute();

  await table('idempotency_keys')
    .addColumn('account_id', 'integer', (c) => c.notNull())
    .addColumn('scope', 'varchar(255)', (c) => c.notNull())
    .addColumn('key', 'varchar(255)', (c) => c.notNull())
    .addColumn('request_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('response_body', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('idempotency_keys_scope', ['account_id', 'scope', 'key'])
    .execute();

  await table('events')
    .addColumn('account_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('event_consumers')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('last_event_id', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await ts(table('webhooks'))
    .addColumn('account_id', 'integer', ref('accounts'))
    .addColumn('inbox_id', 'integer', (c) => c.references('inboxes.id').onDelete('cascade'))
    .addColumn('url', 'varchar(2048)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)')
    .addColumn('subscriptions', 'text', (c) => c.notNull())
    .addColumn('secret', 'varchar(128)', (c) => c.notNull())
    .addColumn('previous_secret', 'varchar(128)')
    .addColumn('secret_rotated_at', 'bigint')
    .addColumn('disabled_at', 'bigint')
    .addColumn('disabled_reason', 'text')
    .addUniqueConstraint('webhooks_url', ['account_id', 'url'])
    .execute();

  await ts(table('webhook_deliveries'))
    .addColumn('delivery_id', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('account_id', 'integer', ref('accounts'))
    .addColumn('endpoint_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('endpoint_id', 'integer', (c) => c.notNull())
    .addColumn('event_id', 'bigint')
    .addColumn('event_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('message_id', 'integer')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('lease_until', 'bigint')
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('completed_at', 'bigint')
    .addUniqueConstraint('webhook_deliveries_once', ['event_id', 'endpoint_type', 'endpoint_id'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_due')
    .on('webhook_deliveries')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_endpoint')
    .on('webhook_deliveries')
    .columns(['endpoint_type', 'endpoint_id', 'id'])
    .execute();

  await table('webhook_attempts')
    .addColumn('delivery_id', 'integer', ref('webhook_deliveries'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('response_snippet', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('webhook_attempts_delivery').on('webhook_attempts').column('delivery_id').execute();
}

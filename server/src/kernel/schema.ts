import type { Generated } from 'kysely';

/**
 * The database as Kysely sees it. Conventions (portable across SQLite and PostgreSQL):
 * ids are integers; timestamps are epoch milliseconds (bigint); booleans are 0/1 integers;
 * JSON is text, parsed by the repositories.
 */
type Timestamps = { created_at: number; updated_at: number };

export interface AccountsTable extends Timestamps {
  id: Generated<number>;
  name: string;
  locale: string;
  domain: string | null;
  support_email: string | null;
  status: number; // active=0 suspended=1
  settings: string;
  custom_attributes: string;
  last_display_id: number;
}

export interface UsersTable extends Timestamps {
  id: Generated<number>;
  name: string;
  display_name: string | null;
  email: string; // stored lowercased
  password_hash: string | null;
  pubsub_token: string;
  message_signature: string | null;
  ui_settings: string;
  confirmed: number;
  /** Bumped with every pubsub_token rotation (0003_user_consent). */
  credentials_version: Generated<number>;
}

export interface AccessTokensTable {
  id: Generated<number>;
  owner_type: string; // 'User'
  owner_id: number;
  token: string;
  token_digest: string; // sha256 hex, the lookup key
  created_at: number;
}

export interface UserSessionsTable {
  id: Generated<number>;
  user_id: number;
  token_digest: string;
  expires_at: number;
  created_at: number;
}

export interface InvitationsTable {
  id: Generated<number>;
  account_id: number;
  user_id: number;
  inviter_id: number | null;
  token_digest: string;
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

/** An account's pending invitation of an existing user (0003_user_consent). */
export interface MembershipInvitationsTable {
  id: Generated<number>;
  account_id: number;
  user_id: number;
  inviter_id: number | null;
  email: string; // as the inviting account typed it (normalized)
  name: string | null; // as the inviting account typed it
  role: number;
  availability: number;
  auto_offline: number;
  expires_at: number;
  created_at: number;
}

export interface AccountUsersTable {
  id: Generated<number>;
  account_id: number;
  user_id: number;
  role: number; // agent=0 administrator=1
  inviter_id: number | null;
  availability: number; // online=0 offline=1 busy=2
  auto_offline: number;
  active_at: number | null;
  created_at: number;
}

export interface InboxesTable extends Timestamps {
  id: Generated<number>;
  account_id: number;
  name: string;
  channel_type: string; // 'Channel::Api'
  channel_id: number;
  greeting_enabled: number;
  greeting_message: string | null;
  enable_auto_assignment: number;
  working_hours_enabled: number;
  /** JSON array of the weekly schedule, NULL for the default one (0006_inbox_working_hours). */
  working_hours: string | null;
  out_of_office_message: string | null;
  timezone: string;
  enable_email_collect: number;
  csat_survey_enabled: number;
  allow_messages_after_resolved: number;
  lock_to_single_conversation: number;
  sender_name_type: number;
  business_name: string | null;
}

export interface ChannelApiTable extends Timestamps {
  id: Generated<number>;
  account_id: number;
  webhook_url: string | null;
  identifier: string;
  hmac_token: string;
  hmac_mandatory: number;
  secret: string;
  previous_secret: string | null;
  secret_rotated_at: number | null;
  additional_attributes: string;
}

export interface InboxMembersTable {
  id: Generated<number>;
  inbox_id: number;
  user_id: number;
  created_at: number;
}

export interface ContactsTable extends Timestamps {
  id: Generated<number>;
  account_id: number;
  name: string;
  email: string | null;
  phone_number: string | null;
  identifier: string | null;
  additional_attributes: string;
  custom_attributes: string;
  blocked: number;
  contact_type: number;
  last_activity_at: number | null;
}

export interface ContactInboxesTable extends Timestamps {
  id: Generated<number>;
  contact_id: number;
  inbox_id: number;
  source_id: string;
  hmac_verified: number;
  pubsub_token: string;
}

export interface ConversationsTable extends Timestamps {
  id: Generated<number>;
  account_id: number;
  display_id: number;
  uuid: string;
  inbox_id: number;
  contact_id: number;
  contact_inbox_id: number;
  assignee_id: number | null;
  status: number; // open=0 resolved=1 pending=2 snoozed=3
  priority: number | null; // low=0 medium=1 high=2 urgent=3
  snoozed_until: number | null;
  status_changed_at: number | null;
  additional_attributes: string;
  custom_attributes: string;
  agent_last_seen_at: number | null;
  assignee_last_seen_at: number | null;
  contact_last_seen_at: number | null;
  first_reply_created_at: number | null;
  waiting_since: number | null;
  last_activity_at: number;
  /** The conversation's team (0007_teams_labels_canned); NULL for none. */
  team_id: number | null;
  /** Incoming messages created after agent_last_seen_at (0008_unread_counter), kept by every write that changes either. */
  unread_count: Generated<number>;
}

/** An account's teams (0007_teams_labels_canned); name stored lowercased, unique per account. */
export interface TeamsTable extends Timestamps {
  id: Generated<number>;
  account_id: number;
  name: string;
  description: string | null;
  allow_auto_assign: number;
}

export interface TeamMembersTable {
  id: Generated<number>;
  team_id: number;
  user_id: number;
  account_id: number;
  created_at: number;
}

/** An account's labels (0007_teams_labels_canned); title stored lowercased, unique per account. */
export interface LabelsTable extends Timestamps {
  id: Generated<number>;
  account_id: number;
  title: string;
  description: string | null;
  color: string; // #rrggbb
  show_on_sidebar: number;
}

/** An account's canned responses (0007_teams_labels_canned); short_code unique per account. */
export interface CannedResponsesTable extends Timestamps {
  id: Generated<number>;
  account_id: number;
  short_code: string;
  content: string;
}

/** A contact's labels, as titles (0005_contact_labels). */
export interface ContactLabelsTable {
  id: Generated<number>;
  contact_id: number;
  account_id: number;
  label: string;
}

export interface ConversationLabelsTable {
  id: Generated<number>;
  conversation_id: number;
  account_id: number;
  label: string;
}

export interface MessagesTable extends Timestamps {
  id: Generated<number>;
  account_id: number;
  inbox_id: number;
  conversation_id: number; // internal conversations.id
  content: string | null;
  message_type: number; // incoming=0 outgoing=1 activity=2 template=3
  content_type: string | null;
  content_attributes: string;
  additional_attributes: string;
  private: number;
  status: number; // sent=0 delivered=1 read=2 failed=3
  source_id: string | null;
  sender_type: string | null; // 'Contact' | 'User' | 'AgentBot'
  sender_id: number | null;
  echo_id: string | null;
}

export interface IdempotencyKeysTable {
  id: Generated<number>;
  account_id: number;
  scope: string; // who sent it (user id or public contact) + method + route
  key: string;
  request_hash: string;
  status_code: number | null; // null while the first request is still running
  response_body: string | null;
  created_at: number;
}

export interface EventsTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  payload: string;
  created_at: number;
}

export interface EventConsumersTable {
  name: string;
  last_event_id: number;
  updated_at: number;
}

/** An outbox event a listener could not process after bounded retries (0002_dead_events). */
export interface DeadEventsTable {
  id: Generated<number>;
  listener: string;
  event_id: number;
  account_id: number; // the event's account
  event_name: string;
  error: string; // the error's message, truncated (no stack, no payload)
  attempts: number;
  created_at: number;
}

export interface WebhooksTable extends Timestamps {
  id: Generated<number>;
  account_id: number;
  inbox_id: number | null;
  url: string;
  name: string | null;
  subscriptions: string;
  secret: string;
  previous_secret: string | null;
  secret_rotated_at: number | null;
  disabled_at: number | null;
  disabled_reason: string | null;
}

export interface WebhookDeliveriesTable extends Timestamps {
  id: Generated<number>;
  delivery_id: string; // stable across retries: X-ChannelX-Delivery and webhook-id
  account_id: number;
  endpoint_type: string; // 'inbox' | 'webhook'
  endpoint_id: number;
  event_id: number | null;
  event_name: string;
  message_id: number | null;
  payload: string;
  status: string; // pending | in_flight | succeeded | failed
  attempts: number;
  next_attempt_at: number | null;
  lease_until: number | null;
  last_status_code: number | null;
  last_error: string | null;
  completed_at: number | null;
  /** 1 when the last attempt was refused by the SSRF guard (migration 0009). */
  blocked: Generated<number>;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  attempt: number;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  response_snippet: string | null;
  error: string | null;
}

export interface DB {
  accounts: AccountsTable;
  users: UsersTable;
  access_tokens: AccessTokensTable;
  user_sessions: UserSessionsTable;
  invitations: InvitationsTable;
  account_users: AccountUsersTable;
  membership_invitations: MembershipInvitationsTable;
  inboxes: InboxesTable;
  channel_api: ChannelApiTable;
  inbox_members: InboxMembersTable;
  contacts: ContactsTable;
  contact_inboxes: ContactInboxesTable;
  conversations: ConversationsTable;
  contact_labels: ContactLabelsTable;
  conversation_labels: ConversationLabelsTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  labels: LabelsTable;
  canned_responses: CannedResponsesTable;
  messages: MessagesTable;
  idempotency_keys: IdempotencyKeysTable;
  events: EventsTable;
  event_consumers: EventConsumersTable;
  dead_events: DeadEventsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

import { fromJson } from '../kernel/db.js';
import type { InboxWithChannel } from './repository.js';
import { weeklySchedule } from './working-hours.js';
import type { CallbackWarnings } from '../webhooks/presenters.js';

export const SENDER_NAME_TYPES = ['friendly', 'professional'] as const;
const senderNameType = (inbox: Pick<InboxWithChannel, 'sender_name_type'>) => SENDER_NAME_TYPES[inbox.sender_name_type] ?? 'friendly';

const iso = (ms: number) => new Date(Number(ms)).toISOString();

/**
 * Inbox JSON for the Application API. `hmac_token`, `secret` and `hmac_mandatory` appear only for
 * administrators; the previous (rotated-out) secret never appears. `warnings` (administrators, one
 * inbox: show, create, update, secret reset) only when there is something to say about the
 * callback URL (src/webhooks/presenters.ts presentCallbackWarnings).
 */
export function presentInbox(inbox: InboxWithChannel, opts: { admin: boolean; warnings?: CallbackWarnings }) {
  const json = {
    id: inbox.id,
    avatar_url: '',
    channel_id: inbox.channel_id,
    name: inbox.name,
    channel_type: inbox.channel_type,
    greeting_enabled: !!inbox.greeting_enabled,
    greeting_message: inbox.greeting_message,
    working_hours_enabled: !!inbox.working_hours_enabled,
    enable_email_collect: !!inbox.enable_email_collect,
    csat_survey_enabled: !!inbox.csat_survey_enabled,
    csat_config: {},
    enable_auto_assignment: !!inbox.enable_auto_assignment,
    auto_assignment_config: {},
    out_of_office_message: inbox.out_of_office_message,
    working_hours: weeklySchedule(inbox.working_hours),
    timezone: inbox.timezone,
    allow_messages_after_resolved: !!inbox.allow_messages_after_resolved,
    lock_to_single_conversation: !!inbox.lock_to_single_conversation,
    sender_name_type: senderNameType(inbox),
    business_name: inbox.business_name,
    webhook_url: inbox.webhook_url,
    inbox_identifier: inbox.identifier,
    additional_attributes: fromJson(inbox.additional_attributes),
    provider: null,
  };
  if (!opts.admin) return json;
  return { ...json, hmac_token: inbox.hmac_token, secret: inbox.secret, hmac_mandatory: !!inbox.hmac_mandatory, ...(opts.warnings ? { warnings: opts.warnings } : {}) };
}
export type InboxJson = ReturnType<typeof presentInbox>;

/** The slim inbox inside contact_inboxes: `{id, avatar_url, channel_id, name, channel_type, provider}`. */
export function presentInboxSlim(inbox: Pick<InboxWithChannel, 'id' | 'channel_id' | 'name' | 'channel_type'>) {
  return { id: inbox.id, avatar_url: '', channel_id: inbox.channel_id, name: inbox.name, channel_type: inbox.channel_type, provider: null };
}

/** `inbox.webhook_data`: the `{id, name}` reference inside message webhooks. */
export const inboxWebhookData = (inbox: Pick<InboxWithChannel, 'id' | 'name'>) => ({ id: inbox.id, name: inbox.name });

/** Working hours and conversation rules: the same keys, in the same order, in the inbox record and the inbox event data. */
function inboxRules(inbox: InboxWithChannel) {
  return {
    working_hours_enabled: !!inbox.working_hours_enabled,
    out_of_office_message: inbox.out_of_office_message,
    timezone: inbox.timezone,
    enable_email_collect: !!inbox.enable_email_collect,
    csat_survey_enabled: !!inbox.csat_survey_enabled,
    allow_messages_after_resolved: !!inbox.allow_messages_after_resolved,
    lock_to_single_conversation: !!inbox.lock_to_single_conversation,
  };
}

/** The inbox "record" JSON of `payload.contact_inbox.inbox` on contact creation (inbox columns only, no channel secrets). */
export function presentInboxRecord(inbox: InboxWithChannel) {
  return {
    id: inbox.id,
    channel_id: inbox.channel_id,
    account_id: inbox.account_id,
    name: inbox.name,
    created_at: iso(inbox.created_at),
    updated_at: iso(inbox.updated_at),
    channel_type: inbox.channel_type,
    enable_auto_assignment: !!inbox.enable_auto_assignment,
    greeting_enabled: !!inbox.greeting_enabled,
    greeting_message: inbox.greeting_message,
    email_address: null,
    ...inboxRules(inbox),
    sender_name_type: senderNameType(inbox),
    business_name: inbox.business_name,
  };
}

/** Inbox event data of inbox_created / inbox_updated webhooks (no tokens, no secret) plus `account{id,name}`. */
export function inboxEventWebhookData(inbox: InboxWithChannel, account: { id: number; name: string }) {
  return {
    id: inbox.id,
    name: inbox.name,
    channel_type: inbox.channel_type,
    channel_id: inbox.channel_id,
    webhook_url: inbox.webhook_url,
    greeting_enabled: !!inbox.greeting_enabled,
    greeting_message: inbox.greeting_message,
    enable_auto_assignment: !!inbox.enable_auto_assignment,
    ...inboxRules(inbox),
    business_name: inbox.business_name,
    hmac_mandatory: !!inbox.hmac_mandatory,
    created_at: iso(inbox.created_at),
    updated_at: iso(inbox.updated_at),
    account,
  };
}

/** `DELETE /inboxes/:id`: the reference's body (its deletion runs in a job; here it is done when this answers). */
export const presentInboxDeleted = () => ({ message: 'Your inbox deletion request will be processed in some time.' });

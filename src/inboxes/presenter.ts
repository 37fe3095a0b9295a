import { fromJson } from '../kernel/db.js';
import type { InboxWithChannel } from './repository.js';

export const SENDER_NAME_TYPES = ['friendly', 'professional'] as const;

/**
 * Inbox JSON for the Application API. `hmac_token`, `secret` and `hmac_mandatory` appear only for
 * administrators; the previous (rotated-out) secret never appears.
 */
export function presentInbox(inbox: InboxWithChannel, opts: { admin: boolean }) {
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
    working_hours: [],
    timezone: inbox.timezone,
    allow_messages_after_resolved: !!inbox.allow_messages_after_resolved,
    lock_to_single_conversation: !!inbox.lock_to_single_conversation,
    sender_name_type: SENDER_NAME_TYPES[inbox.sender_name_type] ?? 'friendly',
    business_name: inbox.business_name,
    webhook_url: inbox.webhook_url,
    inbox_identifier: inbox.identifier,
    additional_attributes: fromJson(inbox.additional_attributes),
    provider: null,
  };
  if (!opts.admin) return json;
  return { ...json, hmac_token: inbox.hmac_token, secret: inbox.secret, hmac_mandatory: !!inbox.hmac_mandatory };
}
export type InboxJson = ReturnType<typeof presentInbox>;

/** The slim inbox inside contact_inboxes: `{id, avatar_url, channel_id, name, channel_type, provider}`. */
export function presentInboxSlim(inbox: Pick<InboxWithChannel, 'id' | 'channel_id' | 'name' | 'channel_type'>) {
  return { id: inbox.id, avatar_url: '', channel_id: inbox.channel_id, name: inbox.name, channel_type: inbox.channel_type, provider: null };
}

/** `inbox.webhook_data`. */
export const inboxWebhookData = (inbox: Pick<InboxWithChannel, 'id' | 'name'>) => ({ id: inbox.id, name: inbox.name });

import type { Executor } from '../kernel/db.js';
import { fromJson, unix } from '../kernel/db.js';
import type { InboxWithChannel } from '../inboxes/repository.js';
import {
  findAccountRef,
  findContactById,
  type ContactInboxRow,
  type ContactInboxWithInbox,
  type ContactRow,
} from './repository.js';

/**
 * Contact JSON, one builder per audience: the Application API (`_contact`), push data (sockets,
 * message senders) and webhook data. Payloads for sockets and webhooks never carry pubsub tokens.
 */

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(Number(ms)).toISOString());

/** The slim inbox inside a contact_inbox entry: `{id, avatar_url, channel_id, name, channel_type, provider}`. */
export function presentInboxSlim(ci: Pick<ContactInboxWithInbox, 'inbox_id' | 'inbox_name' | 'inbox_channel_id' | 'inbox_channel_type'>) {
  return {
    id: ci.inbox_id,
    avatar_url: '',
    channel_id: ci.inbox_channel_id,
    name: ci.inbox_name,
    channel_type: ci.inbox_channel_type,
    provider: null,
  };
}

/**
 * A contact_inbox entry of the Application API: `{source_id, inbox}`. The session's pubsub_token is
 * included too: the API caller is an agent of the inbox, and the seed tells integrators to subscribe
 * to /cable with the token returned when the contact is created.
 */
export function presentContactInbox(ci: ContactInboxWithInbox) {
  return { source_id: ci.source_id, pubsub_token: ci.pubsub_token, hmac_verified: !!ci.hmac_verified, inbox: presentInboxSlim(ci) };
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
    working_hours_enabled: !!inbox.working_hours_enabled,
    out_of_office_message: inbox.out_of_office_message,
    timezone: inbox.timezone,
    enable_email_collect: !!inbox.enable_email_collect,
    csat_survey_enabled: !!inbox.csat_survey_enabled,
    allow_messages_after_resolved: !!inbox.allow_messages_after_resolved,
    lock_to_single_conversation: !!inbox.lock_to_single_conversation,
    sender_name_type: inbox.sender_name_type === 1 ? 'professional' : 'friendly',
    business_name: inbox.business_name,
  };
}

/** `_contact`: the Application API contact. `contactInboxes` is given on the /contacts endpoints. */
export function presentContact(c: ContactRow, opts: { contactInboxes?: ContactInboxWithInbox[]; availability?: 'online' | 'offline' } = {}) {
  const out: Record<string, unknown> = {
    additional_attributes: fromJson(c.additional_attributes),
    availability_status: opts.availability ?? 'offline',
    email: c.email,
    id: c.id,
    name: c.name,
    phone_number: c.phone_number,
    blocked: !!c.blocked,
    identifier: c.identifier,
    thumbnail: '',
    custom_attributes: fromJson(c.custom_attributes),
    last_activity_at: unix(c.last_activity_at),
    created_at: unix(c.created_at),
    updated_at: unix(c.updated_at),
  };
  if (opts.contactInboxes) out.contact_inboxes = opts.contactInboxes.map(presentContactInbox);
  return out;
}
export type ContactJson = ReturnType<typeof presentContact>;

/** `contact.push_event_data`: the sender shape in message JSON and socket frames. */
export function contactPushData(c: ContactRow) {
  return {
    additional_attributes: fromJson(c.additional_attributes),
    custom_attributes: fromJson(c.custom_attributes),
    email: c.email,
    id: c.id,
    identifier: c.identifier,
    name: c.name,
    phone_number: c.phone_number,
    thumbnail: '',
    blocked: !!c.blocked,
    type: 'contact' as const,
  };
}

/** `contact.webhook_data` (no `type` key; message senders add it, see src/messages/presenters.ts). */
export function contactWebhookData(c: ContactRow, account: { id: number; name: string }) {
  return {
    account: { id: account.id, name: account.name },
    additional_attributes: fromJson(c.additional_attributes),
    avatar: '',
    custom_attributes: fromJson(c.custom_attributes),
    email: c.email,
    id: c.id,
    identifier: c.identifier,
    name: c.name,
    phone_number: c.phone_number,
    thumbnail: '',
    blocked: !!c.blocked,
  };
}

/** The contact_inbox record as conversation push/webhook data show it, without its pubsub_token. */
export function contactInboxRecord(ci: ContactInboxRow) {
  return {
    id: ci.id,
    contact_id: ci.contact_id,
    inbox_id: ci.inbox_id,
    source_id: ci.source_id,
    created_at: iso(ci.created_at),
    updated_at: iso(ci.updated_at),
    hmac_verified: !!ci.hmac_verified,
  };
}

/** Contact webhook data by internal id, or null when the contact is gone. */
export async function loadContactWebhookData(db: Executor, contactId: number): Promise<Record<string, unknown> | null> {
  const c = await findContactById(db, contactId);
  if (!c) return null;
  const account = await findAccountRef(db, c.account_id);
  if (!account) return null;
  return contactWebhookData(c, account);
}

/** Contact push data (socket frames) by internal id, or null when the contact is gone. */
export async function loadContactPushData(db: Executor, contactId: number): Promise<Record<string, unknown> | null> {
  const c = await findContactById(db, contactId);
  return c ? { ...contactPushData(c), account_id: c.account_id } : null;
}

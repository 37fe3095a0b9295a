import type { Executor } from '../kernel/db.js';
import { fromJson, unix } from '../kernel/db.js';
import type { InboxWithChannel } from '../inboxes/repository.js';
import { weeklySchedule } from '../inboxes/working-hours.js';
import type { ContactInboxRow, ContactRow } from '../contacts/repository.js';
import { contactPushData } from '../contacts/presenters.js';
import { loadSenders } from '../conversations/people.js';
import { statusName, type ConversationRow } from '../conversations/repository.js';
import { senderPushData, type MessageRow, type Sender } from '../messages/format.js';
import { publicMessagesOf } from './repository.js';

/**
 * The client API's JSON (reference §3), built for the contact itself. Nothing here carries the
 * inbox's hmac_token or secret, access tokens, or any pubsub_token but the caller's own session's
 * (`presentPublicContact`). The contact inside a conversation is the contact push data plus the
 * record's own columns (no tokens); private notes and activity messages are never presented.
 */

/** `public_inbox`; `working_hours` is the inbox's weekly schedule (one entry per day_of_week, 0 = Sunday). */
export function presentPublicInbox(inbox: InboxWithChannel) {
  return {
    identifier: inbox.identifier,
    identity_validation_enabled: !!inbox.hmac_mandatory,
    name: inbox.name,
    timezone: inbox.timezone,
    working_hours: weeklySchedule(inbox.working_hours),
    working_hours_enabled: !!inbox.working_hours_enabled,
    csat_survey_enabled: !!inbox.csat_survey_enabled,
    greeting_enabled: !!inbox.greeting_enabled,
    greeting_message: inbox.greeting_enabled ? inbox.greeting_message : null,
  };
}

/** `public_contact`: the session's own view of its contact, with the session's pubsub_token (for /cable). */
export function presentPublicContact(contact: ContactRow, session: Pick<ContactInboxRow, 'source_id' | 'pubsub_token'>) {
  return {
    source_id: session.source_id,
    pubsub_token: session.pubsub_token,
    id: contact.id,
    name: contact.name,
    email: contact.email,
    phone_number: contact.phone_number,
  };
}

/** Keys of content_attributes that describe the business's own plumbing, not the conversation. */
export const INTERNAL_CONTENT_ATTRIBUTES: readonly string[] = ['external_error', 'delivery'];

/** `public_message`. */
export function presentPublicMessage(m: MessageRow, conversationDisplayId: number, sender: Sender) {
  const attrs = fromJson<Record<string, unknown>>(m.content_attributes);
  for (const k of INTERNAL_CONTENT_ATTRIBUTES) delete attrs[k];
  const s = senderPushData(sender);
  return {
    id: m.id,
    content: m.content,
    message_type: m.message_type,
    content_type: m.content_type,
    content_attributes: attrs as unknown,
    created_at: unix(m.created_at) ?? 0,
    conversation_id: conversationDisplayId,
    attachments: [] as unknown[],
    ...(m.echo_id ? { echo_id: m.echo_id } : {}),
    ...(s ? { sender: s as unknown } : {}),
  };
}

/** A page of public messages of one conversation. */
export async function presentPublicMessages(db: Executor, conv: ConversationRow, rows: MessageRow[]) {
  const senderOf = await loadSenders(db, conv.account_id, rows);
  return rows.map((m) => presentPublicMessage(m, conv.display_id, senderOf(m)));
}

/** `public_conversation`, for conversations of one contact (the caller's). */
export async function presentPublicConversations(db: Executor, convs: ConversationRow[], contact: ContactRow) {
  if (!convs.length) return [];
  const messages = await publicMessagesOf(
    db,
    convs.map((c) => c.id),
  );
  const senderOf = await loadSenders(db, convs[0].account_id, messages, [contact]);
  const byConversation = new Map<number, MessageRow[]>();
  for (const m of messages) byConversation.set(m.conversation_id, [...(byConversation.get(m.conversation_id) ?? []), m]);
  return convs.map((c) => ({
    id: c.display_id,
    uuid: c.uuid,
    inbox_id: c.inbox_id,
    contact_last_seen_at: unix(c.contact_last_seen_at) ?? 0,
    status: statusName(c.status),
    agent_last_seen_at: unix(c.agent_last_seen_at) ?? 0,
    created_at: unix(c.created_at) ?? 0,
    messages: (byConversation.get(c.id) ?? []).map((m) => presentPublicMessage(m, c.display_id, senderOf(m))),
    contact: publicContactRecord(contact),
  }));
}

const CONTACT_TYPES = ['visitor', 'lead', 'customer'] as const;
const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(Number(ms)).toISOString());

/**
 * The contact inside a public conversation. The reference shows the raw Contact record there, so its
 * columns (account_id, ISO timestamps, contact_type) are added to the push data (which keeps `type`).
 */
function publicContactRecord(contact: ContactRow) {
  return {
    ...contactPushData(contact),
    account_id: contact.account_id,
    created_at: iso(contact.created_at),
    updated_at: iso(contact.updated_at),
    last_activity_at: iso(contact.last_activity_at),
    contact_type: CONTACT_TYPES[contact.contact_type] ?? 'visitor',
  };
}

export async function presentPublicConversation(db: Executor, conv: ConversationRow, contact: ContactRow) {
  return (await presentPublicConversations(db, [conv], contact))[0];
}

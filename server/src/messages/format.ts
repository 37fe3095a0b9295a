import type { Selectable } from 'kysely';
import { fromJson, unix } from '../kernel/db.js';
import type { MessagesTable } from '../kernel/schema.js';
import { MESSAGE_STATUS_NAMES, MESSAGE_TYPE, MESSAGE_TYPE_NAMES } from '../kernel/constants.js';
import type { ContactRow } from '../contacts/repository.js';
import { contactPushData, contactWebhookData } from '../contacts/presenters.js';
import { userPushData, userWebhookData, type Availability } from '../users/presenter.js';

/** Message enums and the pure message JSON builders (no queries here; loaders live in presenters.ts). */

export type MessageRow = Selectable<MessagesTable>;

export const MESSAGE_TYPES = MESSAGE_TYPE_NAMES;
export type MessageTypeName = (typeof MESSAGE_TYPES)[number];
export const MESSAGE_STATUSES = MESSAGE_STATUS_NAMES;
export type MessageStatusName = (typeof MESSAGE_STATUSES)[number];
export const CONTENT_TYPES = [
  'text',
  'input_text',
  'input_textarea',
  'input_email',
  'input_select',
  'cards',
  'form',
  'article',
  'incoming_email',
  'input_csat',
  'integrations',
  'sticker',
  'voice_call',
] as const;
export const INCOMING = MESSAGE_TYPE.incoming;
export const OUTGOING = MESSAGE_TYPE.outgoing;
export const ACTIVITY = MESSAGE_TYPE.activity;
export const DELETED_CONTENT = 'This message was deleted';

export const messageTypeName = (n: number): MessageTypeName => MESSAGE_TYPES[n] ?? 'outgoing';
export const messageStatusName = (n: number): MessageStatusName => MESSAGE_STATUSES[n] ?? 'sent';

/** Who sent a message, loaded by the caller. */
export type Sender =
  | { type: 'contact'; contact: ContactRow }
  | { type: 'user'; user: { id: number; name: string; display_name: string | null; email: string }; availability: Availability }
  | null;

export function senderPushData(s: Sender) {
  if (!s) return undefined;
  return s.type === 'contact' ? contactPushData(s.contact) : userPushData(s.user, s.availability);
}

/** Webhook sender: a user's webhook data, or the contact's webhook data plus `type: 'contact'` (the seed's example has it). */
export function senderWebhookData(s: Sender, account: { id: number; name: string }) {
  if (!s) return null;
  if (s.type === 'user') return userWebhookData(s.user);
  return { ...contactWebhookData(s.contact, account), type: 'contact' as const };
}

/**
 * `_message`: the Application API message. Every key of the seed's example is present with its type
 * (`content_type` stays null when none was given, `message_type` is the integer).
 */
export function presentMessage(m: MessageRow, ctx: { conversationDisplayId: number; sender: Sender }) {
  const out = {
    id: m.id,
    content: m.content,
    inbox_id: m.inbox_id,
    conversation_id: ctx.conversationDisplayId,
    message_type: m.message_type,
    content_type: m.content_type,
    status: messageStatusName(m.status),
    content_attributes: fromJson(m.content_attributes),
    created_at: unix(m.created_at),
    private: !!m.private,
    source_id: m.source_id,
  };
  const sender = senderPushData(ctx.sender);
  return { ...out, ...(m.echo_id ? { echo_id: m.echo_id } : {}), ...(sender ? { sender } : {}) };
}
export type MessageJson = ReturnType<typeof presentMessage>;

/** The conversation summary inside message push data. */
export type MessageConversationRef = {
  displayId: number;
  assignee_id: number | null;
  unread_count: number;
  last_activity_at: number;
  source_id: string | null;
};

/**
 * Message push data (reference §5): the message columns, `created_at` unix, integer `message_type`,
 * `conversation_id` as display_id, `conversation{assignee_id, unread_count, last_activity_at,
 * contact_inbox{source_id}}`, the sender's push data and `echo_id` when present.
 */
export function messagePushData(m: MessageRow, conv: MessageConversationRef, sender: Sender) {
  const data = {
    id: m.id,
    content: m.content,
    account_id: m.account_id,
    inbox_id: m.inbox_id,
    conversation_id: conv.displayId,
    message_type: m.message_type,
    created_at: Math.floor(Number(m.created_at) / 1000), // a NOT NULL column: never null
    updated_at: new Date(Number(m.updated_at)).toISOString(),
    private: !!m.private,
    status: messageStatusName(m.status),
    source_id: m.source_id,
    content_type: m.content_type,
    content_attributes: fromJson(m.content_attributes),
    sender_type: m.sender_type,
    sender_id: m.sender_id,
    external_source_ids: {},
    additional_attributes: fromJson(m.additional_attributes),
    processed_message_content: m.content,
    sentiment: {},
    conversation: {
      assignee_id: conv.assignee_id,
      unread_count: conv.unread_count,
      last_activity_at: unix(conv.last_activity_at),
      contact_inbox: { source_id: conv.source_id },
    },
  };
  const s = senderPushData(sender);
  return { ...data, ...(m.echo_id ? { echo_id: m.echo_id } : {}), ...(s ? { sender: s } : {}) };
}

/** Webhook text: markdown hard-break backslashes become plain newlines; trailing newlines are dropped. */
export function normalizeWebhookContent(content: string | null): string | null {
  if (!content) return content;
  return content.replace(/\\\r?\n/g, '\n').replace(/(\r?\n)+$/, '');
}

/**
 * `content_attributes.delivery` of an outgoing message whose `message_created` callback (API inbox)
 * did not go through at the first attempt: `retrying` from the first failed attempt (with the time
 * of the next one), `delivered` when a later attempt succeeded, `failed` once the retry schedule is
 * used up (the message is then `status: failed` with `external_error`). `attempts` counts the
 * attempts of the current schedule (a retry or redelivery starts it again); `next_attempt_at` is
 * unix seconds, as the API's other times. A message delivered at the first attempt has none.
 */
export type DeliveryState = { state: 'retrying' | 'delivered' | 'failed'; attempts: number; next_attempt_at: number | null; last_error: string | null };

export function deliveryState(state: DeliveryState['state'], attempts: number, nextAttemptAtMs: number | null, lastError: string | null): DeliveryState {
  return { state, attempts, next_attempt_at: unix(nextAttemptAtMs), last_error: lastError };
}

import type { Executor } from '../kernel/db.js';
import { fromJson } from '../kernel/db.js';
import { findAccountRef, findContactById, findContactInboxById, type ContactRow } from '../contacts/repository.js';
import { contactPushData } from '../contacts/presenters.js';
import { inboxWebhookData } from '../inboxes/presenter.js';
import { availabilityStatus, userPushData } from '../users/presenter.js';
import { loadBundle, type ConversationBundle } from '../conversations/bundle.js';
import { conversationWebhookData } from '../conversations/presenters.js';
import { findAgent } from '../agents/repository.js';
import { loadSenders } from '../conversations/people.js';
import { findConversationById, labelsOf, unreadCounts, type ConversationRow } from '../conversations/repository.js';
import { messagePushData, messageTypeName, normalizeWebhookContent, presentMessage, senderWebhookData, type MessageRow, type Sender } from './format.js';
import { findMessageById } from './repository.js';

/**
 * Message JSON for every audience: `presentMessage` (Application API), `loadMessagePushData`
 * (socket frames) and `loadMessageWebhookData` (webhook bodies). Loaders return null when the
 * message (or its conversation) is gone.
 */
export { presentMessage, messagePushData, type MessageJson, type Sender } from './format.js';

/** Message push data (reference §5) by message id. */
export async function loadMessagePushData(db: Executor, messageId: number): Promise<Record<string, unknown> | null> {
  const m = await findMessageById(db, messageId);
  if (!m) return null;
  const conv = await findConversationById(db, m.conversation_id);
  if (!conv) return null;
  const ci = await findContactInboxById(db, conv.contact_inbox_id);
  const unread = unreadCounts([conv]).get(conv.id) ?? 0;
  const senderOf = await loadSenders(db, m.account_id, [m]);
  return messagePushData(
    m,
    {
      displayId: conv.display_id,
      assignee_id: conv.assignee_id,
      unread_count: unread,
      last_activity_at: conv.last_activity_at,
      source_id: ci?.source_id ?? null,
    },
    senderOf(m),
  );
}

/**
 * Message webhook data: reference §4 `message.webhook_data` merged with the seed's callback example
 * (`sender.type` is 'contact' for a contact). `content`/`private` are the message's own, private
 * notes included; the nested `conversation.messages` shows the last public message, as the reference does.
 */
export async function loadMessageWebhookData(db: Executor, messageId: number): Promise<Record<string, unknown> | null> {
  const m = await findMessageById(db, messageId);
  if (!m) return null;
  const conv = await findConversationById(db, m.conversation_id);
  if (!conv) return null;
  const bundle = await loadBundle(db, conv);
  const account = await findAccountRef(db, m.account_id);
  if (!bundle || !account) return null;
  const senderOf = await loadSenders(db, m.account_id, [m], [bundle.contact]);
  return messageWebhookData(m, bundle, account, senderOf(m));
}

/**
 * The message webhook data from rows at hand: the one builder behind loadMessageWebhookData and the
 * webhook listener's batches (src/webhooks/bodies.ts).
 */
export function messageWebhookData(m: MessageRow, b: ConversationBundle, account: { id: number; name: string }, sender: Sender) {
  return {
    account: { id: account.id, name: account.name },
    additional_attributes: fromJson(m.additional_attributes),
    content_attributes: fromJson(m.content_attributes),
    content_type: m.content_type,
    content: normalizeWebhookContent(m.content),
    conversation: conversationWebhookData(b, account),
    created_at: new Date(Number(m.created_at)).toISOString(),
    id: m.id,
    inbox: inboxWebhookData(b.inbox),
    message_type: messageTypeName(m.message_type),
    private: !!m.private,
    sender: senderWebhookData(sender, account),
    source_id: m.source_id,
    ...(m.echo_id ? { echo_id: m.echo_id } : {}),
  };
}

/** Application API JSON for messages of one conversation, senders loaded in a batch. */
export async function presentMessages(
  db: Executor,
  conv: { account_id: number; display_id: number },
  rows: MessageRow[],
  knownContacts: ContactRow[] = [],
) {
  const senderOf = await loadSenders(db, conv.account_id, rows, knownContacts);
  return rows.map((m) => presentMessage(m, { conversationDisplayId: conv.display_id, sender: senderOf(m) }));
}

/** One message as the Application API returns it (its own conversation's display id, even for a deduplicated one). */
export async function presentMessageIn(db: Executor, conv: ConversationRow, m: MessageRow, knownContacts: ContactRow[] = []) {
  const owner = m.conversation_id === conv.id ? conv : ((await findConversationById(db, m.conversation_id)) ?? conv);
  return (await presentMessages(db, owner, [m], knownContacts))[0];
}

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(Number(ms)).toISOString());

/**
 * `meta` of GET …/messages: labels, additional_attributes, contact, assignee?, last-seen times. The
 * reference renders the last-seen columns as raw datetimes here (ISO 8601 strings or null), unlike
 * the `.to_i` unix seconds of the conversation JSON.
 */
export async function presentMessagesMeta(db: Executor, conv: ConversationRow) {
  const contact = await findContactById(db, conv.contact_id);
  const assignee = conv.assignee_id ? await findAgent(db, conv.account_id, conv.assignee_id) : undefined;
  return {
    labels: (await labelsOf(db, [conv.id])).get(conv.id) ?? [],
    additional_attributes: fromJson(conv.additional_attributes),
    contact: contact ? contactPushData(contact) : null,
    ...(assignee ? { assignee: userPushData(assignee, availabilityStatus(assignee.availability, assignee.auto_offline, false)) } : {}),
    agent_last_seen_at: iso(conv.agent_last_seen_at),
    assignee_last_seen_at: iso(conv.assignee_last_seen_at),
  };
}

/** `GET …/messages`: `{meta, payload}`. */
export async function presentMessageList(db: Executor, conv: ConversationRow, rows: MessageRow[]) {
  return { meta: await presentMessagesMeta(db, conv), payload: await presentMessages(db, conv, rows) };
}

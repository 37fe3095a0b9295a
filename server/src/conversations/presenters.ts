import type { Executor } from '../kernel/db.js';
import { fromJson, unix } from '../kernel/db.js';
import { presentAgent, userPushData, availabilityStatus, type PresenceLookup } from '../users/presenter.js';
import { contactInboxRecord, contactPushData, presentContact } from '../contacts/presenters.js';
import { findAccountRef } from '../contacts/repository.js';
import { presentTeam, teamPushData } from '../teams/presenter.js';
import { presentLabelCounts } from '../labels/presenter.js';
import type { LabelCountRow } from '../labels/repository.js';
import { messagePushData, normalizeWebhookContent, type MessageConversationRef, type MessageRow } from '../messages/format.js';
import { loadBundle, loadBundles, type ConversationBundle } from './bundle.js';
import { findConversationById, priorityName, statusName, type ConversationRow } from './repository.js';
import type { ConversationPage } from './listing.js';

/**
 * Conversation JSON, one builder per audience: the Application API (`_conversation`), push data
 * (socket frames) and webhook data. The ids in every shape are display_ids. Push and webhook data
 * carry the contact_inbox record without its pubsub_token.
 */

export function canReply(b: ConversationBundle, at = Date.now()): boolean {
  if (b.inbox.reply_window_hours == null) return true;
  return b.lastIncomingAt != null && at - b.lastIncomingAt < b.inbox.reply_window_hours * 3600_000;
}

export function messageConversationRef(b: Pick<ConversationBundle, 'conv' | 'unreadCount' | 'contactInbox'>): MessageConversationRef {
  return {
    displayId: b.conv.display_id,
    assignee_id: b.conv.assignee_id,
    unread_count: b.unreadCount,
    last_activity_at: b.conv.last_activity_at,
    source_id: b.contactInbox?.source_id ?? null,
  };
}

function pushOf(b: ConversationBundle, m: MessageRow | null) {
  return m ? messagePushData(m, messageConversationRef(b), b.senderOf(m)) : null;
}

/**
 * What depends on the moment and on who asks: who is on /cable now, for availability_status (`user`:
 * the assignee's presence; `contacts`: the account's contacts online), and the teams of the caller,
 * for `meta.team.is_member`. Without it everybody shows offline (webhook bodies: presence is not the
 * callback's business) and the caller a member of no team.
 */
export type ConversationViewer = { user?: PresenceLookup; contacts?: ReadonlySet<number>; teams?: ReadonlySet<number> };
const assigneePresent = (b: ConversationBundle, p: ConversationViewer) => !!b.assignee && !!p.user?.(b.conv.account_id, b.assignee.id);

const toI = (ms: number | null | undefined) => unix(ms) ?? 0;
const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(Number(ms)).toISOString());
const assigneeType = (b: ConversationBundle) => (b.conv.assignee_id != null ? 'User' : null);

/** `_conversation`: the Application API conversation (list, show, create). */
export function presentConversation(b: ConversationBundle, viewer: ConversationViewer = {}) {
  const c = b.conv;
  const last = pushOf(b, b.lastMessage);
  return {
    // As in the reference, assignee and assignee_type are there only when assigned (team: only with a team).
    meta: {
      sender: presentContact(b.contact, { availability: viewer.contacts?.has(b.contact.id) ? 'online' : 'offline' }),
      channel: b.inbox.channel_type,
      ...(b.assignee ? { assignee: presentAgent(b.assignee, { presence: viewer.user }), assignee_type: 'User' } : {}),
      ...(b.team ? { team: presentTeam(b.team, !!viewer.teams?.has(b.team.id)) } : {}),
      hmac_verified: !!b.contactInbox?.hmac_verified,
    },
    id: c.display_id,
    messages: last ? [last] : [],
    account_id: c.account_id,
    uuid: c.uuid,
    additional_attributes: fromJson(c.additional_attributes),
    agent_last_seen_at: toI(c.agent_last_seen_at),
    assignee_last_seen_at: toI(c.assignee_last_seen_at),
    can_reply: canReply(b),
    contact_last_seen_at: toI(c.contact_last_seen_at),
    custom_attributes: fromJson(c.custom_attributes),
    inbox_id: c.inbox_id,
    labels: b.labels,
    // Muted while the contact is blocked (the reference's mute blocks the contact).
    muted: !!b.contact.blocked,
    snoozed_until: unix(c.snoozed_until),
    status: statusName(c.status),
    created_at: toI(c.created_at),
    updated_at: Number(c.updated_at) / 1000,
    timestamp: toI(c.last_activity_at),
    first_reply_created_at: toI(c.first_reply_created_at),
    unread_count: b.unreadCount,
    last_non_activity_message: pushOf(b, b.lastNonActivity),
    last_activity_at: toI(c.last_activity_at),
    priority: priorityName(c.priority),
    waiting_since: toI(c.waiting_since),
    sla_policy_id: null,
  };
}
export type ConversationJson = ReturnType<typeof presentConversation>;

/** Conversation push data (reference §5 / Chatwoot's conversation event data). */
export function conversationPushData(b: ConversationBundle, opts: { normalizeContent?: boolean; viewer?: ConversationViewer } = {}) {
  const c = b.conv;
  let chat = pushOf(b, b.lastChat);
  if (chat && opts.normalizeContent) {
    const content = normalizeWebhookContent(chat.content as string | null);
    chat = { ...chat, content, processed_message_content: content };
  }
  return {
    additional_attributes: fromJson(c.additional_attributes),
    can_reply: canReply(b),
    channel: b.inbox.channel_type,
    contact_inbox: b.contactInbox ? contactInboxRecord(b.contactInbox) : null,
    id: c.display_id,
    account_id: c.account_id,
    uuid: c.uuid,
    inbox_id: c.inbox_id,
    messages: chat ? [chat] : [],
    labels: b.labels,
    meta: {
      sender: contactPushData(b.contact),
      assignee: b.assignee
        ? userPushData(b.assignee, availabilityStatus(b.assignee.availability, b.assignee.auto_offline, assigneePresent(b, opts.viewer ?? {})))
        : null,
      assignee_type: assigneeType(b),
      team: b.team ? teamPushData(b.team) : null,
      hmac_verified: !!b.contactInbox?.hmac_verified,
    },
    status: statusName(c.status),
    custom_attributes: fromJson(c.custom_attributes),
    // Raw datetimes in the reference's push data (ISO 8601 or null), unlike the `.to_i` fields below.
    snoozed_until: iso(c.snoozed_until),
    unread_count: b.unreadCount,
    first_reply_created_at: iso(c.first_reply_created_at),
    priority: priorityName(c.priority),
    waiting_since: toI(c.waiting_since),
    agent_last_seen_at: toI(c.agent_last_seen_at),
    contact_last_seen_at: toI(c.contact_last_seen_at),
    last_activity_at: unix(c.last_activity_at),
    timestamp: unix(c.last_activity_at),
    created_at: unix(c.created_at),
    updated_at: Number(c.updated_at) / 1000,
  };
}

/** `conversation.webhook_data`: push data (message content normalized) plus `account{id,name}`. */
export function conversationWebhookData(b: ConversationBundle, account: { id: number; name: string }) {
  return { ...conversationPushData(b, { normalizeContent: true }), account: { id: account.id, name: account.name } };
}

/** Presents a page of conversations with batched loading. */
export async function presentConversations(db: Executor, convs: ConversationRow[], viewer?: ConversationViewer) {
  return (await loadBundles(db, convs)).map((b) => presentConversation(b, viewer));
}

export async function presentOneConversation(db: Executor, conv: ConversationRow, viewer?: ConversationViewer) {
  const b = await loadBundle(db, conv);
  if (!b) throw new Error(`conversation ${conv.id} vanished while presenting it`);
  return presentConversation(b, viewer);
}

/** Conversation push data by internal id, or null when the conversation is gone. */
export async function loadConversationPushData(db: Executor, conversationId: number, viewer?: ConversationViewer): Promise<Record<string, unknown> | null> {
  const conv = await findConversationById(db, conversationId);
  if (!conv) return null;
  const b = await loadBundle(db, conv);
  return b ? conversationPushData(b, { viewer }) : null;
}

/** Conversation webhook data by internal id, or null when the conversation is gone. */
export async function loadConversationWebhookData(db: Executor, conversationId: number): Promise<Record<string, unknown> | null> {
  const conv = await findConversationById(db, conversationId);
  if (!conv) return null;
  const [b, account] = [await loadBundle(db, conv), await findAccountRef(db, conv.account_id)];
  return b && account ? conversationWebhookData(b, account) : null;
}

/** `GET /conversations`: `{data: {meta: {counts…, current_page, total_pages}, payload}}`. */
export async function presentConversationPage(db: Executor, page: ConversationPage, viewer?: ConversationViewer) {
  return {
    data: {
      meta: { ...page.counts, current_page: page.page, total_pages: page.totalPages },
      payload: await presentConversations(db, page.rows, viewer),
    },
  };
}

/** `GET /conversations/search` and `POST /conversations/filter`: `{meta: {counts…, current_page, total_pages}, payload}`. */
export async function presentConversationResults(db: Executor, page: ConversationPage, viewer?: ConversationViewer) {
  return {
    meta: { ...page.counts, current_page: page.page, total_pages: page.totalPages },
    payload: await presentConversations(db, page.rows, viewer),
  };
}

/** `GET /conversations/meta`: the counts, plus the ChannelX per-inbox and per-label counts (`meta.inboxes`, `meta.labels`). */
export const presentConversationMeta = <T extends object>(
  counts: T,
  inboxes: { inbox_id: number; open_count: number; unread_count: number }[],
  labels: LabelCountRow[] = [],
) => ({
  meta: {
    ...counts,
    inboxes: inboxes.map((i) => ({ inbox_id: i.inbox_id, open_count: i.open_count, unread_count: i.unread_count })),
    labels: presentLabelCounts(labels),
  },
});

/** `POST …/toggle_status`. */
export function presentStatusToggle(conv: Pick<ConversationRow, 'display_id' | 'status' | 'snoozed_until'>) {
  return {
    meta: {},
    payload: { success: true, conversation_id: conv.display_id, current_status: statusName(conv.status), snoozed_until: unix(conv.snoozed_until) },
  };
}

/** `POST …/custom_attributes`: the merged attributes. */
export const presentCustomAttributes = <T>(customAttributes: T) => ({ custom_attributes: customAttributes });

/** `GET …/attachments`: `{meta: {total_count}, payload: [attachment]}`. ChannelX stores no files yet, so a page is always empty. */
export function presentConversationAttachments(attachments: never[], totalCount: number) {
  return { meta: { total_count: totalCount }, payload: attachments };
}

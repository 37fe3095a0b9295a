import type { AppContext } from '../context.js';
import { fromJson, now, toJson } from '../kernel/db.js';
import { AppError, errors } from '../kernel/errors.js';
import { jsonObject } from '../kernel/http.js';
import { changeConversation, type Performer } from '../conversations/changes.js';
import { STATUS, updateConversation, type ConversationRow } from '../conversations/repository.js';
import { openConversation } from '../conversations/service.js';
import { MESSAGE_STATUSES, type MessageRow } from '../messages/format.js';
import { updateMessage } from '../messages/repository.js';
import { ingestMessage, normalizeMessageInput } from '../messages/service.js';
import { checkAttributes } from './limits.js';
import * as repo from './repository.js';
import type { MessageCreateBody, MessageUpdateBody, TypingBody } from './schemas.js';
import { openSession, scopeOf, type Session } from './session.js';
import { MESSAGE_TYPE } from '../kernel/constants.js';

/**
 * Conversation and message use cases of the client API. Every one starts from `openSession`
 * (capability + identity rules, with the hashes the route read by `requestHashes`) and reaches conversations only through the session's scope, so a
 * contact can never address another contact's conversation: an id outside the scope is a 404.
 * Writes reuse the Application API's building blocks and record the same events in the same
 * transaction (conversation.created, message.created, conversation.status_changed/updated,
 * conversation.typing_on/off, message.updated), with the contact as performer / typist / sender.
 */

export type ConversationRef = { inbox_identifier: string; contact_identifier: string; conversation_id: number };

/** A CSAT answer is accepted for 14 days after the survey was sent. */
const CSAT_WINDOW_MS = 14 * 24 * 3600 * 1000;
const SUBMITTABLE = new Set(['form', 'input_select', 'input_csat']);

const contactPerformer = (s: Session): Performer => ({ type: 'contact', id: s.contact.id });

export async function listConversations(ctx: AppContext, inboxIdentifier: string, sourceId: string, hashes: string[]) {
  const s = await openSession(ctx, inboxIdentifier, sourceId, hashes);
  const db = ctx.database.db;
  return { session: s, conversations: await repo.listScopedConversations(db, await scopeOf(db, s)) };
}

/** POST …/conversations: only custom_attributes are taken; lock_to_single_conversation is respected. */
export async function createConversation(ctx: AppContext, inboxIdentifier: string, sourceId: string, body: { custom_attributes?: unknown }, hashes: string[]) {
  const s = await openSession(ctx, inboxIdentifier, sourceId, hashes);
  const custom = checkAttributes(jsonObject(body.custom_attributes, 'custom_attributes'), 'custom_attributes');
  const conversation = await ctx.database.transaction(async (trx) => {
    const { conversation } = await openConversation(ctx, trx, {
      accountId: s.inbox.account_id,
      inbox: s.inbox,
      contactInbox: s.session,
      contactBlocked: !!s.contact.blocked,
      customAttributes: custom,
      performer: contactPerformer(s),
    });
    return conversation;
  });
  return { session: s, conversation };
}

/** The session's conversation by display_id, or 404. */
export async function getConversation(ctx: AppContext, ref: ConversationRef, hashes: string[]): Promise<{ session: Session; conversation: ConversationRow }> {
  const s = await openSession(ctx, ref.inbox_identifier, ref.contact_identifier, hashes);
  const db = ctx.database.db;
  const conversation = await repo.findScopedConversation(db, await scopeOf(db, s), ref.conversation_id);
  if (!conversation) throw errors.notFound();
  return { session: s, conversation };
}

/** toggle_status: a contact can only resolve (nothing happens when already resolved); the contact is the performer. */
export async function resolveConversation(ctx: AppContext, ref: ConversationRef, hashes: string[]) {
  const { session, conversation } = await getConversation(ctx, ref, hashes);
  const { conversation: after } = await ctx.database.transaction((trx) =>
    changeConversation(
      ctx,
      trx,
      conversation.id,
      async (current) => ({
        patch: current.status === STATUS.resolved ? {} : { status: STATUS.resolved, snoozed_until: null, status_changed_at: now() },
        result: null,
      }),
      contactPerformer(session),
    ),
  );
  return { session, conversation: after };
}

/** toggle_typing: conversation.typing_on / typing_off with the contact as typist. */
export async function toggleTyping(ctx: AppContext, ref: ConversationRef, body: TypingBody, hashes: string[]) {
  const { session, conversation } = await getConversation(ctx, ref, hashes);
  await ctx.database.transaction(async (trx) => {
    await ctx.events(trx, conversation.account_id, body.typing_status === 'on' ? 'conversation.typing_on' : 'conversation.typing_off', {
      conversation_id: conversation.id,
      typist: { type: 'contact', id: session.contact.id },
      is_private: false,
    });
  });
}

/**
 * update_last_seen: sets contact_last_seen_at and marks the earlier outgoing/template messages that
 * are sent or delivered as read (never private notes or activity messages), recording
 * message.updated for each, as a status update through the Application API does.
 */
export async function updateLastSeen(ctx: AppContext, ref: ConversationRef, hashes: string[]) {
  const { conversation } = await getConversation(ctx, ref, hashes);
  await ctx.database.transaction(async (trx) => {
    const seenAt = now();
    await updateConversation(trx, conversation.id, { contact_last_seen_at: seenAt });
    const unread = await repo.unreadReplies(trx, conversation.id, seenAt);
    if (!unread.length) return;
    await repo.markRead(
      trx,
      unread.map((m) => m.id),
    );
    for (const m of unread) {
      await ctx.events(trx, conversation.account_id, 'message.updated', {
        message_id: m.id,
        conversation_id: conversation.id,
        previous_changes: { status: [MESSAGE_STATUSES[m.status], 'read'] },
      });
    }
  });
}

export async function listMessages(ctx: AppContext, ref: ConversationRef, query: { before?: number }, hashes: string[]) {
  const { session, conversation } = await getConversation(ctx, ref, hashes);
  return { session, conversation, messages: await repo.listPublicMessages(ctx.database.db, conversation.id, query.before) };
}

/** POST …/messages: always incoming, the contact as sender, through the Application API's ingestion. */
export async function createMessage(ctx: AppContext, ref: ConversationRef, body: MessageCreateBody, hashes: string[]) {
  const { session, conversation } = await getConversation(ctx, ref, hashes);
  if (body.attachments !== undefined && body.attachments !== null && body.attachments !== '') {
    throw errors.invalid('attachments: file uploads are not supported by this server yet', ['attachments']);
  }
  const msg = normalizeMessageInput(
    { content: body.content ?? null, echo_id: body.echo_id ?? null, message_type: 'incoming' },
    session.inbox.channel_type,
  );
  const limit = await ctx.limiter.hit(`public:conversation:${conversation.id}`, ctx.config.publicRateLimit.messagesPerConversationPerMinute, 60);
  if (!limit.allowed) throw new AppError('rate_limited', 'Too many messages', { retryAfterS: limit.retryAfterS });
  const { message } = await ingestMessage(ctx, conversation, msg, { type: 'Contact', id: session.contact.id });
  return { session, conversation, message };
}

/**
 * PATCH …/messages/:message_id: the contact's answer to a form, input_select or input_csat message
 * of this conversation, stored as content_attributes.submitted_values; records message.updated.
 */
export async function submitValues(ctx: AppContext, ref: ConversationRef & { message_id: number }, body: MessageUpdateBody, hashes: string[]) {
  const { session, conversation } = await getConversation(ctx, ref, hashes);
  const current = await repo.findPublicMessage(ctx.database.db, conversation.id, ref.message_id);
  if (!current) throw errors.notFound();
  if (!current.content_type || !SUBMITTABLE.has(current.content_type) || current.message_type === MESSAGE_TYPE.incoming) {
    throw errors.unprocessable('Only form, input_select and input_csat messages take submitted_values');
  }
  if (current.content_type === 'input_csat' && now() - Number(current.created_at) > CSAT_WINDOW_MS) {
    throw errors.unprocessable('You cannot update the CSAT survey after 14 days');
  }
  const values = body.submitted_values.map((v) => {
    const out: Record<string, unknown> = {};
    for (const k of ['name', 'title', 'value', 'csat_survey_response'] as const) if (v[k] !== undefined) out[k] = v[k];
    return out;
  });
  if (JSON.stringify(values).length > 20_000) throw errors.invalid('submitted_values is too long', ['submitted_values']);
  const message: MessageRow = await ctx.database.transaction(async (trx) => {
    const attrs = fromJson<Record<string, unknown>>(current.content_attributes);
    const previous = attrs.submitted_values ?? null;
    attrs.submitted_values = values;
    const row = await updateMessage(trx, current.id, { content_attributes: toJson(attrs) });
    await ctx.events(trx, conversation.account_id, 'message.updated', {
      message_id: row.id,
      conversation_id: conversation.id,
      previous_changes: { submitted_values: [previous, values] },
      performer: contactPerformer(session),
    });
    return row;
  });
  return { session, conversation, message };
}

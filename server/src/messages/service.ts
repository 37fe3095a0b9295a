import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import type { Tx } from '../kernel/db.js';
import { bit, fromJson, isUniqueViolation, now, toJson } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import { jsonObject } from '../kernel/http.js';
import { findContactById, touchContactActivity, type ContactRow } from '../contacts/repository.js';
import { MESSAGE_STATUS } from '../kernel/constants.js';
import { requeueMessageCallback } from '../webhooks/service.js';
import { changeConversation, type Performer } from '../conversations/changes.js';
import { STATUS, type ConversationPatch, type ConversationRow } from '../conversations/repository.js';
import { CONTENT_TYPES, DELETED_CONTENT, INCOMING, MESSAGE_STATUSES, OUTGOING, type MessageRow } from './format.js';
import * as repo from './repository.js';
import { MAX_CONTENT, type MessageCreateBody } from './schemas.js';

/**
 * Message use cases. `normalizeMessageInput` + `ingestMessage` are actor-free and reusable (the
 * client API creates incoming messages as the conversation's contact with them).
 */

export type NormalizedMessage = {
  content: string | null;
  messageType: typeof INCOMING | typeof OUTGOING;
  private: boolean;
  contentType: string | null;
  contentAttributes: Record<string, unknown>;
  sourceId: string | null;
  echoId: string | null;
};

/** Who writes the message: the conversation's contact (incoming) or a user (outgoing). */
export type MessageSender = { type: 'Contact' | 'User'; id: number };

const STRUCTURED = new Set(['input_select', 'cards', 'form', 'article']);

function parseMessageType(v: unknown): typeof INCOMING | typeof OUTGOING {
  if (v === undefined || v === null || v === '') return OUTGOING;
  if (v === 'incoming' || v === 0 || v === '0') return INCOMING;
  if (v === 'outgoing' || v === 1 || v === '1') return OUTGOING;
  throw errors.invalid('message_type must be incoming or outgoing', ['message_type']);
}

/** Validates a message request; 422 with a clear message on bad input, before anything is written. */
export function normalizeMessageInput(raw: MessageCreateBody, channelType: string): NormalizedMessage {
  // Multipart files are refused by the body parser (src/kernel/http.ts); upload ids in JSON here.
  if (raw.attachments !== undefined && raw.attachments !== null && raw.attachments !== '') {
    throw errors.invalid('attachments: file uploads are not supported by this server yet', ['attachments']);
  }
  const messageType = parseMessageType(raw.message_type);
  if (messageType === INCOMING && channelType !== 'Channel::Api') {
    throw errors.unprocessable('Incoming messages are only allowed in Api inboxes');
  }
  const isPrivate = !!raw.private;
  if (messageType === INCOMING && isPrivate) throw errors.invalid('Incoming messages cannot be private notes', ['private']);
  const content = raw.content ?? null;
  if (content !== null && content.length > MAX_CONTENT) {
    throw errors.invalid(`Content is too long (maximum is ${MAX_CONTENT} characters)`, ['content']);
  }
  const contentType = raw.content_type || null;
  if (contentType !== null && !(CONTENT_TYPES as readonly string[]).includes(contentType)) {
    throw errors.invalid(`content_type must be one of ${CONTENT_TYPES.join(', ')}`, ['content_type']);
  }
  const contentAttributes = jsonObject(raw.content_attributes, 'content_attributes') ?? {};
  // The callback delivery state is the server's to say (src/webhooks/delivery-repository.ts).
  delete contentAttributes.delivery;
  if (contentType && STRUCTURED.has(contentType)) {
    const items = contentAttributes.items;
    if (!Array.isArray(items) || !items.length) {
      throw errors.invalid(`content_attributes.items must list at least one item for ${contentType}`, ['content_attributes']);
    }
  }
  if ((content === null || content.trim() === '') && !Object.keys(contentAttributes).length) {
    throw errors.invalid("Content can't be blank", ['content']);
  }
  return {
    content,
    messageType,
    private: isPrivate,
    contentType,
    contentAttributes,
    sourceId: raw.source_id?.trim() || null,
    echoId: raw.echo_id || null,
  };
}

/**
 * Writes a message in the caller's transaction and applies its effects on the conversation: last
 * activity; an incoming message reopens a resolved or snoozed conversation (unless it is muted: its
 * contact is blocked) and sets waiting_since;
 * a public reply by a user clears waiting_since and sets first_reply_created_at. Records the
 * conversation change events, then `message.created`. Returns the message and, for an incoming one,
 * its contact as the write left it (the response's sender: no read after commit).
 */
export async function writeMessage(
  ctx: AppContext,
  trx: Tx,
  conversation: Pick<ConversationRow, 'id'>,
  msg: NormalizedMessage,
  sender: MessageSender,
  performer?: Performer,
): Promise<{ message: MessageRow; contact?: ContactRow }> {
  const t = now();
  let contact: ContactRow | undefined;
  const change = async (conv: ConversationRow) => {
    const message = await repo.insertMessage(
      trx,
      {
        account_id: conv.account_id,
        inbox_id: conv.inbox_id,
        conversation_id: conv.id,
        content: msg.content,
        message_type: msg.messageType,
        content_type: msg.contentType,
        content_attributes: toJson(msg.contentAttributes),
        additional_attributes: '{}',
        private: bit(msg.private),
        status: MESSAGE_STATUS.sent,
        source_id: msg.sourceId,
        sender_type: sender.type,
        sender_id: sender.id,
        echo_id: msg.echoId,
      },
      t,
    );
    const patch: ConversationPatch = { last_activity_at: t };
    if (msg.messageType === INCOMING) {
      // A muted conversation (its contact blocked, as in the reference) is not reopened.
      if ((conv.status === STATUS.resolved || conv.status === STATUS.snoozed) && !(await findContactById(trx, conv.contact_id))?.blocked) {
        patch.status = STATUS.open;
        patch.snoozed_until = null;
        patch.status_changed_at = t;
      }
      if (conv.waiting_since == null) patch.waiting_since = t;
      // The unread counter (migration 0008): incoming messages after agent_last_seen_at.
      if (t > Number(conv.agent_last_seen_at ?? 0)) patch.unread_count = Number(conv.unread_count ?? 0) + 1;
      contact = await touchContactActivity(trx, conv.contact_id, t);
    } else if (!msg.private && sender.type === 'User') {
      if (conv.first_reply_created_at == null) patch.first_reply_created_at = t;
      patch.waiting_since = null;
    }
    return { patch, result: message };
  };
  const { before: conv, result: message } = await changeConversation(ctx, trx, conversation.id, change, performer ?? senderPerformer(sender));
  await ctx.events(trx, conv.account_id, 'message.created', {
    message_id: message.id,
    conversation_id: conv.id,
    ...(msg.echoId ? { echo_id: msg.echoId } : {}),
  });
  return { message, contact };
}

const senderPerformer = (s: MessageSender): Performer => ({ type: s.type === 'User' ? 'user' : 'contact', id: s.id });

/**
 * Creates a message with idempotent ingestion: an incoming message whose source_id was already used
 * in the inbox returns the existing message (`created: false`, no new event). The unique index on
 * (inbox_id, source_id) settles races: the loser of a concurrent insert returns the winner's row.
 */
export async function ingestMessage(
  ctx: AppContext,
  conversation: Pick<ConversationRow, 'id' | 'inbox_id'>,
  msg: NormalizedMessage,
  sender: MessageSender,
): Promise<{ message: MessageRow; created: boolean; contact?: ContactRow }> {
  const db = ctx.database.db;
  const dedupe = msg.messageType === INCOMING && msg.sourceId !== null;
  if (dedupe) {
    const existing = await repo.findIncomingBySource(db, conversation.inbox_id, msg.sourceId!);
    if (existing) return { message: existing, created: false };
  }
  try {
    // Group commit (kernel/transaction-group.ts): concurrent creates share a COMMIT; writeMessage is database work only.
    const { message, contact } = await ctx.database.grouped((trx) => writeMessage(ctx, trx, conversation, msg, sender));
    return { message, created: true, contact };
  } catch (err) {
    if (dedupe && isUniqueViolation(err)) {
      const existing = await repo.findIncomingBySource(db, conversation.inbox_id, msg.sourceId!);
      if (existing) return { message: existing, created: false };
    }
    throw err;
  }
}

/** Application API: the contact is the sender of incoming messages, the token's user of outgoing ones. */
export async function createMessage(ctx: AppContext, auth: AccountContext, conv: ConversationRow & { channel_type: string }, raw: MessageCreateBody) {
  const msg = normalizeMessageInput(raw, conv.channel_type);
  const sender: MessageSender = msg.messageType === INCOMING ? { type: 'Contact', id: conv.contact_id } : { type: 'User', id: auth.user.id };
  return ingestMessage(ctx, conv, msg, sender);
}

/** A page of the conversation's messages (see repository.listMessages for the paging rules). */
export async function conversationMessages(ctx: AppContext, conv: ConversationRow, q: { before?: number; after?: number; filter_internal_messages?: boolean }) {
  return repo.listMessages(ctx.database.db, conv.id, { before: q.before, after: q.after, filterInternal: q.filter_internal_messages });
}

export async function getMessage(ctx: AppContext, conv: ConversationRow, messageId: number): Promise<MessageRow> {
  const m = await repo.findMessage(ctx.database.db, conv.account_id, conv.id, messageId);
  if (!m) throw errors.notFound();
  return m;
}

/**
 * Delivery status reported by an API-inbox integration. An unknown status or a move from read back to
 * delivered is ignored (200 with the message unchanged), as the reference does. `external_error` is
 * kept only with status failed.
 */
export async function updateMessageStatus(
  ctx: AppContext,
  conv: ConversationRow & { channel_type: string },
  messageId: number,
  input: { status?: string; external_error?: string | null },
): Promise<MessageRow> {
  if (conv.channel_type !== 'Channel::Api') throw errors.forbidden('Message status update is only allowed for API inboxes');
  const current = await getMessage(ctx, conv, messageId);
  const next = MESSAGE_STATUSES.indexOf((input.status ?? '') as (typeof MESSAGE_STATUSES)[number]);
  if (next < 0 || next === current.status) return current;
  if (current.status === MESSAGE_STATUS.read && next === MESSAGE_STATUS.delivered) return current;
  const attrs = fromJson<Record<string, unknown>>(current.content_attributes);
  if (next === MESSAGE_STATUS.failed && input.external_error) attrs.external_error = input.external_error;
  else delete attrs.external_error;
  return ctx.database.transaction(async (trx) => {
    const row = await repo.updateMessage(trx, current.id, { status: next, content_attributes: toJson(attrs) });
    await ctx.events(trx, conv.account_id, 'message.updated', {
      message_id: row.id,
      conversation_id: conv.id,
      previous_changes: { status: [MESSAGE_STATUSES[current.status], MESSAGE_STATUSES[next]] },
    });
    return row;
  });
}

/**
 * POST …/messages/:id/retry: only an outgoing message whose status is failed (422 otherwise). It
 * becomes sent again without external_error and delivery state (message.updated), and its `message_created` callback
 * delivery is re-queued (same delivery id and signed body, due now, fresh retry schedule). The
 * delivery outcome then decides again: failing for good marks the message failed once more
 * (src/webhooks/delivery-repository.ts). Without a callback delivery (no callback URL, or the status
 * was reported failed by the integration) only the status changes, which API inboxes hear as
 * message_updated.
 */
export async function retryMessage(ctx: AppContext, conv: ConversationRow, messageId: number): Promise<MessageRow> {
  const current = await getMessage(ctx, conv, messageId);
  if (current.message_type !== OUTGOING) throw errors.unprocessable('Only outgoing messages can be retried');
  if (current.status !== MESSAGE_STATUS.failed) throw errors.unprocessable('Only failed messages can be retried');
  let requeued = false;
  const row = await ctx.database.transaction(async (trx) => {
    const attrs = fromJson<Record<string, unknown>>(current.content_attributes);
    const previousError = attrs.external_error ?? null;
    const previousDelivery = attrs.delivery ?? null;
    // A fresh start: the delivery state comes back with the new schedule's first failure (none if it goes through).
    delete attrs.external_error;
    delete attrs.delivery;
    const updated = await repo.retryFailedMessage(trx, current.id, toJson(attrs));
    if (!updated) return null; // retried (or changed) concurrently
    requeued = await requeueMessageCallback(trx, conv.account_id, current.inbox_id, current.id);
    await ctx.events(trx, conv.account_id, 'message.updated', {
      message_id: updated.id,
      conversation_id: conv.id,
      previous_changes: {
        status: [MESSAGE_STATUSES[current.status], MESSAGE_STATUSES[updated.status]],
        external_error: [previousError, null],
        ...(previousDelivery ? { delivery: [previousDelivery, null] } : {}),
      },
    });
    return updated;
  });
  if (!row) throw errors.unprocessable('Only failed messages can be retried');
  if (requeued) ctx.deliveries.wake();
  return row;
}

/** Soft delete: the content becomes "This message was deleted" and content_attributes.deleted true. */
export async function deleteMessage(ctx: AppContext, conv: ConversationRow, messageId: number): Promise<MessageRow> {
  const current = await getMessage(ctx, conv, messageId);
  if (fromJson<Record<string, unknown>>(current.content_attributes).deleted === true) return current;
  return ctx.database.transaction(async (trx) => {
    const row = await repo.updateMessage(trx, current.id, {
      content: DELETED_CONTENT,
      content_attributes: toJson({ ...fromJson<Record<string, unknown>>(current.content_attributes), deleted: true }),
    });
    // The previous content is deliberately not carried in the event: deleted text must not travel on.
    await ctx.events(trx, conv.account_id, 'message.updated', {
      message_id: row.id,
      conversation_id: conv.id,
      previous_changes: { deleted: [false, true] },
    });
    return row;
  });
}

import type { FastifyRequest } from 'fastify';
import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { idempotent, userScope } from '../kernel/idempotency.js';
import { conversationOf, principal } from '../accounts/guard.js';
import { presentMessageIn, presentMessageList } from './presenters.js';
import { errorResponses } from '../accounts/schemas.js';
import * as s from './schemas.js';
import * as service from './service.js';

const BASE = '/api/v1/accounts/:account_id/conversations/:conversation_id/messages';
const tags = ['Messages'];

export async function register(app: TypedApp, ctx: AppContext) {
  const idem = idempotent(ctx.database, userScope);
  const db = ctx.database.db;

  /** The caller's account context and the path's conversation (established by the inbox-member policy). */
  const scope = (req: FastifyRequest) => ({ auth: principal(req), conv: conversationOf(req) });

  app.get(
    BASE,
    {
      config: { access: 'inbox-member' },
      schema: {
        tags,
        summary: 'Messages of a conversation, oldest first: the latest 20, or paged by id with before / after',
        description:
          'Private notes and activity messages are included (filter_internal_messages drops them). Activity messages (message_type 2, no sender) are the lines status, assignee, priority and label changes leave, e.g. "Conversation was marked resolved by Grace Hopper"; they never reach contacts or webhooks.',
        params: s.MessagesParams,
        querystring: s.MessageListQuery,
        response: { 200: s.MessageListResponse, ...errorResponses(401, 404, 422) },
      },
    },
    async (req) => {
      const { conv } = await scope(req);
      const rows = await service.conversationMessages(ctx, conv, req.query);
      return presentMessageList(db, conv, rows);
    },
  );

  app.post(
    BASE,
    {
      config: { access: 'inbox-member' },
      schema: {
        tags,
        summary: 'Create a message (outgoing by you, or incoming from the contact on API inboxes)',
        description:
          'An incoming message whose source_id was already used in this inbox is not created again: the existing message is returned (200). Send an Idempotency-Key header to make any retry safe.',
        params: s.MessagesParams,
        body: s.MessageCreateBody,
        response: { 200: s.MessageJson, ...errorResponses(401, 404, 409, 422, 429) },
      },
      ...idem,
    },
    async (req) => {
      const { auth, conv } = await scope(req);
      const { message, contact } = await service.createMessage(ctx, auth, conv, req.body);
      return presentMessageIn(db, conv, message, contact ? [contact] : []);
    },
  );

  app.patch(
    `${BASE}/:message_id`,
    {
      config: { access: 'inbox-member' },
      schema: {
        tags,
        summary: 'Report the delivery status of a message (API inboxes): sent, delivered, read or failed + external_error',
        params: s.MessageParams,
        body: s.MessageStatusBody,
        response: { 200: s.MessageJson, ...errorResponses(401, 404, 422) },
      },
    },
    async (req) => {
      const { conv } = await scope(req);
      const message = await service.updateMessageStatus(ctx, conv, req.params.message_id, req.body);
      return presentMessageIn(db, conv, message);
    },
  );

  app.post(
    `${BASE}/:message_id/retry`,
    {
      config: { access: 'inbox-member' },
      schema: {
        tags,
        summary: 'Retry a failed outgoing message: its callback delivery (API inboxes) is sent again',
        description:
          'Only an outgoing message whose status is failed (otherwise 422). The message becomes sent again without external_error (message.updated on /cable), ' +
          'and its original signed `message_created` callback delivery (same delivery id, same body) is re-queued at once with a fresh retry schedule. ' +
          'When that delivery fails for good again the message turns failed again. Returns the message.',
        params: s.MessageParams,
        response: { 200: s.MessageJson, ...errorResponses(401, 404, 422) },
      },
      ...idem,
    },
    async (req) => {
      const { conv } = await scope(req);
      const message = await service.retryMessage(ctx, conv, req.params.message_id);
      return presentMessageIn(db, conv, message);
    },
  );

  app.delete(
    `${BASE}/:message_id`,
    { config: { access: 'inbox-member' }, schema: { tags, summary: 'Delete a message (soft: its content becomes "This message was deleted")', params: s.MessageParams, response: { 200: s.MessageJson, ...errorResponses(401, 404) } } },
    async (req) => {
      const { conv } = await scope(req);
      const message = await service.deleteMessage(ctx, conv, req.params.message_id);
      return presentMessageIn(db, conv, message);
    },
  );
}

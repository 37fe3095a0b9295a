import type { FastifyRequest } from 'fastify';
import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { idempotent, type ScopeResolver } from '../kernel/idempotency.js';
import { findInboxByIdentifier } from '../inboxes/repository.js';
import { findContactInboxBySource } from '../contacts/repository.js';
import type { ConversationRow } from '../conversations/repository.js';
import { bodyLimits, rateLimitHook } from './limits.js';
import { presentPublicContact, presentPublicConversation, presentPublicConversations, presentPublicInbox, presentPublicMessage, presentPublicMessages } from './presenters.js';
import { createPublicContact, getPublicContact, updatePublicContact } from './contacts.js';
import * as service from './service.js';
import { requestHashes } from './identity.js';
import { resolveInbox, type Session } from './session.js';
import * as s from './schemas.js';

/**
 * The client API (reference §3) under /public/api/v1/inboxes/:inbox_identifier. No token: the
 * capability is the inbox identifier plus the contact's source_id, with HMAC identity validation
 * (identity.ts). Every route is rate limited per IP and per inbox (limits.ts).
 */

const BASE = '/public/api/v1/inboxes/:inbox_identifier';
const CONTACT = `${BASE}/contacts/:contact_identifier`;
const CONVERSATION = `${CONTACT}/conversations/:conversation_id`;
/** What every client API route documents: its tag, and no security scheme (the capability is in the path). */
const doc = { tags: s.TAGS, security: [] as never[] };

/** Idempotency-Key scope: the contact session (only sessions the identity rules let through). */
function sessionScope(ctx: AppContext): ScopeResolver {
  return async (req: FastifyRequest) => {
    const p = req.params as Record<string, string>;
    const db = ctx.database.db;
    const inbox = await findInboxByIdentifier(db, String(p.inbox_identifier ?? ''));
    if (!inbox) return null;
    const session = await findContactInboxBySource(db, inbox.account_id, inbox.id, String(p.contact_identifier ?? ''));
    if (!session || (inbox.hmac_mandatory && !session.hmac_verified)) return null;
    return { accountId: inbox.account_id, scope: `contact_inbox:${session.id}` };
  };
}

export async function register(app: TypedApp, ctx: AppContext) {
  await app.register(async (scoped: TypedApp) => {
    scoped.addHook('onRequest', rateLimitHook(ctx));
    routes(scoped, ctx);
  });
}

function routes(app: TypedApp, ctx: AppContext) {
  const db = ctx.database.db;
  const limits = bodyLimits(ctx.config.bodyLimitBytes);
  const idem = idempotent(ctx.database, sessionScope(ctx));
  /** A route's conversation as the session's contact sees it. */
  const conversationJson = (r: { conversation: ConversationRow; session: Session }) => presentPublicConversation(db, r.conversation, r.session.contact);

  app.get(
    BASE,
    {
      config: { access: 'public' },
      schema: {
        ...doc,
        summary: "The inbox's public info (identity_validation_enabled = HMAC mandatory)",
        params: s.InboxParams,
        response: { 200: s.PublicInbox, ...s.errorResponses(404, 429) },
      },
    },
    async (req) => presentPublicInbox(await resolveInbox(db, req.params.inbox_identifier)),
  );

  app.post(
    `${BASE}/contacts`,
    {
      config: { access: 'public' },
      bodyLimit: limits.small,
      schema: {
        ...doc,
        summary: 'Create (or match) a contact and open a session: returns source_id and pubsub_token',
        description:
          'Matches an existing contact by identifier, otherwise creates one. A valid identifier_hash (HMAC-SHA256 of identifier ' +
          'with the inbox hmac_token, in the body or the query string) verifies the new session at once; a verified identity is ' +
          'matched by identifier only, and an email or phone another contact holds is then left off. Without a hash (inboxes ' +
          'without HMAC mandatory) a contact is also matched by email, then phone, and the session stays unverified. On an ' +
          'inbox with HMAC mandatory a missing or wrong hash is a 401 and nothing is written; a present-but-wrong hash is a 401 on every inbox.',
        params: s.InboxParams,
        querystring: s.HashQuery,
        body: s.ContactCreateBody,
        response: { 200: s.PublicContact, ...s.errorResponses(401, 404, 422, 429) },
      },
    },
    async (req) => {
      const r = await createPublicContact(ctx, req.params.inbox_identifier, req.body, requestHashes(req));
      return presentPublicContact(r.contact, r.session);
    },
  );

  app.get(
    CONTACT,
    {
      config: { access: 'public' },
      schema: {
        ...doc,
        summary: "The session's contact (identifier_hash in the query verifies the session)",
        params: s.ContactParams,
        querystring: s.HashQuery,
        response: { 200: s.PublicContact, ...s.errorResponses(401, 404, 429) },
      },
    },
    async (req) => {
      const r = await getPublicContact(ctx, req.params.inbox_identifier, req.params.contact_identifier, requestHashes(req));
      return presentPublicContact(r.contact, r.session);
    },
  );

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: CONTACT,
      config: { access: 'public' },
      bodyLimit: limits.small,
      schema: {
        ...doc,
        summary: "Update the session's contact",
        description:
          'identifier_hash (body or query string) must be the hash of the identifier the contact has (mandatory on HMAC-mandatory ' +
          'inboxes). identifier is not applied: a contact gets its identifier when it is created and it never changes through ' +
          'this API. An email or phone held by another contact is a 422 (contacts are never merged).',
        params: s.ContactParams,
        querystring: s.HashQuery,
        body: s.ContactUpdateBody,
        response: { 200: s.PublicContact, ...s.errorResponses(401, 404, 422, 429) },
      },
      handler: async (req) => {
        const r = await updatePublicContact(ctx, req.params.inbox_identifier, req.params.contact_identifier, req.body, requestHashes(req));
        return presentPublicContact(r.contact, r.session);
      },
    });
  }

  app.get(
    `${CONTACT}/conversations`,
    {
      config: { access: 'public' },
      schema: {
        ...doc,
        summary: "The session's conversations (a verified session: those of every verified session of its contact in the inbox)",
        params: s.ContactParams,
        querystring: s.HashQuery,
        response: { 200: s.PublicConversationList, ...s.errorResponses(401, 404, 429) },
      },
    },
    async (req) => {
      const r = await service.listConversations(ctx, req.params.inbox_identifier, req.params.contact_identifier, requestHashes(req));
      return presentPublicConversations(db, r.conversations, r.session.contact);
    },
  );

  app.post(
    `${CONTACT}/conversations`,
    {
      config: { access: 'public' },
      bodyLimit: limits.small,
      schema: {
        ...doc,
        summary: 'Open a conversation (only custom_attributes are taken; inboxes locked to one conversation return it)',
        params: s.ContactParams,
        querystring: s.HashQuery,
        body: s.ConversationCreateBody,
        response: { 200: s.PublicConversation, ...s.errorResponses(401, 404, 409, 422, 429) },
      },
      ...idem,
    },
    async (req) => {
      const r = await service.createConversation(ctx, req.params.inbox_identifier, req.params.contact_identifier, req.body, requestHashes(req));
      return conversationJson(r);
    },
  );

  app.get(
    CONVERSATION,
    {
      config: { access: 'public' },
      schema: {
        ...doc,
        summary: 'One of the session’s conversations, by display_id',
        params: s.ConversationParams,
        querystring: s.HashQuery,
        response: { 200: s.PublicConversation, ...s.errorResponses(401, 404, 429) },
      },
    },
    async (req) => {
      const r = await service.getConversation(ctx, req.params, requestHashes(req));
      return conversationJson(r);
    },
  );

  app.post(
    `${CONVERSATION}/toggle_status`,
    {
      config: { access: 'public' },
      bodyLimit: limits.small,
      schema: {
        ...doc,
        summary: 'Resolve the conversation (a contact can only resolve; already resolved stays as it is)',
        params: s.ConversationParams,
        querystring: s.HashQuery,
        body: s.SessionBody,
        response: { 200: s.PublicConversation, ...s.errorResponses(401, 404, 429) },
      },
    },
    async (req) => {
      const r = await service.resolveConversation(ctx, req.params, requestHashes(req));
      return conversationJson(r);
    },
  );

  app.post(
    `${CONVERSATION}/toggle_typing`,
    {
      config: { access: 'public' },
      bodyLimit: limits.small,
      schema: {
        ...doc,
        summary: 'Typing indicator of the contact: typing_status on or off (200, empty body)',
        params: s.ConversationParams,
        querystring: s.HashQuery,
        body: s.TypingBody,
        response: { 200: s.EmptyOk, ...s.errorResponses(401, 404, 422, 429) },
      },
    },
    async (req, reply) => {
      await service.toggleTyping(ctx, req.params, req.body, requestHashes(req));
      return reply.status(200).send(undefined);
    },
  );

  app.post(
    `${CONVERSATION}/update_last_seen`,
    {
      config: { access: 'public' },
      bodyLimit: limits.small,
      schema: {
        ...doc,
        summary: 'The contact has seen the conversation: earlier outgoing messages become read (200, empty body)',
        params: s.ConversationParams,
        querystring: s.HashQuery,
        body: s.SessionBody,
        response: { 200: s.EmptyOk, ...s.errorResponses(401, 404, 429) },
      },
    },
    async (req, reply) => {
      await service.updateLastSeen(ctx, req.params, requestHashes(req));
      return reply.status(200).send(undefined);
    },
  );

  app.get(
    `${CONVERSATION}/messages`,
    {
      config: { access: 'public' },
      schema: {
        ...doc,
        summary: 'Messages of the conversation, oldest first: the latest 20, or the 20 before `before` (no private notes or activity messages)',
        params: s.ConversationParams,
        querystring: s.MessagesQuery,
        response: { 200: s.PublicMessageList, ...s.errorResponses(401, 404, 422, 429) },
      },
    },
    async (req) => {
      const r = await service.listMessages(ctx, req.params, req.query, requestHashes(req));
      return presentPublicMessages(db, r.conversation, r.messages);
    },
  );

  app.post(
    `${CONVERSATION}/messages`,
    {
      config: { access: 'public' },
      bodyLimit: limits.message,
      schema: {
        ...doc,
        summary: 'Send a message as the contact (always incoming; echo_id is echoed back)',
        params: s.ConversationParams,
        querystring: s.HashQuery,
        body: s.MessageCreateBody,
        response: { 200: s.PublicMessage, ...s.errorResponses(401, 404, 409, 422, 429) },
      },
      ...idem,
    },
    async (req) => {
      const r = await service.createMessage(ctx, req.params, req.body, requestHashes(req));
      return presentPublicMessage(r.message, r.conversation.display_id, { type: 'contact', contact: r.session.contact });
    },
  );

  app.patch(
    `${CONVERSATION}/messages/:message_id`,
    {
      config: { access: 'public' },
      bodyLimit: limits.small,
      schema: {
        ...doc,
        summary: 'Answer a form, input_select or input_csat message (stored in content_attributes.submitted_values)',
        params: s.MessageParams,
        querystring: s.HashQuery,
        body: s.MessageUpdateBody,
        response: { 200: s.PublicMessage, ...s.errorResponses(401, 404, 422, 429) },
      },
    },
    async (req) => {
      const r = await service.submitValues(ctx, req.params, req.body, requestHashes(req));
      const [m] = await presentPublicMessages(db, r.conversation, [r.message]);
      return m;
    },
  );
}

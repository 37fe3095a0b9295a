import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { idempotent, userScope } from '../kernel/idempotency.js';
import { presentAgent } from '../users/presenter.js';
import * as actions from './actions.js';
import { conversationCounts, inboxCounts, listConversations } from './listing.js';
import { payloadOf } from '../kernel/presenters.js';
import { presentConversationMeta, presentConversationPage, presentCustomAttributes, presentOneConversation, presentStatusToggle } from './presenters.js';
import { errorResponses, EmptyOk } from '../accounts/schemas.js';
import * as s from './schemas.js';
import { createConversation } from './service.js';
import { conversationOf, principal } from '../accounts/guard.js';

const BASE = '/api/v1/accounts/:account_id/conversations';
const ONE = `${BASE}/:conversation_id`;
const tags = ['Conversations'];

export async function register(app: TypedApp, ctx: AppContext) {
  const idem = idempotent(ctx.database, userScope);
  const db = ctx.database.db;

  app.post(
    BASE,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: 'Create a conversation in a contact session (source_id, or inbox_id + contact_id), optionally with a first message',
        params: s.AccountParams,
        body: s.ConversationCreateBody,
        response: { 200: s.ConversationJson, ...errorResponses(401, 404, 409, 422) },
      },
      ...idem,
    },
    async (req) => {
      const auth = principal(req);
      const conv = await createConversation(ctx, auth, req.body);
      return presentOneConversation(db, conv);
    },
  );

  app.get(
    BASE,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: 'List conversations (25 per page) with counts per assignee type, current_page and total_pages',
        description: 'The counts are computed before the assignee_type filter. Agents see the conversations of their inboxes.',
        params: s.AccountParams,
        querystring: s.ConversationListQuery,
        response: { 200: s.ConversationPage, ...errorResponses(401, 422) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return presentConversationPage(db, await listConversations(ctx, auth, req.query));
    },
  );

  app.get(
    `${BASE}/meta`,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: 'Conversation counts per assignee type (same filters as the list), and open / unread counts per visible inbox',
        description: '`meta.inboxes` is a ChannelX extension: per inbox the caller can see, its open conversations and how many of them have unread incoming messages. It ignores the query filters.',
        params: s.AccountParams, querystring: s.ConversationListQuery, response: { 200: s.ConversationMeta, ...errorResponses(401, 422) } },
    },
    async (req) => {
      const auth = principal(req);
      const [counts, inboxes] = [await conversationCounts(ctx, auth, req.query), await inboxCounts(ctx, auth)];
      return presentConversationMeta(counts, inboxes);
    },
  );

  app.get(ONE, { config: { access: 'inbox-member' }, schema: { tags, summary: 'Show a conversation (by display id)', params: s.ConversationParams, response: { 200: s.ConversationJson, ...errorResponses(401, 404) } } }, async (req) => {
    return presentOneConversation(db, conversationOf(req));
  });

  app.patch(
    ONE,
    { config: { access: 'inbox-member' }, schema: { tags, summary: 'Update a conversation (priority only)', params: s.ConversationParams, body: s.ConversationUpdateBody, response: { 200: s.ConversationJson, ...errorResponses(401, 404, 422) } } },
    async (req) => {
      const auth = principal(req);
      const conv = conversationOf(req);
      const updated = req.body.priority !== undefined ? await actions.setPriority(ctx, auth, conv, req.body.priority) : conv;
      return presentOneConversation(db, updated);
    },
  );

  app.post(
    `${ONE}/update_last_seen`,
    {
      config: { access: 'inbox-member' },
      schema: {
        tags,
        summary: 'Mark the conversation read: agent_last_seen_at (and assignee_last_seen_at for its assignee) become now, unread_count 0',
        description:
          'Returns the conversation. When it had unread messages, the agents who can see it get `conversation.updated` on /cable (no webhook, as in the reference, where reading changes no tracked attribute).',
        params: s.ConversationParams,
        response: { 200: s.ConversationJson, ...errorResponses(401, 404) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return presentOneConversation(db, await actions.markSeen(ctx, auth, conversationOf(req)));
    },
  );

  app.post(
    `${ONE}/unread`,
    {
      config: { access: 'inbox-member' },
      schema: {
        tags,
        summary: 'Mark the conversation unread: agent_last_seen_at (and assignee_last_seen_at) go to just before its last incoming message',
        description:
          'Without any incoming message both become null (nothing is unread then). Returns the conversation (the reference answers with an empty body); the agents who can see it get `conversation.updated` on /cable.',
        params: s.ConversationParams,
        response: { 200: s.ConversationJson, ...errorResponses(401, 404) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return presentOneConversation(db, await actions.markUnread(ctx, auth, conversationOf(req)));
    },
  );

  app.post(
    `${ONE}/toggle_status`,
    {
      config: { access: 'inbox-member' },
      schema: {
        tags,
        summary: 'Set the status (open, resolved, pending, snoozed + snoozed_until) or toggle open ↔ resolved',
        params: s.ConversationParams,
        body: s.ToggleStatusBody,
        response: { 200: s.ToggleStatusResponse, ...errorResponses(401, 404, 409, 422) },
      },
      ...idem,
    },
    async (req) => {
      const auth = principal(req);
      const conv = await actions.toggleStatus(ctx, auth, conversationOf(req), req.body);
      return presentStatusToggle(conv);
    },
  );

  app.post(
    `${ONE}/toggle_priority`,
    { config: { access: 'inbox-member' }, schema: { tags, summary: 'Set the priority (low, medium, high, urgent; null clears); 200 with an empty body', params: s.ConversationParams, body: s.TogglePriorityBody, response: { 200: EmptyOk, ...errorResponses(401, 404, 409, 422) } }, ...idem },
    async (req, reply) => {
      const auth = principal(req);
      await actions.setPriority(ctx, auth, conversationOf(req), req.body.priority);
      return reply.status(200).send();
    },
  );

  app.post(
    `${ONE}/toggle_typing_status`,
    { config: { access: 'inbox-member' }, schema: { tags, summary: 'Tell the contact (and other agents) that you are typing; 200 with an empty body', params: s.ConversationParams, body: s.TypingBody, response: { 200: EmptyOk, ...errorResponses(401, 404, 409, 422) } }, ...idem },
    async (req, reply) => {
      const auth = principal(req);
      await actions.toggleTyping(ctx, auth, conversationOf(req), req.body);
      return reply.status(200).send();
    },
  );

  app.post(
    `${ONE}/assignments`,
    {
      config: { access: 'inbox-member' },
      schema: {
        tags: ['Conversation Assignments'],
        summary: 'Assign an agent (null or 0 unassigns); returns the agent, or null',
        params: s.ConversationParams,
        body: s.AssignmentBody,
        response: { 200: s.AssignmentResponse, ...errorResponses(401, 404, 409, 422) },
      },
      ...idem,
    },
    async (req, reply) => {
      const auth = principal(req);
      const conv = conversationOf(req);
      const agent = await actions.assign(ctx, auth, conv, req.body.assignee_id);
      if (!agent) return reply.send(null);
      return presentAgent(agent);
    },
  );

  app.get(
    `${ONE}/labels`,
    { config: { access: 'inbox-member' }, schema: { tags: ['Conversation Labels'], summary: "The conversation's labels", params: s.ConversationParams, response: { 200: s.LabelsResponse, ...errorResponses(401, 404) } } },
    async (req) => {
      return payloadOf(await actions.getLabels(ctx, conversationOf(req)));
    },
  );

  app.post(
    `${ONE}/labels`,
    {
      config: { access: 'inbox-member' },
      schema: { tags: ['Conversation Labels'], summary: 'Replace the label list', params: s.ConversationParams, body: s.LabelsBody, response: { 200: s.LabelsResponse, ...errorResponses(401, 404, 409, 422) } },
      ...idem,
    },
    async (req) => {
      const auth = principal(req);
      const conv = conversationOf(req);
      return payloadOf(await actions.setLabels(ctx, auth, conv, req.body.labels));
    },
  );

  app.post(
    `${ONE}/custom_attributes`,
    {
      config: { access: 'inbox-member' },
      schema: { tags, summary: 'Merge custom attributes into the conversation', params: s.ConversationParams, body: s.CustomAttributesBody, response: { 200: s.CustomAttributesResponse, ...errorResponses(401, 404, 409, 422) } },
      ...idem,
    },
    async (req) => {
      const auth = principal(req);
      const conv = conversationOf(req);
      return presentCustomAttributes(await actions.mergeCustomAttributes(ctx, auth, conv, req.body.custom_attributes));
    },
  );
}

import type { FastifyRequest } from 'fastify';
import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { idempotent, userScope } from '../kernel/idempotency.js';
import { presentAgent } from '../users/presenter.js';
import * as actions from './actions.js';
import { conversationCounts, filterConversations, inboxCounts, listConversations, searchConversations } from './listing.js';
import { FilterBody } from '../kernel/filter.js';
import { payloadOf } from '../kernel/presenters.js';
import {
  presentConversationAttachments,
  presentConversationMeta,
  presentConversationPage,
  presentConversationResults,
  presentCustomAttributes,
  presentOneConversation,
  presentStatusToggle,
} from './presenters.js';
import { errorResponses, EmptyOk } from '../accounts/schemas.js';
import * as s from './schemas.js';
import { conversationViewer, createConversation } from './service.js';
import { presenceOf } from '../users/service.js';
import { conversationOf, principal } from '../accounts/guard.js';
import { assignTeam } from '../teams/assignment.js';
import { presentTeam } from '../teams/presenter.js';
import { labelCounts } from '../labels/service.js';

const BASE = '/api/v1/accounts/:account_id/conversations';
const ONE = `${BASE}/:conversation_id`;
const tags = ['Conversations'];

export async function register(app: TypedApp, ctx: AppContext) {
  const idem = idempotent(ctx.database, userScope);
  const db = ctx.database.db;
  const viewer = (req: FastifyRequest) => conversationViewer(ctx, principal(req));

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
      return presentOneConversation(db, conv, await viewer(req));
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
      return presentConversationPage(db, await listConversations(ctx, auth, req.query), await viewer(req));
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
      const [counts, inboxes, labels] = [await conversationCounts(ctx, auth, req.query), await inboxCounts(ctx, auth), await labelCounts(ctx, auth)];
      return presentConversationMeta(counts, inboxes, labels);
    },
  );

  // Literal segments (search, meta, filter) win over /:conversation_id whatever the registration order (find-my-way).
  app.get(
    `${BASE}/search`,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: "Search conversations: q matches incoming and outgoing message text and the contact's name, e-mail and phone number (25 per page)",
        description:
          'Every status unless `status` narrows it (as in the reference); agents see the conversations of their inboxes. A blank or missing q is a 422. ' +
          'The counts (before the assignee_type filter) are those of the matching conversations.',
        params: s.AccountParams,
        querystring: s.ConversationSearchQuery,
        response: { 200: s.ConversationResultPage, ...errorResponses(401, 422) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return presentConversationResults(db, await searchConversations(ctx, auth, req.query), await viewer(req));
    },
  );

  app.post(
    `${BASE}/filter`,
    {
      config: { access: 'member' },
      schema: {
        tags,
        summary: 'Filter conversations with the reference filter payload (25 per page, latest activity first)',
        description:
          'Body `{payload: [{attribute_key, filter_operator, values, query_operator}]}`. Attributes: status (names, or all), assignee_id, inbox_id, team_id, priority (names), ' +
          'display_id, campaign_id (ChannelX has no campaigns), labels, created_at, last_activity_at, the additional attributes browser_language, conversation_language, country_code, referer, mail_subject, ' +
          'and any custom attribute some conversation of the account has. Operators as the reference allows per attribute: equal_to, not_equal_to, contains, does_not_contain, ' +
          'is_present, is_not_present, is_greater_than, is_less_than, days_before. `query_operator` (AND/OR) joins a condition to the next; AND binds tighter. ' +
          'An unknown attribute, operator or value is a 422. Agents see the conversations of their inboxes. `page` in the query string.',
        params: s.AccountParams,
        querystring: s.PageQuery,
        body: FilterBody,
        response: { 200: s.ConversationResultPage, ...errorResponses(401, 422) },
      },
    },
    async (req) => {
      const auth = principal(req);
      return presentConversationResults(db, await filterConversations(ctx, auth, req.body, req.query.page), await viewer(req));
    },
  );

  app.get(ONE, { config: { access: 'inbox-member' }, schema: { tags, summary: 'Show a conversation (by display id)', params: s.ConversationParams, response: { 200: s.ConversationJson, ...errorResponses(401, 404) } } }, async (req) => {
    return presentOneConversation(db, conversationOf(req), await viewer(req));
  });

  app.patch(
    ONE,
    { config: { access: 'inbox-member' }, schema: { tags, summary: 'Update a conversation (priority only)', params: s.ConversationParams, body: s.ConversationUpdateBody, response: { 200: s.ConversationJson, ...errorResponses(401, 404, 422) } } },
    async (req) => {
      const auth = principal(req);
      const conv = conversationOf(req);
      const updated = req.body.priority !== undefined ? await actions.setPriority(ctx, auth, conv, req.body.priority) : conv;
      return presentOneConversation(db, updated, await viewer(req));
    },
  );

  app.delete(
    `${BASE}/:conversation_id`,
    {
      config: { access: 'administrator' },
      schema: {
        tags,
        summary: 'Delete a conversation with its messages (administrators); 200 with an empty body',
        description: 'The messages and labels go with it. As in the reference, no webhook is sent; the inbox\'s agents get the ChannelX socket event `conversation.deleted` so their dashboards drop it. An agent gets 401, as on every administrator route.',
        params: s.ConversationParams,
        response: { 200: EmptyOk, ...errorResponses(401, 404) },
      },
    },
    async (req, reply) => {
      await actions.deleteConversation(ctx, principal(req), req.params.conversation_id);
      return reply.status(200).send();
    },
  );

  for (const muted of [true, false]) {
    app.post(
      `${ONE}/${muted ? 'mute' : 'unmute'}`,
      {
        config: { access: 'inbox-member' },
        schema: {
          tags,
          summary: muted
            ? "Mute the conversation: it is resolved and its contact blocked, so the contact's messages no longer reopen it; 200 with an empty body"
            : 'Unmute the conversation: its contact is unblocked (the status stays); 200 with an empty body',
          description:
            "The reference's semantics: `muted` is the contact's `blocked` (every conversation of a blocked contact is muted, and a blocked contact's new conversations start resolved). " +
            'A change leaves an activity line ("Grace Hopper has muted the conversation") and sends contact_updated; muting a muted conversation changes nothing.',
          params: s.ConversationParams,
          response: { 200: EmptyOk, ...errorResponses(401, 404, 409) },
        },
        ...idem,
      },
      async (req, reply) => {
        await actions.setMuted(ctx, principal(req), conversationOf(req), muted);
        return reply.status(200).send();
      },
    );
  }

  app.get(
    `${ONE}/attachments`,
    {
      config: { access: 'inbox-member' },
      schema: {
        tags,
        summary: "The attachments of the conversation's messages, newest first (100 per page); always empty: ChannelX stores no files yet",
        params: s.ConversationParams,
        querystring: s.PageQuery,
        response: { 200: s.ConversationAttachments, ...errorResponses(401, 404, 422) },
      },
    },
    async () => presentConversationAttachments([], 0),
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
      return presentOneConversation(db, await actions.markSeen(ctx, auth, conversationOf(req)), await viewer(req));
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
      return presentOneConversation(db, await actions.markUnread(ctx, auth, conversationOf(req)), await viewer(req));
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
        summary: 'Assign an agent (assignee_id; null or 0 unassigns) or, without assignee_id, a team (team_id; null or 0 removes it); returns the agent or the team, or null',
        description:
          'A team keeps the assignee only when they are a member of it (as the reference). With the team\'s allow_auto_assign, a conversation left without one of its members as assignee is assigned to an online member of both the team and the inbox holding the fewest open conversations (nobody online: it stays unassigned). A team change sends team.changed to the agents on /cable and conversation_updated (changed_attributes team_id) to webhooks and sockets.',
        params: s.ConversationParams,
        body: s.AssignmentBody,
        response: { 200: s.AssignmentResponse, ...errorResponses(401, 404, 409, 422) },
      },
      ...idem,
    },
    async (req, reply) => {
      const auth = principal(req);
      const conv = conversationOf(req);
      if (req.body.assignee_id === undefined && req.body.team_id !== undefined) {
        const team = await assignTeam(ctx, auth, conv, req.body.team_id);
        return team ? presentTeam(team.team, team.isMember) : reply.send(null);
      }
      const agent = await actions.assign(ctx, auth, conv, req.body.assignee_id);
      if (!agent) return reply.send(null);
      return presentAgent(agent, { presence: presenceOf(ctx) });
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
      schema: {
        tags,
        summary: 'Set the custom attributes: replaces them, or with merge: true changes only the keys sent (as the reference)',
        params: s.ConversationParams,
        body: s.CustomAttributesBody,
        response: { 200: s.CustomAttributesResponse, ...errorResponses(401, 404, 409, 422) },
      },
      ...idem,
    },
    async (req) => {
      const auth = principal(req);
      const conv = conversationOf(req);
      return presentCustomAttributes(await actions.setCustomAttributes(ctx, auth, conv, req.body.custom_attributes, req.body.merge));
    },
  );

  app.post(
    `${ONE}/destroy_custom_attributes`,
    {
      config: { access: 'inbox-member' },
      schema: {
        tags,
        summary: 'Remove custom attributes by key; returns the remaining ones',
        description: 'The reference answers 204 with no body; ChannelX answers 200 with `{custom_attributes}` (what is left).',
        params: s.ConversationParams,
        body: s.DestroyCustomAttributesBody,
        response: { 200: s.CustomAttributesResponse, ...errorResponses(401, 404, 409, 422) },
      },
      ...idem,
    },
    async (req) => {
      const keys = req.body.custom_attributes;
      const list = Array.isArray(keys) ? keys : [keys];
      return presentCustomAttributes(await actions.destroyCustomAttributes(ctx, principal(req), conversationOf(req), list));
    },
  );
}

import { Type, type Static } from 'typebox';
import { AccountParams, AnyJson, Id, JsonObject, Nullable, Open, Text } from '../accounts/schemas.js';
import { ContactJson } from '../contacts/schemas.js';
import { AgentSchema } from '../users/presenter.js';
import { MessageCreateBody } from '../messages/schemas.js';
import { CableMessage } from '../realtime/event-schemas.js';
import { TeamJson } from '../teams/schemas.js';
import { LabelCounts } from '../labels/schemas.js';

/** Request and response schemas of the conversation routes: validation, TypeScript types and the OpenAPI document. */

export { AccountParams };
export const ConversationParams = Type.Object({ account_id: Id, conversation_id: Id });

const StatusName = Type.Union([Type.Literal('open'), Type.Literal('resolved'), Type.Literal('pending'), Type.Literal('snoozed')]);
const SnoozedUntil = Type.Unknown({ description: 'Unix seconds (or an ISO 8601 date-time); used with status snoozed' });
const AssigneeId = Type.Unknown({ description: 'A user id of the account with access to the inbox; null or 0 unassigns' });

export const ConversationCreateBody = Type.Object({
  source_id: Type.Optional(Text(255, { description: 'The contact session (contact_inbox) to open the conversation in' })),
  inbox_id: Type.Optional(Id),
  contact_id: Type.Optional(Id),
  additional_attributes: Type.Optional(JsonObject()),
  custom_attributes: Type.Optional(JsonObject()),
  status: Type.Optional(StatusName),
  assignee_id: Type.Optional(AssigneeId),
  team_id: Type.Optional(Type.Unknown({ description: 'A team of the account (422 otherwise); an assignee who is not a member of it is dropped, as in the reference' })),
  snoozed_until: Type.Optional(SnoozedUntil),
  hmac_verified: Type.Optional(Type.Boolean()),
  message: Type.Optional(MessageCreateBody),
});
export type ConversationCreateBody = Static<typeof ConversationCreateBody>;

export const ConversationListQuery = Type.Object({
  status: Type.Optional(
    Type.Union([StatusName, Type.Literal('all')], { description: 'open (default), resolved, pending, snoozed or all' }),
  ),
  assignee_type: Type.Optional(
    Type.Union([Type.Literal('me'), Type.Literal('unassigned'), Type.Literal('assigned'), Type.Literal('all')]),
  ),
  inbox_id: Type.Optional(Id),
  team_id: Type.Optional(Id),
  labels: Type.Optional(Type.Array(Text(255), { description: 'Conversations with any of these labels' })),
  q: Type.Optional(
    Text(255, {
      description:
        "Text searched (case-insensitive, substring) in incoming and outgoing message content and in the contact's name, e-mail and phone number",
    }),
  ),
  source_id: Type.Optional(Text(255)),
  conversation_type: Type.Optional(
    Type.Union([Type.Literal('mention'), Type.Literal('participating'), Type.Literal('unattended')], {
      description:
        'unattended: no first reply yet, or waiting for a reply since the last one (waiting_since set). ' +
        'mention and participating match nothing: ChannelX has no mentions or participants yet',
    }),
  ),
  sort_by: Type.Optional(
    Text(64, {
      description:
        'last_activity_at_desc (default), last_activity_at_asc, created_at_desc, created_at_asc, priority_desc, priority_asc, waiting_since_asc, waiting_since_desc',
    }),
  ),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
});
export type ConversationListQuery = Static<typeof ConversationListQuery>;

export const ConversationUpdateBody = Type.Object({
  priority: Type.Optional(Type.Union([Text(32), Type.Null()], { description: 'low, medium, high, urgent; null or "" clears it' })),
});

export const ToggleStatusBody = Type.Object({
  status: Type.Optional(Text(32, { description: 'open, resolved, pending or snoozed; without it open ↔ resolved' })),
  snoozed_until: Type.Optional(SnoozedUntil),
});
export type ToggleStatusBody = Static<typeof ToggleStatusBody>;

export const TogglePriorityBody = Type.Object({
  priority: Type.Optional(Type.Union([Text(32), Type.Null()], { description: 'low, medium, high, urgent; null, "" or none clears it' })),
});

export const TypingBody = Type.Object({
  typing_status: Text(32, { description: 'on or off' }),
  is_private: Type.Optional(Type.Boolean()),
});
export type TypingBody = Static<typeof TypingBody>;

export const AssignmentBody = Type.Object({
  assignee_id: Type.Optional(AssigneeId),
  team_id: Type.Optional(Type.Unknown({ description: 'Used when assignee_id is absent: a team of the account (422 otherwise); null or 0 removes the team' })),
});

export const LabelsBody = Type.Object({
  labels: Type.Optional(Type.Array(Text(255), { description: 'Replaces the whole label list', maxItems: 100 })),
});

export const CustomAttributesBody = Type.Object({
  custom_attributes: JsonObject('Replaces the custom attributes (with merge: true, merged into them)'),
  merge: Type.Optional(Type.Boolean({ description: 'true: only the keys sent change, the others stay (as the reference)' })),
});

export const DestroyCustomAttributesBody = Type.Object({
  custom_attributes: Type.Union([Type.Array(Text(255), { maxItems: 1000 }), Text(255)], {
    description: 'The keys to remove (a single key may be sent as a string)',
  }),
});

export const ConversationSearchQuery = Type.Object({
  q: Type.Optional(
    Text(255, { description: "Required: text searched (case-insensitive, substring) in incoming and outgoing message content and in the contact's name, e-mail and phone number" }),
  ),
  status: Type.Optional(
    Type.Union([StatusName, Type.Literal('all')], { description: 'all (default: a search looks at every status, as in the reference), open, resolved, pending or snoozed' }),
  ),
  assignee_type: ConversationListQuery.properties.assignee_type,
  inbox_id: Type.Optional(Id),
  labels: ConversationListQuery.properties.labels,
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
});

export const PageQuery = Type.Object({ page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })) });

/* ---------------- responses (src/conversations/presenters.ts) ---------------- */

const Unix = (description = 'unix seconds') => Type.Integer({ description });
const UnixOrNull = (description = 'unix seconds') => Nullable(Type.Integer({ description }));

/** `_conversation`: the Application API conversation (ids are display_ids). */
export const ConversationJson = Open(
  {
    meta: Open({
      sender: ContactJson,
      channel: Type.String(),
      assignee: Type.Optional(AgentSchema),
      assignee_type: Type.Optional(Type.String({ description: 'User; present only when assigned, like assignee' })),
      team: Type.Optional({ ...TeamJson, description: "the team (is_member: the caller's); present only when the conversation has one" }),
      hmac_verified: Type.Boolean(),
    }),
    id: Type.Integer({ description: 'the display_id' }),
    messages: Type.Array(CableMessage, { description: 'the last message (its push data), if any' }),
    account_id: Type.Integer(),
    uuid: Type.String(),
    additional_attributes: AnyJson,
    agent_last_seen_at: Unix('unix seconds, 0 when never'),
    assignee_last_seen_at: Unix('unix seconds, 0 when never'),
    can_reply: Type.Boolean(),
    contact_last_seen_at: Unix('unix seconds, 0 when never'),
    custom_attributes: AnyJson,
    inbox_id: Type.Integer(),
    labels: Type.Array(Type.String()),
    muted: Type.Boolean({ description: 'true while the contact is blocked (POST …/mute blocks it, …/unmute unblocks it)' }),
    snoozed_until: UnixOrNull(),
    status: Type.String({ description: 'open | resolved | pending | snoozed' }),
    created_at: Unix(),
    updated_at: Type.Number({ description: 'unix seconds with milliseconds' }),
    timestamp: Unix('unix seconds of the last activity'),
    first_reply_created_at: Unix('unix seconds, 0 when never'),
    unread_count: Type.Integer(),
    last_non_activity_message: Nullable(CableMessage),
    last_activity_at: Unix(),
    priority: Nullable(Type.String({ description: 'low | medium | high | urgent' })),
    waiting_since: Unix('unix seconds, 0 when not waiting'),
    sla_policy_id: Type.Null(),
  },
  'A conversation',
);

export const ConversationList = Type.Array(ConversationJson);
export const ConversationListPayload = Open({ payload: ConversationList });

export const ConversationCounts = Open({
  mine_count: Type.Integer(),
  assigned_count: Type.Integer(),
  unassigned_count: Type.Integer(),
  all_count: Type.Integer(),
});

export const ConversationPage = Open({
  data: Open({
    meta: Open({ ...ConversationCounts.properties, current_page: Type.Integer(), total_pages: Type.Integer() }),
    payload: ConversationList,
  }),
});

/** `GET /conversations/search` and `POST /conversations/filter`: `{meta: {counts…, current_page, total_pages}, payload}` (no `data` wrapper, as in the reference). */
export const ConversationResultPage = Open({
  meta: Open({
    ...ConversationCounts.properties,
    current_page: Type.Integer(),
    total_pages: Type.Integer({ description: 'ChannelX extension' }),
  }),
  payload: ConversationList,
});

/** ChannelX extension of /conversations/meta: per-inbox counts for a sidebar. */
export const InboxCounts = Open(
  {
    inbox_id: Type.Integer(),
    open_count: Type.Integer({ description: 'open conversations of the inbox' }),
    unread_count: Type.Integer({ description: 'open conversations of the inbox with unread_count > 0 (incoming messages after agent_last_seen_at)' }),
  },
  'Counts of one inbox',
);

export const ConversationMeta = Open({
  meta: Open({
    ...ConversationCounts.properties,
    inboxes: Type.Array(InboxCounts, {
      description:
        'ChannelX extension (Chatwoot clients ignore it): one entry per inbox the caller can see (administrators: every inbox of the account; agents: their inboxes), ' +
        'ordered by inbox_id, whatever the filters of the query; inboxes without open conversations have zeros.',
    }),
    labels: Type.Array(LabelCounts, {
      description:
        'ChannelX extension (Chatwoot clients ignore it): one entry per account label (GET /labels), ordered by title, with its open conversations the caller can see ' +
        'and how many of them are unread, whatever the filters of the query; labels without open conversations have zeros.',
    }),
  }),
});

export const ToggleStatusResponse = Open({
  meta: Open({}),
  payload: Open({
    success: Type.Boolean(),
    conversation_id: Type.Integer({ description: 'the display_id' }),
    current_status: Type.String({ description: 'open | resolved | pending | snoozed' }),
    snoozed_until: UnixOrNull(),
  }),
});

/** One attachment of `GET …/attachments` (the reference's attachment push data plus the message's time and sender). */
export const ConversationAttachment = Open(
  {
    message_id: Type.Integer(),
    thumb_url: Type.String(),
    data_url: Type.String(),
    file_size: Type.Integer(),
    file_type: Type.String({ description: 'image | audio | video | file | location | fallback | …' }),
    extension: Nullable(Type.String()),
    width: Nullable(Type.Integer()),
    height: Nullable(Type.Integer()),
    created_at: Type.Integer({ description: "unix seconds of the message" }),
    sender: Type.Optional(Type.Unknown({ description: "the message sender's push data" })),
  },
  'An attachment of a message of the conversation',
);

export const ConversationAttachments = Open({
  meta: Open({ total_count: Type.Integer() }),
  payload: Type.Array(ConversationAttachment, {
    description: 'Newest first, 100 per page. Always empty today: ChannelX stores no files yet (a message with attachments is refused with a 422).',
  }),
});

export const AssignmentResponse = Type.Union([AgentSchema, TeamJson, Type.Null()], { description: 'The agent (assignee_id), the team (team_id), or null when unassigned' });
export const LabelsResponse = Open({ payload: Type.Array(Type.String()) });
export const CustomAttributesResponse = Open({
  custom_attributes: Type.Object({}, { additionalProperties: true, description: 'The custom attributes after the change' }),
});

import { Type, type Static } from 'typebox';
import { AnyJson, EmptyOk, ErrorBody, Id, JsonObject, Open, Text } from '../accounts/schemas.js';
import { MAX_CONTENT, MAX_STRING, MAX_SUBMITTED_VALUES } from './limits.js';

/**
 * Schemas of the client API (reference §3): validation, TypeScript types and the OpenAPI document.
 * Every route is tagged 'Client API' and declares `security: []` (no token: the capability is the
 * inbox identifier plus the contact's source_id).
 */

export const TAGS = ['Client API'];

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const NullableText = (max: number, description?: string) => Type.Union([Text(max), Type.Null()], description ? { description } : {});

const IdentifierHash = Type.String({
  maxLength: 128,
  description:
    "Lowercase hex HMAC-SHA256 of the contact's identifier, keyed with the inbox's hmac_token (computed on your server). " +
    'Read from the body and the query string alike. When present it must match the contact behind the source_id ' +
    '(on contact create: the identifier requested), or the request is a 401.',
});

/* ---------------- params and queries ---------------- */

const InboxIdentifier = Text(MAX_STRING, { minLength: 1, description: "The API inbox's identifier (inbox_identifier)" });
const SourceId = Text(MAX_STRING, { minLength: 1, description: 'The contact session id (source_id) returned by POST /contacts' });

export const InboxParams = Type.Object({ inbox_identifier: InboxIdentifier });
export const ContactParams = Type.Object({ inbox_identifier: InboxIdentifier, contact_identifier: SourceId });
export const ConversationParams = Type.Object({
  inbox_identifier: InboxIdentifier,
  contact_identifier: SourceId,
  conversation_id: Id,
});
export const MessageParams = Type.Object({
  inbox_identifier: InboxIdentifier,
  contact_identifier: SourceId,
  conversation_id: Id,
  message_id: Id,
});

/**
 * Every route accepts identifier_hash in the query string (verified sessions need not send it). A
 * repeated one (`identifier_hash[]=…`) is taken as a list: each must match, like one in the body.
 */
const QueryHash = Type.Optional(Type.Union([IdentifierHash, Type.Array(IdentifierHash, { maxItems: 8 })]));
export const HashQuery = Type.Object({ identifier_hash: QueryHash });
export const MessagesQuery = Type.Object({
  identifier_hash: QueryHash,
  before: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'The 20 messages before this message id' })),
});

/* ---------------- bodies ---------------- */

const ContactFields = {
  identifier_hash: Type.Optional(Type.Union([IdentifierHash, Type.Null()])),
  email: Type.Optional(NullableText(MAX_STRING, 'Unique per account (case-insensitive)')),
  name: Type.Optional(Text(MAX_STRING)),
  phone_number: Type.Optional(NullableText(32, 'E.164, e.g. +14155550123; unique per account')),
  avatar_url: Type.Optional(Type.String({ maxLength: 2048, description: 'Accepted and ignored (no avatars yet)' })),
  custom_attributes: Type.Optional(JsonObject('Merged into the existing custom attributes')),
};

export const ContactCreateBody = Type.Object({
  identifier: Type.Optional(NullableText(MAX_STRING, 'Your own id for this person (unique per account); what identifier_hash signs')),
  ...ContactFields,
  source_id: Type.Optional(Text(MAX_STRING, { description: 'The session id to use; a UUID is generated when absent' })),
});
export type ContactCreateBody = Static<typeof ContactCreateBody>;

export const ContactUpdateBody = Type.Object({
  identifier: Type.Optional(
    NullableText(MAX_STRING, "Not applied: a contact's identifier is set when it is created and never changes through the client API"),
  ),
  ...ContactFields,
});
export type ContactUpdateBody = Static<typeof ContactUpdateBody>;

export const ConversationCreateBody = Type.Object({
  custom_attributes: Type.Optional(JsonObject('Only custom_attributes are taken (additional_attributes are ignored)')),
  identifier_hash: Type.Optional(Type.Union([IdentifierHash, Type.Null()])),
});
export type ConversationCreateBody = Static<typeof ConversationCreateBody>;

export const SessionBody = Type.Object({ identifier_hash: Type.Optional(Type.Union([IdentifierHash, Type.Null()])) });

export const TypingBody = Type.Object({
  typing_status: Type.Union([Type.Literal('on'), Type.Literal('off')], { description: 'on or off' }),
  identifier_hash: Type.Optional(Type.Union([IdentifierHash, Type.Null()])),
});
export type TypingBody = Static<typeof TypingBody>;

export const MessageCreateBody = Type.Object({
  content: Type.Optional(
    Type.Union([Text(MAX_CONTENT), Type.Null()], {
      description: `At most ${MAX_CONTENT} characters; required unless attachments are sent`,
    }),
  ),
  echo_id: Type.Optional(Type.Union([Text(MAX_STRING), Type.Null()], { description: 'Your temporary id, echoed back in the message and its socket frames' })),
  attachments: Type.Optional(Type.Unknown({ description: 'multipart files (attachments[]); not stored by this version: refused with 422' })),
  identifier_hash: Type.Optional(Type.Union([IdentifierHash, Type.Null()])),
});
export type MessageCreateBody = Static<typeof MessageCreateBody>;

const SubmittedValue = Type.Object(
  {
    name: Type.Optional(Text(MAX_STRING)),
    title: Type.Optional(Text(MAX_STRING)),
    value: Type.Optional(Type.Unknown({ description: 'A string, number, boolean or list of them' })),
    csat_survey_response: Type.Optional(
      Type.Object({
        feedback_message: Type.Optional(NullableText(20_000)),
        rating: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
      }),
    ),
  },
  { additionalProperties: false },
);

export const MessageUpdateBody = Type.Object({
  submitted_values: Type.Array(SubmittedValue, {
    minItems: 1,
    maxItems: MAX_SUBMITTED_VALUES,
    description: 'Replies to a form, input_select or input_csat message; stored in content_attributes.submitted_values',
  }),
  identifier_hash: Type.Optional(Type.Union([IdentifierHash, Type.Null()])),
});
export type MessageUpdateBody = Static<typeof MessageUpdateBody>;

/* ---------------- responses ---------------- */

export const PublicInbox = Open(
  {
    identifier: Type.String(),
    identity_validation_enabled: Type.Boolean({ description: 'hmac_mandatory: every session must be verified by identifier_hash' }),
    name: Type.String(),
    timezone: Type.String(),
    working_hours: Type.Array(AnyJson),
    working_hours_enabled: Type.Boolean(),
    csat_survey_enabled: Type.Boolean(),
    greeting_enabled: Type.Boolean(),
  },
  'public_inbox',
);

export const PublicContact = Open(
  {
    source_id: Type.String(),
    pubsub_token: Type.String({ description: "This session's token, to subscribe to /cable (RoomChannel)" }),
    id: Type.Integer(),
    name: Type.String(),
    email: Nullable(Type.String()),
    phone_number: Nullable(Type.String()),
  },
  'public_contact',
);

export const PublicMessage = Open(
  {
    id: Type.Integer(),
    content: Nullable(Type.String()),
    message_type: Type.Integer({ description: 'incoming=0 outgoing=1 template=3' }),
    content_type: Nullable(Type.String()),
    content_attributes: AnyJson,
    created_at: Type.Integer({ description: 'unix seconds' }),
    conversation_id: Type.Integer({ description: 'the display_id' }),
    attachments: Type.Array(AnyJson),
    sender: Type.Optional(AnyJson),
  },
  'public_message',
);

export const PublicConversation = Open(
  {
    id: Type.Integer({ description: 'the display_id' }),
    uuid: Type.String(),
    inbox_id: Type.Integer(),
    contact_last_seen_at: Type.Integer({ description: 'unix seconds, 0 when never' }),
    status: Type.String({ description: 'open | resolved | pending | snoozed' }),
    agent_last_seen_at: Type.Integer({ description: 'unix seconds, 0 when never' }),
    messages: Type.Array(PublicMessage, { description: 'the latest 100 public messages (no private notes, no activity messages)' }),
    contact: Open({ id: Type.Integer(), name: Type.String(), email: Nullable(Type.String()), phone_number: Nullable(Type.String()) }),
  },
  'public_conversation',
);

export const PublicConversationList = Type.Array(PublicConversation, { description: 'a bare array (no paging)' });
export const PublicMessageList = Type.Array(PublicMessage, { description: 'a bare array, oldest first' });

export const errorResponses = <C extends number>(...codes: C[]) =>
  Object.fromEntries(codes.map((c) => [c, ErrorBody])) as { [K in C]: typeof ErrorBody };

export { EmptyOk };

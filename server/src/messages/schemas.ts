import { Type, type Static } from 'typebox';
import { AnyJson, Id, Nullable, Open } from '../accounts/schemas.js';
import { CableContactRef, CableUser } from '../realtime/event-schemas.js';

/** Request and response schemas of the message routes: validation, TypeScript types and the OpenAPI document. */

export const MessagesParams = Type.Object({ account_id: Id, conversation_id: Id });
export const MessageParams = Type.Object({ account_id: Id, conversation_id: Id, message_id: Id });

export const MAX_CONTENT = 150_000;
/** PostgreSQL text cannot hold NUL characters: refuse them at the edge (422, never a 500). */
const NO_NUL = '^[^\\u0000]*$';
const Str = (opts: Record<string, unknown> = {}) => Type.String({ pattern: NO_NUL, ...opts });
const MAX_ID = 2_147_483_647;

export const MessageCreateBody = Type.Object({
  content: Type.Optional(Type.Union([Str(), Type.Null()], { description: `At most ${MAX_CONTENT} characters` })),
  message_type: Type.Optional(
    Type.Unknown({ description: 'outgoing (default) or incoming (API inboxes only); also 1 / 0' }),
  ),
  private: Type.Optional(Type.Boolean({ description: 'A private note (agents only; outgoing only)' })),
  content_type: Type.Optional(Type.Union([Str({ maxLength: 32 }), Type.Null()], { description: 'text, input_select, cards, form, article, …; null when absent' })),
  content_attributes: Type.Optional(Type.Unknown({ description: 'An object, or the same object as a JSON string' })),
  source_id: Type.Optional(
    Type.Union([Str({ maxLength: 255 }), Type.Null()], {
      description: 'Your id for the message; an incoming message whose source_id was already used in this inbox returns the existing message',
    }),
  ),
  echo_id: Type.Optional(Type.Union([Str({ maxLength: 255 }), Type.Null()], { description: 'Echoed back in the message and its socket frames' })),
  campaign_id: Type.Optional(Type.Unknown()),
  template_params: Type.Optional(Type.Unknown()),
  attachments: Type.Optional(Type.Unknown({ description: 'Files (multipart attachments[]) or upload ids: not stored by this version, refused with 422' })),
});
export type MessageCreateBody = Static<typeof MessageCreateBody>;

export const MessageListQuery = Type.Object({
  before: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_ID, description: 'The 20 messages before this id' })),
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_ID, description: 'Up to 100 messages after this id (up to 1000 with before)' })),
  filter_internal_messages: Type.Optional(Type.Boolean({ description: 'Drop private notes and activity messages' })),
});
export type MessageListQuery = Static<typeof MessageListQuery>;

export const MessageStatusBody = Type.Object({
  status: Type.Optional(Str({ maxLength: 32, description: 'sent, delivered, read or failed (read → delivered is ignored)' })),
  external_error: Type.Optional(Type.Union([Type.String({ maxLength: 20_000 }), Type.Null()], { description: 'Stored only with status failed' })),
});
export type MessageStatusBody = Static<typeof MessageStatusBody>;

/* ---------------- responses (src/messages/format.ts, presenters.ts) ---------------- */

/** A sender as message JSON shows it: a user's or a contact's push data (the socket audience's shapes). */
const SenderJson = Type.Union([CableUser, CableContactRef]);

const MessageTypeInt = Type.Integer({ description: 'incoming=0 outgoing=1 activity=2 template=3' });

/** `_message`: the Application API message. */
export const MessageJson = Open(
  {
    id: Type.Integer(),
    content: Nullable(Type.String()),
    inbox_id: Type.Integer(),
    conversation_id: Type.Integer({ description: 'the display_id' }),
    message_type: MessageTypeInt,
    content_type: Nullable(Type.String()),
    status: Type.String({ description: 'sent | delivered | read | failed' }),
    content_attributes: Type.Unknown({
      description:
        'An object. On an outgoing message of an API inbox whose callback did not take the first attempt, `delivery`: ' +
        "{state: 'retrying' | 'delivered' | 'failed', attempts (of the current retry schedule), next_attempt_at (unix seconds, or null), last_error (or null)}; " +
        "failed also sets status failed and external_error. Set by the server only (a delivery key given on create is dropped); none when the first attempt succeeded.",
    }),
    created_at: Nullable(Type.Integer({ description: 'unix seconds' })),
    private: Type.Boolean(),
    source_id: Nullable(Type.String()),
    echo_id: Type.Optional(Type.String()),
    sender: Type.Optional(SenderJson),
  },
  'A message',
);

export const MessageListResponse = Open({
  meta: Open({
    labels: Type.Array(Type.String()),
    additional_attributes: AnyJson,
    contact: Nullable(CableContactRef),
    assignee: Type.Optional(CableUser),
    agent_last_seen_at: Nullable(Type.String({ description: 'ISO 8601' })),
    assignee_last_seen_at: Nullable(Type.String({ description: 'ISO 8601' })),
  }),
  payload: Type.Array(MessageJson, { description: 'oldest first' }),
});

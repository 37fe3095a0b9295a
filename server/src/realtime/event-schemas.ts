import { Type, type Static, type TSchema } from 'typebox';

/**
 * The socket audience's contract: the `{event, data}` message of every RoomChannel push on /cable
 * (reference §5 push data). Registered as `components.schemas` (`Cable…`) of the OpenAPI document,
 * so clients get the event types generated with the HTTP ones. Objects are closed: a key a
 * presenter adds without a schema fails test/realtime/event-schemas.test.ts.
 */

const Closed = <T extends Record<string, TSchema>>(props: T, description?: string) =>
  Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
/** Free-form JSON (custom/additional/content attributes). */
const Json = Type.Unknown();
const Unix = Type.Number({ description: 'unix seconds' });
const Iso = Type.String({ description: 'ISO 8601' });

export const CableUser = Closed(
  {
    id: Type.Integer(),
    name: Type.String(),
    available_name: Type.String(),
    avatar_url: Type.String(),
    type: Type.Literal('user'),
    availability_status: Type.String({ description: 'online | offline | busy' }),
    thumbnail: Type.String(),
  },
  'A user (agent) in push data: sender, assignee, performer, typist',
);

const contactFields = {
  additional_attributes: Json,
  custom_attributes: Json,
  email: Nullable(Type.String()),
  id: Type.Integer(),
  identifier: Nullable(Type.String()),
  name: Type.String(),
  phone_number: Nullable(Type.String()),
  thumbnail: Type.String(),
  blocked: Type.Boolean(),
  type: Type.Literal('contact'),
};
export const CableContactRef = Closed(contactFields, 'A contact in push data: message sender, conversation sender');
/** A contact with its account: contact events, and a contact as performer or typist. */
export const CableContact = Closed({ ...contactFields, account_id: Type.Integer() }, 'A contact with its account');
/** Who did it (`performer`) or is typing, or null when that user or contact is gone. */
const Person = Nullable(Type.Union([CableUser, CableContact]));

const messageFields = {
  id: Type.Integer(),
  content: Nullable(Type.String()),
  account_id: Type.Integer(),
  inbox_id: Type.Integer(),
  conversation_id: Type.Integer({ description: 'display_id' }),
  message_type: Type.Integer({ description: '0 incoming, 1 outgoing, 2 activity, 3 template' }),
  created_at: Unix,
  updated_at: Iso,
  private: Type.Boolean(),
  status: Type.String({ description: 'sent | delivered | read | failed' }),
  source_id: Nullable(Type.String()),
  content_type: Nullable(Type.String()),
  content_attributes: Json,
  sender_type: Nullable(Type.String()),
  sender_id: Nullable(Type.Integer()),
  external_source_ids: Json,
  additional_attributes: Json,
  processed_message_content: Nullable(Type.String()),
  sentiment: Json,
  conversation: Closed({
    assignee_id: Nullable(Type.Integer()),
    unread_count: Type.Integer(),
    last_activity_at: Nullable(Unix),
    contact_inbox: Closed({ source_id: Nullable(Type.String()) }),
  }),
  echo_id: Type.Optional(Type.String()),
  sender: Type.Optional(Type.Union([CableUser, CableContactRef])),
};
export const CableMessage = Closed(messageFields, 'Message push data');

export const CableConversation = Closed(
  {
    additional_attributes: Json,
    can_reply: Type.Boolean(),
    channel: Type.String(),
    contact_inbox: Nullable(
      Closed({
        id: Type.Integer(),
        contact_id: Type.Integer(),
        inbox_id: Type.Integer(),
        source_id: Type.String(),
        created_at: Nullable(Iso),
        updated_at: Nullable(Iso),
        hmac_verified: Type.Boolean(),
      }),
    ),
    id: Type.Integer({ description: 'display_id' }),
    account_id: Type.Integer(),
    uuid: Type.String(),
    inbox_id: Type.Integer(),
    messages: Type.Array(CableMessage, { description: 'the last chat message, if any' }),
    labels: Type.Array(Type.String()),
    meta: Closed({
      sender: CableContactRef,
      assignee: Nullable(CableUser),
      assignee_type: Nullable(Type.Literal('User')),
      team: Nullable(Closed({ id: Type.Integer(), name: Type.String() }, "the conversation's team ({id, name}), null for none")),
      hmac_verified: Type.Boolean(),
    }),
    status: Type.String({ description: 'open | resolved | pending | snoozed' }),
    custom_attributes: Json,
    snoozed_until: Nullable(Iso),
    unread_count: Type.Integer(),
    first_reply_created_at: Nullable(Iso),
    priority: Nullable(Type.String()),
    waiting_since: Unix,
    agent_last_seen_at: Unix,
    contact_last_seen_at: Unix,
    last_activity_at: Nullable(Unix),
    timestamp: Nullable(Unix),
    created_at: Nullable(Unix),
    updated_at: Unix,
  },
  'Conversation push data',
);

/** What the listener adds to every event's data: the account, and who did it when known. */
const eventFields = { account_id: Type.Integer(), performer: Type.Optional(Person) };

export const CableMessageCreated = Closed({ ...messageFields, ...eventFields }, 'message.created');
export const CableMessageUpdated = Closed(
  { ...messageFields, ...eventFields, previous_changes: Nullable(Json) },
  'message.updated: `previous_changes` is `{attr: [before, after]}`',
);
export const CableConversationEvent = Closed(
  { ...CableConversation.properties, ...eventFields },
  'conversation.created / updated / status_changed / read, assignee.changed, team.changed',
);
export const CableTyping = Closed(
  { conversation: CableConversation, user: Person, is_private: Type.Boolean(), account_id: Type.Integer() },
  'conversation.typing_on / typing_off: `user` is the typist',
);
export const CableContactEvent = Closed({ ...CableContact.properties, ...eventFields }, 'contact.created / contact.updated');
export const CableContactDeleted = Closed({ id: Type.Integer(), ...eventFields }, 'contact.deleted');
export const CableConversationDeleted = Closed(
  { id: Type.Integer({ description: 'display_id' }), inbox_id: Type.Integer(), ...eventFields },
  'conversation.deleted (ChannelX): an administrator deleted the conversation with its messages. Sent to the inbox\'s agents, never to contacts',
);
export const CablePresenceUpdate = Closed(
  {
    account_id: Type.Integer(),
    users: Type.Record(Type.String(), Type.String(), { description: 'user id → online | offline | busy' }),
    contacts: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'contact id → online (agents only)' })),
  },
  'presence.update (sent to the subscriber that pinged)',
);

export const CableConversationViewing = Closed(
  {
    account_id: Type.Integer(),
    conversation_id: Type.Integer({ description: 'display_id' }),
    user: CableUser,
    viewing: Type.Boolean({ description: 'true while the agent has the conversation open; false when they leave it or their socket closes' }),
    typing: Type.Optional(Type.Boolean({ description: 'whether the agent is writing a reply, when their dashboard says so' })),
  },
  'conversation.viewing (ChannelX collision detection): another agent has this conversation open. Sent to the other agents who can see the inbox, never to the viewer themselves nor to contacts. A viewer that stops sending for 60 s should be treated as gone.',
);

/** Socket event name → its data schema. */
export const CABLE_EVENTS = {
  'message.created': CableMessageCreated,
  'message.updated': CableMessageUpdated,
  'conversation.created': CableConversationEvent,
  'conversation.updated': CableConversationEvent,
  'conversation.status_changed': CableConversationEvent,
  'conversation.read': CableConversationEvent,
  'assignee.changed': CableConversationEvent,
  'team.changed': CableConversationEvent,
  'conversation.typing_on': CableTyping,
  'conversation.typing_off': CableTyping,
  'conversation.deleted': CableConversationDeleted,
  'contact.created': CableContactEvent,
  'contact.updated': CableContactEvent,
  'contact.deleted': CableContactDeleted,
  'presence.update': CablePresenceUpdate,
  'conversation.viewing': CableConversationViewing,
} as const;

export type CableEventName = keyof typeof CABLE_EVENTS;
export type CableEventData = { [K in CableEventName]: Static<(typeof CABLE_EVENTS)[K]> };

const envelope = <K extends CableEventName>(name: K) => Closed({ event: Type.Literal(name), data: CABLE_EVENTS[name] });
/** One RoomChannel message: `{event, data}`, discriminated by `event`. */
export const CableEnvelope = Type.Union(
  (Object.keys(CABLE_EVENTS) as CableEventName[]).map((name) => envelope(name)),
  { description: 'A /cable RoomChannel message: {event, data}' },
);

/** The OpenAPI components: every schema above under its name. */
export const cableComponentSchemas: Record<string, TSchema> = {
  CableUser,
  CableContactRef,
  CableContact,
  CableMessage,
  CableConversation,
  CableMessageCreated,
  CableMessageUpdated,
  CableConversationEvent,
  CableTyping,
  CableContactEvent,
  CableContactDeleted,
  CableConversationDeleted,
  CablePresenceUpdate,
  CableConversationViewing,
  CableEnvelope,
};

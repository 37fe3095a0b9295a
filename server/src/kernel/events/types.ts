import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';

/**
 * The domain events written to the outbox: one TypeBox schema per event name (`EVENT_SCHEMAS`), and
 * `EventMap` (name → payload type) derived from them. Writers (`ctx.events`, `recordEvent`) and
 * listeners (`OutboxEvent`) are typed by the map; payloads read back from the database are checked
 * against the schema once, where they are parsed (an event that fails is a poison event).
 *
 * Payloads carry ids plus what changed; listeners read current state through the presenters when
 * they build webhook bodies or socket frames. Conversation and message ids are internal ids.
 * `performer` is who did it, when known. user.credentials_rotated carries the new version, never a token.
 */

const Id = Type.Integer();
/** A user or a contact: who did something (`performer`) or is typing (`typist`). */
export const Actor = Type.Object({ type: Type.Union([Type.Literal('user'), Type.Literal('contact')]), id: Id });
export type Actor = Static<typeof Actor>;
const performer = Type.Optional(Actor);
/** `[{attr: {previous_value, current_value}}]`, one entry per changed attribute. */
const ChangedAttributes = Type.Array(Type.Record(Type.String(), Type.Object({ previous_value: Type.Unknown(), current_value: Type.Unknown() })));
export type ChangedAttributes = Static<typeof ChangedAttributes>;
/** `{attr: [before, after]}`. */
const PreviousChanges = Type.Record(Type.String(), Type.Array(Type.Unknown()));

const conversation = { conversation_id: Id, performer };
const ConversationChanged = Type.Object({ ...conversation, changed_attributes: Type.Optional(ChangedAttributes) });
const Typing = Type.Object({ conversation_id: Id, typist: Actor, is_private: Type.Boolean() });
const message = { message_id: Id, conversation_id: Id };
const Inbox = Type.Object({ inbox_id: Id });

export const EVENT_SCHEMAS = {
  'conversation.created': Type.Object(conversation),
  'conversation.updated': ConversationChanged,
  'conversation.status_changed': ConversationChanged,
  'conversation.typing_on': Typing,
  'conversation.typing_off': Typing,
  'conversation.read': Type.Object(conversation),
  /**
   * An agent read the conversation (update_last_seen) or marked it unread: agent_last_seen_at moved,
   * so its unread_count changed. Sockets only (agents get it as `conversation.updated`); no webhook.
   */
  'conversation.seen': Type.Object({ ...conversation, unread: Type.Boolean({ description: 'true: marked unread again' }) }),
  'assignee.changed': Type.Object({ ...conversation, previous_assignee_id: Type.Union([Id, Type.Null()]) }),
  /** The conversation's team changed (agents' sockets only; webhooks hear it as conversation_updated with team_id). */
  'team.changed': Type.Object({ ...conversation, previous_team_id: Type.Union([Id, Type.Null()]) }),
  /**
   * An administrator deleted the conversation (DELETE /conversations/:id). The row is gone, so the
   * payload carries what the listener needs: its display id and inbox. Sockets only (the inbox's
   * agents); the reference fires no webhook for it, and neither do we.
   */
  'conversation.deleted': Type.Object({ ...conversation, display_id: Id, inbox_id: Id }),
  'message.created': Type.Object({ ...message, echo_id: Type.Optional(Type.String()) }),
  'message.updated': Type.Object({ ...message, previous_changes: PreviousChanges, performer }),
  'contact.created': Type.Object({ contact_id: Id }),
  'contact.updated': Type.Object({ contact_id: Id, changed_attributes: Type.Optional(ChangedAttributes) }),
  /** `contact` is the contact's webhook data, taken before the row was deleted. */
  'contact.deleted': Type.Object({ contact_id: Id, contact: Type.Record(Type.String(), Type.Unknown()) }),
  'inbox.created': Inbox,
  'inbox.updated': Inbox,
  /**
   * An account webhook was created, updated, deleted or disabled (a 410). Not delivered anywhere:
   * it tells the webhook listener, in outbox order, to read the account's webhooks again.
   */
  'webhook.changed': Type.Object({ webhook_id: Id }),
  /** Not written to the outbox: /cable sends it to the subscriber that pinged (src/realtime/commands.ts). */
  'presence.update': Type.Object({}),
  'user.credentials_rotated': Type.Object({ user_id: Id, credentials_version: Type.Integer() }),
} satisfies Record<string, TSchema>;

export type DomainEventName = keyof typeof EVENT_SCHEMAS;
export const DOMAIN_EVENTS = Object.keys(EVENT_SCHEMAS) as DomainEventName[];

/** Event name → payload type. */
export type EventMap = { [K in DomainEventName]: Static<(typeof EVENT_SCHEMAS)[K]> };

/** One event of the outbox as listeners receive it, discriminated by `name`. */
export type OutboxEventOf<K extends DomainEventName> = { id: number; accountId: number; name: K; payload: EventMap[K]; createdAt: number };
export type AnyOutboxEvent = { [K in DomainEventName]: OutboxEventOf<K> }[DomainEventName];

/** Whether a stored (parsed) payload is a valid payload of that event name. */
export function isEventPayload<K extends DomainEventName>(name: K, payload: unknown): payload is EventMap[K];
export function isEventPayload(name: string, payload: unknown): boolean;
export function isEventPayload(name: string, payload: unknown): boolean {
  const schema = (EVENT_SCHEMAS as Record<string, TSchema>)[name];
  return !!schema && Value.Check(schema, payload);
}

/**
 * Domain event names written to the outbox. Payloads carry ids plus what changed; listeners
 * read current state through the presenters when they build webhook bodies or socket frames.
 *
 * Payload conventions:
 * - conversation events: { conversation_id (internal id), changed_attributes?, performer? }
 * - message events: { message_id, conversation_id (internal id), previous_changes?, echo_id? }
 * - contact events: { contact_id, changed_attributes? }
 * - inbox events: { inbox_id }
 * - typing events: { conversation_id, typist: {type: 'user'|'contact', id}, is_private }
 * - assignee.changed: { conversation_id, previous_assignee_id }
 * - user.credentials_rotated: { user_id, credentials_version } (one per account of the user; never a token)
 * `performer` is { type: 'user'|'contact', id } when known.
 */
export const DOMAIN_EVENTS = [
  'conversation.created',
  'conversation.updated',
  'conversation.status_changed',
  'conversation.typing_on',
  'conversation.typing_off',
  'conversation.read',
  'assignee.changed',
  'message.created',
  'message.updated',
  'contact.created',
  'contact.updated',
  'contact.deleted',
  'inbox.created',
  'inbox.updated',
  'presence.update',
  'user.credentials_rotated',
] as const;

export type DomainEventName = (typeof DOMAIN_EVENTS)[number];

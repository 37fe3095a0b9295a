/**
 * The events an account webhook may subscribe to, as the server accepts them (its
 * ALLOWED_SUBSCRIPTIONS; the OpenAPI schema only names them in a description). A new event on the
 * server needs a line here.
 */
export const WEBHOOK_EVENTS: { name: string; label: string }[] = [
  { name: 'conversation_created', label: 'Conversation created' },
  { name: 'conversation_status_changed', label: 'Conversation status changed' },
  { name: 'conversation_updated', label: 'Conversation updated' },
  { name: 'message_created', label: 'Message created' },
  { name: 'message_updated', label: 'Message updated' },
  { name: 'contact_created', label: 'Contact created' },
  { name: 'contact_updated', label: 'Contact updated' },
  { name: 'conversation_typing_on', label: 'Typing started' },
  { name: 'conversation_typing_off', label: 'Typing stopped' },
  { name: 'inbox_created', label: 'Inbox created' },
  { name: 'inbox_updated', label: 'Inbox updated' },
  { name: 'webwidget_triggered', label: 'Web widget opened' },
];

export const eventLabel = (name: string) => WEBHOOK_EVENTS.find((e) => e.name === name)?.label ?? name;

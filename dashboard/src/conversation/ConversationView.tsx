/** One open conversation (owned by the conversation-view work). Placeholder until built. */
export function ConversationView({ conversationId }: { conversationId: number }) {
  return <section aria-label="Conversation">Conversation {conversationId}</section>;
}

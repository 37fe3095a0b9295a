/** Conversation list (owned by the conversation-list work). Placeholder until built. */
export function ConversationsPage({ conversationId }: { conversationId: number | null }) {
  return <h1>Conversations {conversationId ?? ''}</h1>;
}

/** Settings → Inboxes (owned by the inbox-settings work). Placeholders until built. */
export function InboxesPage() {
  return <h1>Inboxes</h1>;
}
export function NewInboxPage() {
  return <h1>Add inbox</h1>;
}
export function InboxPage({ inboxId, tab }: { inboxId: number; tab: string | null }) {
  return <h1>Inbox {inboxId} {tab}</h1>;
}

import { InboxList } from './inboxes/InboxList.js';
import { NewInbox } from './inboxes/NewInbox.js';
import { InboxView } from './inboxes/InboxView.js';
import './settings.css';

/**
 * Settings → Inboxes: the list (/app/settings/inboxes), adding an API inbox (…/new) and one inbox
 * with its tabs Settings, Agents, Configuration and Deliveries (…/:id[/tab]).
 */
export function InboxesPage() {
  return <InboxList />;
}

export function NewInboxPage() {
  return <NewInbox />;
}

export function InboxPage({ inboxId, tab }: { inboxId: number; tab: string | null }) {
  // A fresh view per inbox: no state of one inbox shows on another.
  return <InboxView key={inboxId} inboxId={inboxId} tab={tab} />;
}

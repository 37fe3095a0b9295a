import type { CableEventMap, ResponseBody } from '@channelx/client';

/**
 * The conversation list's model: the filters (kept in the query string), one row per conversation
 * (normalised from the API's conversation JSON and from /cable events alike), and the client-side
 * rules that mirror the server's — which conversations a view holds and in which order — so live
 * updates land where a refetch would put them.
 */

export type Tab = 'mine' | 'unassigned' | 'all';
export type StatusFilter = 'open' | 'pending' | 'snoozed' | 'resolved' | 'all';
export type SortKey = 'last_activity_at_desc' | 'created_at_desc' | 'waiting_since_asc' | 'priority_desc';

export const TABS: { id: Tab; label: string; shortcut: string }[] = [
  { id: 'mine', label: 'Mine', shortcut: 'g m' },
  { id: 'unassigned', label: 'Unassigned', shortcut: 'g u' },
  { id: 'all', label: 'All', shortcut: 'g a' },
];
export const STATUSES: { id: StatusFilter; label: string }[] = [
  { id: 'open', label: 'Open' },
  { id: 'pending', label: 'Pending' },
  { id: 'snoozed', label: 'Snoozed' },
  { id: 'resolved', label: 'Resolved' },
  { id: 'all', label: 'All statuses' },
];
export const SORTS: { id: SortKey; label: string }[] = [
  { id: 'last_activity_at_desc', label: 'Last activity' },
  { id: 'created_at_desc', label: 'Newest first' },
  { id: 'waiting_since_asc', label: 'Waiting longest' },
  { id: 'priority_desc', label: 'Priority' },
];

export type Filters = { tab: Tab; status: StatusFilter; sort: SortKey; inboxId: number | null; q: string; label: string | null; teamId: number | null };
export const DEFAULT_FILTERS: Filters = { tab: 'all', status: 'open', sort: 'last_activity_at_desc', inboxId: null, q: '', label: null, teamId: null };

const oneOf = <T extends string>(v: string | null, all: { id: T }[], fallback: T): T => (all.some((x) => x.id === v) ? (v as T) : fallback);

export function parseFilters(search: string): Filters {
  const p = new URLSearchParams(search);
  const inbox = p.get('inbox');
  const team = p.get('team');
  const label = (p.get('label') ?? '').trim().slice(0, 255);
  return {
    label: label || null,
    teamId: team && /^[1-9]\d{0,15}$/.test(team) ? Number(team) : null,
    tab: oneOf(p.get('tab'), TABS, DEFAULT_FILTERS.tab),
    status: oneOf(p.get('status'), STATUSES, DEFAULT_FILTERS.status),
    sort: oneOf(p.get('sort'), SORTS, DEFAULT_FILTERS.sort),
    inboxId: inbox && /^[1-9]\d{0,15}$/.test(inbox) ? Number(inbox) : null,
    q: (p.get('q') ?? '').slice(0, 255),
  };
}

/** The query string of `f` ('' or '?…'): only what differs from the defaults. */
export function filtersSearch(f: Filters): string {
  const p = new URLSearchParams();
  if (f.inboxId != null) p.set('inbox', String(f.inboxId));
  if (f.label) p.set('label', f.label);
  if (f.teamId != null) p.set('team', String(f.teamId));
  if (f.tab !== DEFAULT_FILTERS.tab) p.set('tab', f.tab);
  if (f.status !== DEFAULT_FILTERS.status) p.set('status', f.status);
  if (f.sort !== DEFAULT_FILTERS.sort) p.set('sort', f.sort);
  if (f.q.trim()) p.set('q', f.q);
  const s = p.toString();
  return s ? `?${s}` : '';
}

const ASSIGNEE_TYPE = { mine: 'me', unassigned: 'unassigned', all: 'all' } as const;

/** The API query of a view (the tab's assignee_type included unless `withTab` is false, as the counts need). */
export function apiQuery(f: Filters, withTab = true) {
  return {
    status: f.status,
    ...(withTab ? { assignee_type: ASSIGNEE_TYPE[f.tab] } : {}),
    ...(f.inboxId != null ? { inbox_id: f.inboxId } : {}),
    ...(f.label ? { labels: [f.label] } : {}),
    ...(f.teamId != null ? { team_id: f.teamId } : {}),
    ...(f.q.trim() ? { q: f.q.trim() } : {}),
  };
}

/* ---------------- rows ---------------- */

export type Preview = {
  messageId: number;
  text: string;
  private: boolean;
  outgoing: boolean;
  senderId: number | null;
  senderName: string | null;
  attachments: number;
};

export type Item = {
  id: number;
  inboxId: number;
  status: string;
  priority: string | null;
  contactId: number | null;
  contactName: string;
  contactSearch: string;
  assignee: { id: number; name: string } | null;
  teamId: number | null;
  labels: string[];
  unread: number;
  lastActivityAt: number;
  createdAt: number;
  waitingSince: number;
  /** The conversation's updated_at (seconds with milliseconds): an event older than the row is stale. */
  updatedAt: number;
  preview: Preview | null;
};

type ListResponse = ResponseBody<'/api/v1/accounts/{account_id}/conversations', 'get'>;
export type ConversationJson = ListResponse['data']['payload'][number];
export type ConversationEvent = CableEventMap['conversation.updated'];
export type MessageEvent = CableEventMap['message.created'];
type AnyMessage = ConversationJson['messages'][number] | MessageEvent;

const MESSAGE_ACTIVITY = 2;
const MESSAGE_OUTGOING = 1;

/** A message's preview, or null for activity messages (which never show as the last message). */
export function previewOf(m: AnyMessage | null | undefined): Preview | null {
  if (!m || m.message_type === MESSAGE_ACTIVITY) return null;
  const attachments = (m as { attachments?: unknown }).attachments;
  const sender = m.sender as { type?: string; id?: number; available_name?: string; name?: string } | undefined;
  return {
    messageId: m.id,
    text: (m.content ?? '').replace(/\s+/g, ' ').trim(),
    private: !!m.private,
    outgoing: m.message_type === MESSAGE_OUTGOING,
    senderId: sender?.type === 'user' ? (sender.id ?? null) : null,
    senderName: sender?.type === 'user' ? (sender.available_name || sender.name || null) : null,
    attachments: Array.isArray(attachments) ? attachments.length : 0,
  };
}

type Person = { id?: number; name?: string | null; available_name?: string | null; email?: string | null; phone_number?: string | null };

function contactFields(sender: Person | undefined) {
  const name = sender?.name?.trim() || sender?.email || sender?.phone_number || 'Unknown contact';
  return {
    contactId: sender?.id ?? null,
    contactName: name,
    contactSearch: [sender?.name, sender?.email, sender?.phone_number].filter(Boolean).join(' ').toLowerCase(),
  };
}

function assigneeOf(a: Person | null | undefined) {
  return a && a.id != null ? { id: a.id, name: a.available_name || a.name || 'Agent' } : null;
}

/** The team of a conversation's meta (present only when it has one). */
function teamIdOf(meta: unknown): number | null {
  const t = (meta as { team?: { id?: unknown } | null }).team;
  return t && typeof t.id === 'number' ? t.id : null;
}

/** A row from the API's conversation JSON (list, show). */
export function itemFromJson(c: ConversationJson): Item {
  return {
    id: c.id,
    inboxId: c.inbox_id,
    status: c.status,
    priority: c.priority,
    ...contactFields(c.meta.sender as Person),
    assignee: assigneeOf(c.meta.assignee as Person | null),
    teamId: teamIdOf(c.meta),
    labels: c.labels,
    unread: c.unread_count,
    lastActivityAt: c.last_activity_at ?? c.timestamp ?? c.created_at ?? 0,
    createdAt: c.created_at ?? 0,
    waitingSince: c.waiting_since ?? 0,
    updatedAt: c.updated_at ?? 0,
    preview: previewOf(c.last_non_activity_message ?? c.messages[0]),
  };
}

/** A row from a conversation event; the preview is kept from `prev` when the event carries no chat message. */
export function itemFromEvent(c: ConversationEvent, prev?: Item): Item {
  const chat = previewOf(c.messages[0]);
  return {
    id: c.id,
    inboxId: c.inbox_id,
    status: c.status,
    priority: c.priority,
    ...contactFields(c.meta.sender as Person),
    assignee: assigneeOf(c.meta.assignee as Person | null),
    teamId: teamIdOf(c.meta),
    labels: c.labels,
    unread: c.unread_count,
    lastActivityAt: c.last_activity_at ?? c.timestamp ?? c.created_at ?? 0,
    createdAt: c.created_at ?? 0,
    waitingSince: c.waiting_since ?? 0,
    updatedAt: c.updated_at ?? 0,
    // The event's message is the last chat message (no private notes): it never replaces a newer preview.
    preview: chat && (!prev?.preview || chat.messageId >= prev.preview.messageId) ? chat : (prev?.preview ?? chat),
  };
}

/** The row after a new message: its preview, activity time and unread count (the same row when it already shows it). */
export function itemWithMessage(it: Item, m: MessageEvent): Item {
  if (it.preview && it.preview.messageId >= m.id) return it;
  const preview = previewOf(m) ?? it.preview;
  const assigneeId = m.conversation.assignee_id;
  return {
    ...it,
    preview,
    lastActivityAt: m.conversation.last_activity_at ?? Math.max(it.lastActivityAt, m.created_at),
    unread: m.conversation.unread_count,
    assignee: assigneeId == null ? null : it.assignee?.id === assigneeId ? it.assignee : { id: assigneeId, name: 'Agent' },
  };
}

/* ---------------- which rows a view holds, and their order ---------------- */

/**
 * Whether `it` belongs in the view. The search is matched on the contact and the latest message only
 * (the server searches every message): a row already in the view stays; a new one is fetched.
 */
export function matches(it: Item, f: Filters, userId: number, inList: boolean): boolean {
  if (f.status !== 'all' && it.status !== f.status) return false;
  if (f.inboxId != null && it.inboxId !== f.inboxId) return false;
  if (f.tab === 'mine' && it.assignee?.id !== userId) return false;
  if (f.tab === 'unassigned' && it.assignee) return false;
  if (f.teamId != null && it.teamId !== f.teamId) return false;
  // Labels match as the server does (case-insensitive).
  if (f.label && !it.labels.some((l) => l.toLowerCase() === f.label!.toLowerCase())) return false;
  const q = f.q.trim().toLowerCase();
  if (q && !inList) return it.contactSearch.includes(q) || (!!it.preview && !it.preview.private && it.preview.text.toLowerCase().includes(q));
  return true;
}

const PRIORITY_RANK: Record<string, number> = { low: 0, medium: 1, high: 2, urgent: 3 };

/** The server's order (listing-repository SORTS), ties broken by the newest conversation. */
export function comparator(sort: SortKey): (a: Item, b: Item) => number {
  const byId = (a: Item, b: Item) => b.id - a.id;
  switch (sort) {
    case 'created_at_desc':
      return (a, b) => b.createdAt - a.createdAt || byId(a, b);
    case 'waiting_since_asc':
      return (a, b) => (a.waitingSince ? 0 : 1) - (b.waitingSince ? 0 : 1) || a.waitingSince - b.waitingSince || byId(a, b);
    case 'priority_desc':
      return (a, b) => {
        const pa = a.priority ? PRIORITY_RANK[a.priority] ?? -1 : null;
        const pb = b.priority ? PRIORITY_RANK[b.priority] ?? -1 : null;
        if (pa == null || pb == null) return (pa == null ? 1 : 0) - (pb == null ? 1 : 0) || b.lastActivityAt - a.lastActivityAt || byId(a, b);
        return pb - pa || b.lastActivityAt - a.lastActivityAt || byId(a, b);
      };
    default:
      return (a, b) => b.lastActivityAt - a.lastActivityAt || byId(a, b);
  }
}

/**
 * `items` with `it` put (or moved) where the order says, before the rows it ties with (the times are
 * whole seconds, and the row that just changed is the most recent). A row that sorts after the last
 * loaded one while more pages exist is left out: it comes with its page.
 */
export function placeItem(items: Item[], it: Item, cmp: (a: Item, b: Item) => number, hasMore: boolean): Item[] {
  const tieless = (a: Item, b: Item) => cmp({ ...a, id: 0 }, { ...b, id: 0 });
  // Still in order where it is: it stays there.
  const at = items.findIndex((x) => x.id === it.id);
  if (at >= 0) {
    const prev = items[at - 1];
    const next = items[at + 1];
    if ((!prev || tieless(prev, it) <= 0) && (!next || tieless(it, next) <= 0)) return items.map((x, k) => (k === at ? it : x));
  }
  const rest = items.filter((x) => x.id !== it.id);
  let i = rest.findIndex((x) => tieless(it, x) <= 0);
  if (i === -1) {
    if (hasMore) return rest;
    i = rest.length;
  }
  return [...rest.slice(0, i), it, ...rest.slice(i)];
}

/* ---------------- presentation ---------------- */

export { initials } from '../ui.js';

/** "now", "5m", "3h", "2d", or a short date. */
export function relativeTime(unixSeconds: number, nowMs: number): string {
  if (!unixSeconds) return '';
  const s = Math.max(0, Math.floor(nowMs / 1000) - unixSeconds);
  if (s < 60) return 'now';
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  if (s < 7 * 86400) return `${Math.floor(s / 86400)}d`;
  const d = new Date(unixSeconds * 1000);
  return d.toLocaleDateString(undefined, d.getFullYear() === new Date(nowMs).getFullYear() ? { month: 'short', day: 'numeric' } : { year: 'numeric', month: 'short', day: 'numeric' });
}

export const exactTime = (unixSeconds: number) => (unixSeconds ? new Date(unixSeconds * 1000).toLocaleString() : '');

import type { Executor } from '../kernel/db.js';
import { fromJson } from '../kernel/db.js';
import type { AgentRow } from '../users/presenter.js';
import { contactInboxesByIds, findContactsByIds, type ContactInboxRow, type ContactRow } from '../contacts/repository.js';
import { inboxSummaries } from '../inboxes/repository.js';
import { findMessagesByIds } from '../messages/repository.js';
import type { MessageRow, Sender } from '../messages/format.js';
import { accountAgents } from '../agents/repository.js';
import { teamsByIds, type TeamRow } from '../teams/repository.js';
import { loadSenders } from './people.js';
import { labelsOf, messageSummaries, unreadCounts, type ConversationRow } from './repository.js';

/**
 * Everything the conversation presenters need, loaded for a page of conversations in a fixed number
 * of queries (no N+1): inbox, contact, contact_inbox, assignee, labels, the last messages and their
 * senders, the unread count.
 */
export type ConversationBundle = {
  conv: ConversationRow;
  inbox: { id: number; name: string; channel_type: string; reply_window_hours: number | null };
  contact: ContactRow;
  contactInbox: ContactInboxRow | null;
  assignee: AgentRow | null;
  team: TeamRow | null;
  labels: string[];
  lastMessage: MessageRow | null;
  lastNonActivity: MessageRow | null;
  /** The last public, non-activity message (what webhook/push `messages` show). */
  lastChat: MessageRow | null;
  lastIncomingAt: number | null;
  unreadCount: number;
  senderOf: (m: MessageRow) => Sender;
};

export async function loadBundles(db: Executor, convs: ConversationRow[]): Promise<ConversationBundle[]> {
  if (!convs.length) return [];
  const ids = convs.map((c) => c.id);
  const accountId = convs[0].account_id;

  const inboxRows = await inboxSummaries(db, accountId, convs.map((c) => c.inbox_id));
  const inboxes = new Map(
    inboxRows.map((r) => {
      const window = Number(fromJson<Record<string, unknown>>(r.additional_attributes).agent_reply_time_window);
      return [r.id, { id: r.id, name: r.name, channel_type: r.channel_type, reply_window_hours: window > 0 ? window : null }];
    }),
  );
  const contacts = new Map((await findContactsByIds(db, convs.map((c) => c.contact_id))).map((c) => [c.id, c]));
  const ciRows = await contactInboxesByIds(db, accountId, convs.map((c) => c.contact_inbox_id));
  const contactInboxes = new Map(ciRows.map((r) => [r.id, r]));
  const assignees = await accountAgents(db, accountId, convs.map((c) => c.assignee_id).filter((x): x is number => x != null));
  const teams = await teamsByIds(db, accountId, convs.map((c) => c.team_id));
  const labels = await labelsOf(db, ids);
  const summaries = await messageSummaries(db, ids);
  const unread = unreadCounts(convs);

  const messageIds = new Set<number>();
  for (const s of summaries.values()) for (const id of [s.last_id, s.last_non_activity_id, s.last_chat_id]) if (id != null) messageIds.add(id);
  const messages = await findMessagesByIds(db, accountId, [...messageIds]);
  const byId = new Map(messages.map((m) => [m.id, m]));
  const senderOf = await loadSenders(db, accountId, messages, [...contacts.values()]);

  const out: ConversationBundle[] = [];
  for (const conv of convs) {
    const contact = contacts.get(conv.contact_id);
    const inbox = inboxes.get(conv.inbox_id);
    if (!contact || !inbox) continue; // deleted under our feet
    const s = summaries.get(conv.id);
    const pick = (id: number | null | undefined) => (id == null ? null : (byId.get(id) ?? null));
    out.push({
      conv,
      inbox,
      contact,
      contactInbox: contactInboxes.get(conv.contact_inbox_id) ?? null,
      assignee: conv.assignee_id == null ? null : (assignees.get(conv.assignee_id) ?? null),
      team: conv.team_id == null ? null : (teams.get(conv.team_id) ?? null),
      labels: labels.get(conv.id) ?? [],
      lastMessage: pick(s?.last_id),
      lastNonActivity: pick(s?.last_non_activity_id),
      lastChat: pick(s?.last_chat_id),
      lastIncomingAt: s?.last_incoming_at ?? null,
      unreadCount: unread.get(conv.id) ?? 0,
      senderOf,
    });
  }
  return out;
}

export async function loadBundle(db: Executor, conv: ConversationRow): Promise<ConversationBundle | null> {
  return (await loadBundles(db, [conv]))[0] ?? null;
}

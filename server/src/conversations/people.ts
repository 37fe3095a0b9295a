import type { Executor } from '../kernel/db.js';
import { accountAgents, findAgent } from '../agents/repository.js';
import { ROLE } from '../kernel/constants.js';
import { isInboxMember } from '../inboxes/repository.js';
import { findUserNames } from '../users/repository.js';
import { availabilityStatus, type AgentRow } from '../users/presenter.js';
import { findContactsByIds, type ContactRow } from '../contacts/repository.js';
import type { MessageRow, Sender } from '../messages/format.js';

/** Loads the people around conversations: assignable agents and message senders. */

/**
 * An account member who may be assigned a conversation of this inbox: an administrator, or an agent
 * who is a member of the inbox.
 */
export async function findAssignableAgent(db: Executor, accountId: number, inboxId: number, userId: number): Promise<AgentRow | undefined> {
  const agent = await findAgent(db, accountId, userId);
  if (!agent) return undefined;
  if (agent.role === ROLE.administrator) return agent;
  return (await isInboxMember(db, inboxId, userId)) ? agent : undefined;
}

export const agentSender = (a: AgentRow): Sender => ({
  type: 'user',
  user: a,
  availability: availabilityStatus(a.availability, a.auto_offline, false),
});

/** Resolves the senders of these messages in a few queries; `known` contacts are not fetched again. */
export async function loadSenders(
  db: Executor,
  accountId: number,
  messages: MessageRow[],
  known: ContactRow[] = [],
): Promise<(m: MessageRow) => Sender> {
  const contacts = new Map(known.map((c) => [c.id, c]));
  const wantContacts = messages.filter((m) => m.sender_type === 'Contact' && m.sender_id != null && !contacts.has(m.sender_id));
  for (const c of await findContactsByIds(db, wantContacts.map((m) => m.sender_id!))) contacts.set(c.id, c);
  const userIds = messages.filter((m) => m.sender_type === 'User' && m.sender_id != null).map((m) => m.sender_id!);
  const agents = await accountAgents(db, accountId, userIds);
  const missing = userIds.filter((id) => !agents.has(id));
  const formerUsers = new Map<number, { id: number; name: string; display_name: string | null; email: string }>();
  if (missing.length) {
    for (const r of await findUserNames(db, missing)) formerUsers.set(r.id, r);
  }
  return (m) => {
    if (m.sender_id == null) return null;
    if (m.sender_type === 'Contact') {
      const c = contacts.get(m.sender_id);
      return c ? { type: 'contact', contact: c } : null;
    }
    if (m.sender_type === 'User') {
      const a = agents.get(m.sender_id);
      if (a) return agentSender(a);
      const u = formerUsers.get(m.sender_id);
      return u ? { type: 'user', user: u, availability: 'offline' } : null;
    }
    return null;
  };
}

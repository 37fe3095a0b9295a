import type { AppContext } from '../context.js';
import type { Executor, Tx } from '../kernel/db.js';
import { FLAG, MESSAGE_STATUS, MESSAGE_TYPE } from '../kernel/constants.js';
import { findContactById } from '../contacts/repository.js';
import { findUserNames } from '../users/repository.js';
import { insertMessage } from '../messages/repository.js';
import { teamNames } from '../teams/repository.js';
import { priorityName, STATUS, type ConversationRow } from './repository.js';
import type { ConversationState, Performer } from './changes.js';

/**
 * Activity messages (message_type 2): the conversation's own history lines ("Conversation was
 * marked resolved by Grace Hopper", "Assigned to Ada Lovelace by Grace Hopper", …), written by
 * changeConversation in the transaction of the change they describe. They have no sender, are
 * agents-only (never a contact's socket, the client API or a webhook), never count as unread and
 * never become the conversation's preview (last_non_activity_message). Like the reference, they
 * move the conversation's last_activity_at; they never touch waiting_since or reopen anything
 * (resolving clears waiting_since: changeConversation does that, not its line).
 */

/** The names an activity line needs; null when unknown (no performer, or a user who is gone). */
export type ActivityNames = {
  performer: { type: Performer['type']; id: number; name: string } | null;
  /** The new assignee's name, when the assignee changed to someone. */
  assignee: string | null;
  /** The new and the previous team's names, when the team changed (null when none, or gone). */
  team?: string | null;
  previousTeam?: string | null;
};

const list = (xs: string[]) => xs.join(', ');

/**
 * The activity lines for a change, in the order they happened to the conversation: status, team or
 * assignee, priority, labels. As in the reference, a team change writes the team's line only
 * ("Assigned to sales by …", "Assigned to Ada via sales by …" when the assignee changed with it,
 * "Unassigned from sales by …"), never a second line for the assignee it kept or dropped.
 */
export function activityLines(before: ConversationState, after: ConversationState, names: ActivityNames): string[] {
  const p = names.performer;
  const by = p ? ` by ${p.name}` : '';
  const out: string[] = [];

  // As in the reference, a line only when the status changes (a new snooze time alone writes none).
  if (before.status !== after.status) {
    switch (after.status) {
      case STATUS.resolved:
        out.push(p?.type === 'contact' ? `Conversation was resolved${by}` : `Conversation was marked resolved${by}`);
        break;
      case STATUS.open:
        // An agent reopens with a line. A snooze that ends (its time came, or the contact wrote) writes
        // none, as the reference; a contact's message reopening a resolved one the system line.
        if (p?.type === 'user') out.push(`Conversation was reopened${by}`);
        else if (p?.type === 'contact' && before.status === STATUS.resolved) out.push('System reopened the conversation due to a new incoming message.');
        break;
      case STATUS.pending:
        out.push(`Conversation was marked as pending${by}`);
        break;
      case STATUS.snoozed:
        out.push(`Conversation was snoozed${by}`);
        break;
    }
  }

  if ((before.team_id ?? null) !== (after.team_id ?? null)) {
    const team = names.team ?? 'a former team';
    if (after.team_id == null) out.push(`Unassigned from ${names.previousTeam ?? 'a former team'}${by}`);
    else if (after.assignee_id != null && before.assignee_id !== after.assignee_id) out.push(`Assigned to ${names.assignee ?? 'a former agent'} via ${team}${by}`);
    else out.push(`Assigned to ${team}${by}`);
  } else if (before.assignee_id !== after.assignee_id) {
    if (after.assignee_id == null) out.push(`Conversation unassigned${by}`);
    else if (p?.type === 'user' && p.id === after.assignee_id) out.push(`${p.name} self-assigned this conversation`);
    else out.push(`Assigned to ${names.assignee ?? 'a former agent'}${by}`);
  }

  if (before.priority !== after.priority) {
    const from = priorityName(before.priority);
    const to = priorityName(after.priority);
    if (to == null) out.push(p ? `${p.name} removed the priority` : 'The priority was removed');
    else if (from == null) out.push(p ? `${p.name} set the priority to ${to}` : `The priority was set to ${to}`);
    else out.push(p ? `${p.name} changed the priority from ${from} to ${to}` : `The priority was changed from ${from} to ${to}`);
  }

  if (before.labels && after.labels) {
    const added = after.labels.filter((l) => !before.labels!.includes(l));
    const removed = before.labels.filter((l) => !after.labels!.includes(l));
    if (added.length) out.push(p ? `${p.name} added ${list(added)}` : `Labels added: ${list(added)}`);
    if (removed.length) out.push(p ? `${p.name} removed ${list(removed)}` : `Labels removed: ${list(removed)}`);
  }
  return out;
}

/** Whether a change gets activity lines at all (before any name is looked up). */
export function hasActivity(before: ConversationState, after: ConversationState, performer?: Performer): boolean {
  return activityLines(before, after, { performer: performer ? { ...performer, name: '' } : null, assignee: null }).length > 0;
}

/** The performer's and the new assignee's names: a user's name, a contact's name (or null when gone). */
export async function activityNames(
  db: Executor,
  after: ConversationState,
  before: ConversationState,
  performer?: Performer,
  accountId?: number,
): Promise<ActivityNames> {
  const userIds: number[] = [];
  if (performer?.type === 'user') userIds.push(performer.id);
  const assigneeId = after.assignee_id !== before.assignee_id ? after.assignee_id : null;
  if (assigneeId != null) userIds.push(assigneeId);
  const users = new Map((await findUserNames(db, userIds)).map((u) => [u.id, u.name]));
  let performerName: string | null = null;
  if (performer?.type === 'user') performerName = users.get(performer.id) ?? null;
  else if (performer?.type === 'contact') performerName = (await findContactById(db, performer.id))?.name?.trim() || null;
  const teamChanged = (before.team_id ?? null) !== (after.team_id ?? null);
  const teams = teamChanged && accountId != null ? await teamNames(db, accountId, [before.team_id, after.team_id].filter((x): x is number => x != null)) : new Map<number, string>();
  return {
    performer: performer && performerName ? { type: performer.type, id: performer.id, name: performerName } : null,
    assignee: assigneeId != null ? (users.get(assigneeId) ?? null) : null,
    ...(teamChanged
      ? { team: after.team_id != null ? (teams.get(after.team_id) ?? null) : null, previousTeam: before.team_id != null ? (teams.get(before.team_id) ?? null) : null }
      : {}),
  };
}

/** Writes the lines as activity messages (no sender) and records message.created for each, in the caller's transaction. */
export async function writeActivity(ctx: AppContext, trx: Tx, conv: Pick<ConversationRow, 'id' | 'account_id' | 'inbox_id'>, lines: string[], at: number) {
  for (const content of lines) {
    const message = await insertMessage(
      trx,
      {
        account_id: conv.account_id,
        inbox_id: conv.inbox_id,
        conversation_id: conv.id,
        content,
        message_type: MESSAGE_TYPE.activity,
        content_type: null,
        content_attributes: '{}',
        additional_attributes: '{}',
        private: FLAG.off,
        status: MESSAGE_STATUS.sent,
        source_id: null,
        sender_type: null,
        sender_id: null,
        echo_id: null,
      },
      at,
    );
    await ctx.events(trx, conv.account_id, 'message.created', { message_id: message.id, conversation_id: conv.id });
  }
}

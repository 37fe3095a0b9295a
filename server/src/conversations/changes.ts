import type { AppContext } from '../context.js';
import type { Tx } from '../kernel/db.js';
import { fromJson, now, unix } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import { activityLines, activityNames, hasActivity, writeActivity } from './activity.js';
import { lockConversation, priorityName, STATUS, statusName, updateConversation, type ConversationPatch, type ConversationRow } from './repository.js';

/**
 * The one place conversation changes become domain events, so every write path (API, client API,
 * message ingestion) records the same ones in its transaction:
 * - `conversation.status_changed` when the status changed,
 * - `assignee.changed` when the assignee changed, `team.changed` when the team changed,
 * - `conversation.updated` with `changed_attributes: [{attr: {previous_value, current_value}}]`
 *   whenever a tracked attribute changed (status, snoozed_until, assignee_id, priority,
 *   custom_attributes, additional_attributes, label_list, team_id),
 * and (changeConversation) the activity messages of status, assignee, priority and label changes
 * with their `message.created` (src/conversations/activity.ts).
 */

export type Performer = { type: 'user' | 'contact'; id: number };
export type ConversationState = Pick<
  ConversationRow,
  'status' | 'assignee_id' | 'priority' | 'snoozed_until' | 'custom_attributes' | 'additional_attributes' | 'team_id'
> & { labels?: string[] };

type Changed = Record<string, { previous_value: unknown; current_value: unknown }>;

export function diffConversation(before: ConversationState, after: ConversationState): Changed[] {
  const out: Changed[] = [];
  const add = (attr: string, prev: unknown, cur: unknown) => out.push({ [attr]: { previous_value: prev, current_value: cur } });
  if (before.status !== after.status) add('status', statusName(before.status), statusName(after.status));
  if (Number(before.snoozed_until ?? 0) !== Number(after.snoozed_until ?? 0)) add('snoozed_until', unix(before.snoozed_until), unix(after.snoozed_until));
  if (before.assignee_id !== after.assignee_id) add('assignee_id', before.assignee_id, after.assignee_id);
  if (before.team_id !== after.team_id) add('team_id', before.team_id, after.team_id);
  if (before.priority !== after.priority) add('priority', priorityName(before.priority), priorityName(after.priority));
  for (const k of ['custom_attributes', 'additional_attributes'] as const) {
    if (before[k] !== after[k]) add(k, fromJson(before[k]), fromJson(after[k]));
  }
  if (before.labels && after.labels && before.labels.join('\u0000') !== after.labels.join('\u0000')) add('label_list', before.labels, after.labels);
  return out;
}

export async function recordConversationChanges(
  ctx: AppContext,
  trx: Tx,
  conv: Pick<ConversationRow, 'id' | 'account_id'>,
  before: ConversationState,
  after: ConversationState,
  performer?: Performer,
): Promise<Changed[]> {
  const changed = diffConversation(before, after);
  if (!changed.length) return changed;
  const base = { conversation_id: conv.id, ...(performer ? { performer } : {}) };
  if (before.status !== after.status) {
    await ctx.events(trx, conv.account_id, 'conversation.status_changed', { ...base, changed_attributes: changed });
  }
  if (before.assignee_id !== after.assignee_id) {
    await ctx.events(trx, conv.account_id, 'assignee.changed', { ...base, previous_assignee_id: before.assignee_id });
  }
  if (before.team_id !== after.team_id) {
    await ctx.events(trx, conv.account_id, 'team.changed', { ...base, previous_team_id: before.team_id });
  }
  await ctx.events(trx, conv.account_id, 'conversation.updated', { ...base, changed_attributes: changed });
  return changed;
}

/** What a change computes from the locked row: the patch, and the label lists before/after when it replaced them. */
export type ConversationChange<T> = { patch: ConversationPatch; labels?: [string[], string[]]; result: T };

/**
 * The one read-modify-write of a conversation, in the caller's transaction: locks the row, lets
 * `change` compute the patch from the locked row (doing its own writes in `trx` if it has any),
 * applies it and records the change events. 404 when the conversation is gone.
 */
export async function changeConversation<T>(
  ctx: AppContext,
  trx: Tx,
  conversationId: number,
  change: (current: ConversationRow) => Promise<ConversationChange<T>>,
  performer?: Performer,
): Promise<{ before: ConversationRow; conversation: ConversationRow; result: T }> {
  const current = await lockConversation(trx, ctx.database.dialect, conversationId);
  if (!current) throw errors.notFound();
  const { patch, labels, result } = await change(current);
  // As in the reference, a resolved conversation waits for nobody: waiting_since clears (quietly, no
  // changed attribute), and the contact's next message sets it again.
  if (patch.status === STATUS.resolved && current.status !== STATUS.resolved && current.waiting_since != null) patch.waiting_since = null;
  const prev = stateOf(current, labels?.[0]);
  // Status, assignee, priority and label changes leave activity lines, which move last_activity_at.
  const activity = hasActivity(prev, stateOf({ ...current, ...patch }, labels?.[1]), performer);
  const t = now();
  if (activity) patch.last_activity_at = Math.max(t, Number(patch.last_activity_at ?? 0));
  const after = Object.keys(patch).length ? await updateConversation(trx, current.id, patch) : current;
  const next = stateOf(after, labels?.[1]);
  await recordConversationChanges(ctx, trx, current, prev, next, performer);
  if (activity) {
    const lines = activityLines(prev, next, await activityNames(trx, next, prev, performer, current.account_id));
    await writeActivity(ctx, trx, after, lines, Number(after.last_activity_at ?? t));
  }
  return { before: current, conversation: after, result };
}

/** Conversation attribute values: strings under 1500 characters, integers under 9 999 999 999. */
export function checkAttributeValues(obj: Record<string, unknown> | undefined, field: string) {
  if (!obj) return;
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'string' && v.length >= 1500) throw errors.invalid(`${field}.${k} must be shorter than 1500 characters`, [field]);
    if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) >= 9_999_999_999) {
      throw errors.invalid(`${field}.${k} must be less than 9999999999`, [field]);
    }
  }
}

/** `snoozed_until` as unix seconds (number or numeric string) or an ISO date-time; epoch ms out. */
export function parseSnoozedUntil(value: unknown): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '') return null;
  let ms = NaN;
  if (typeof value === 'number') ms = Math.round(value * 1000);
  else if (typeof value === 'string') ms = /^\d+(\.\d+)?$/.test(value.trim()) ? Math.round(Number(value) * 1000) : Date.parse(value);
  // Up to the year 9999.
  if (Number.isFinite(ms) && ms >= 0 && ms <= 253_402_300_799_000) return ms;
  throw errors.invalid('snoozed_until must be unix seconds or an ISO 8601 date-time', ['snoozed_until']);
}

export function stateOf(c: ConversationRow, labels?: string[]): ConversationState {
  return {
    status: c.status,
    assignee_id: c.assignee_id,
    priority: c.priority,
    snoozed_until: c.snoozed_until,
    custom_attributes: c.custom_attributes,
    additional_attributes: c.additional_attributes,
    team_id: c.team_id ?? null,
    ...(labels ? { labels } : {}),
  };
}

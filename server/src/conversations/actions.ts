import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import type { Tx } from '../kernel/db.js';
import { bit, fromJson, now, toJson } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import { jsonObject } from '../kernel/http.js';
import type { AgentRow } from '../users/presenter.js';
import { changeConversation, checkAttributeValues, parseSnoozedUntil, type ConversationChange, type Performer } from './changes.js';
import { assertAssignable, parseAssigneeId } from './service.js';
import { writeActivity } from './activity.js';
import { findContact, updateContact as updateContactRow } from '../contacts/repository.js';
import { findUserNames } from '../users/repository.js';
import * as repo from './repository.js';

/** Conversation state changes on an already authorized conversation. Each records its events in its transaction. */

const performerOf = (auth: AccountContext): Performer => ({ type: 'user', id: auth.user.id });

/** One conversation change in its own transaction (changeConversation of changes.ts). */
function mutate<T>(
  ctx: AppContext,
  conv: repo.ConversationRow,
  fn: (trx: Tx, current: repo.ConversationRow) => Promise<ConversationChange<T>>,
  performer: Performer,
) {
  return ctx.database.transaction((trx) => changeConversation(ctx, trx, conv.id, (current) => fn(trx, current), performer));
}

export function parseStatus(value: string): repo.ConversationStatus {
  if (!(repo.CONVERSATION_STATUSES as readonly string[]).includes(value)) {
    throw errors.invalid(`status must be one of ${repo.CONVERSATION_STATUSES.join(', ')}`, ['status']);
  }
  return value as repo.ConversationStatus;
}

/**
 * toggle_status: with `status` (and `snoozed_until` for snoozed) sets it; without, open → resolved and
 * anything else → open. When a conversation ends up open by an agent's hand, that agent becomes its assignee.
 */
export async function toggleStatus(ctx: AppContext, auth: AccountContext, conv: repo.ConversationRow, body: { status?: string; snoozed_until?: unknown }) {
  const requested = body.status ? parseStatus(body.status) : undefined;
  const snoozedUntil = parseSnoozedUntil(body.snoozed_until);
  const { conversation } = await mutate(
    ctx,
    conv,
    async (_trx, current) => {
      const next = requested ? repo.STATUS[requested] : current.status === repo.STATUS.open ? repo.STATUS.resolved : repo.STATUS.open;
      const patch: repo.ConversationPatch = {};
      if (next !== current.status) {
        patch.status = next;
        patch.status_changed_at = now();
      }
      const snooze = next === repo.STATUS.snoozed ? (snoozedUntil !== undefined ? snoozedUntil : current.snoozed_until) : null;
      if (snooze !== current.snoozed_until) patch.snoozed_until = snooze;
      if (next === repo.STATUS.open && !auth.isAdmin && current.assignee_id !== auth.user.id) patch.assignee_id = auth.user.id;
      return { patch, result: null };
    },
    performerOf(auth),
  );
  return conversation;
}

export function parsePriority(value: string | null | undefined): number | null {
  if (value == null || value === '' || value === 'none') return null;
  const i = (repo.PRIORITIES as readonly string[]).indexOf(value);
  if (i < 0) throw errors.invalid(`priority must be one of ${repo.PRIORITIES.join(', ')} (or null)`, ['priority']);
  return i;
}

/** toggle_priority and PATCH /conversations/:id (which accepts only priority). */
export async function setPriority(ctx: AppContext, auth: AccountContext, conv: repo.ConversationRow, value: string | null | undefined) {
  const priority = parsePriority(value);
  const { conversation } = await mutate(
    ctx,
    conv,
    async (_trx, current) => ({ patch: priority !== current.priority ? { priority } : {}, result: null }),
    performerOf(auth),
  );
  return conversation;
}

/** toggle_typing_status: records conversation.typing_on/off (no row changes). */
export async function toggleTyping(ctx: AppContext, auth: AccountContext, conv: repo.ConversationRow, body: { typing_status: string; is_private?: boolean }) {
  const status = body.typing_status?.toLowerCase();
  if (status !== 'on' && status !== 'off') throw errors.invalid('typing_status must be on or off', ['typing_status']);
  await ctx.database.transaction(async (trx) => {
    await ctx.events(trx, conv.account_id, status === 'on' ? 'conversation.typing_on' : 'conversation.typing_off', {
      conversation_id: conv.id,
      typist: { type: 'user', id: auth.user.id },
      is_private: !!body.is_private,
    });
  });
}

/** Assigns (or with null/0 unassigns) the conversation. Returns the new assignee, or null. */
export async function assign(ctx: AppContext, auth: AccountContext, conv: repo.ConversationRow, rawAssigneeId: unknown): Promise<AgentRow | null> {
  const assigneeId = parseAssigneeId(rawAssigneeId) ?? null;
  const agent = assigneeId ? await assertAssignable(ctx, auth.accountId, conv.inbox_id, assigneeId) : null;
  await mutate(
    ctx,
    conv,
    async (_trx, current) => ({ patch: current.assignee_id !== assigneeId ? { assignee_id: assigneeId } : {}, result: null }),
    performerOf(auth),
  );
  return agent;
}

export async function getLabels(ctx: AppContext, conv: repo.ConversationRow): Promise<string[]> {
  return (await repo.labelsOf(ctx.database.db, [conv.id])).get(conv.id) ?? [];
}

/** Replaces the whole label list (trimmed, de-duplicated, order kept). */
export async function setLabels(ctx: AppContext, auth: AccountContext, conv: repo.ConversationRow, labels: string[] | undefined): Promise<string[]> {
  const next = [...new Set((labels ?? []).map((l) => String(l).trim()).filter(Boolean))];
  await mutate(
    ctx,
    conv,
    async (trx, current) => {
      const before = (await repo.labelsOf(trx, [current.id])).get(current.id) ?? [];
      const same = before.length === next.length && before.every((l, i) => l === next[i]);
      if (!same) await repo.replaceLabels(trx, current.account_id, current.id, next);
      return { patch: same ? {} : { updated_at: now() }, labels: [before, next], result: null };
    },
    performerOf(auth),
  );
  return next;
}

/** Writes the conversation's custom attributes computed from the current ones (one change, its events). */
async function rewriteCustomAttributes(
  ctx: AppContext,
  auth: AccountContext,
  conv: repo.ConversationRow,
  next: (current: Record<string, unknown>) => Record<string, unknown>,
) {
  const { conversation } = await mutate(
    ctx,
    conv,
    async (_trx, current) => {
      const json = toJson(next(fromJson<Record<string, unknown>>(current.custom_attributes) ?? {}));
      return { patch: json !== current.custom_attributes ? { custom_attributes: json } : {}, result: null };
    },
    performerOf(auth),
  );
  return fromJson<Record<string, unknown>>(conversation.custom_attributes);
}

/**
 * POST …/custom_attributes, as the reference: the sent object replaces the custom attributes,
 * unless `merge` is true, when only the keys sent change and the others stay.
 */
export async function setCustomAttributes(ctx: AppContext, auth: AccountContext, conv: repo.ConversationRow, raw: unknown, merge = false) {
  const attrs = jsonObject(raw, 'custom_attributes') ?? {};
  checkAttributeValues(attrs, 'custom_attributes');
  return rewriteCustomAttributes(ctx, auth, conv, (current) => (merge ? { ...current, ...attrs } : attrs));
}

/** POST …/destroy_custom_attributes: removes these keys (unknown keys are ignored). */
export async function destroyCustomAttributes(ctx: AppContext, auth: AccountContext, conv: repo.ConversationRow, keys: string[]) {
  const drop = new Set(keys);
  return rewriteCustomAttributes(ctx, auth, conv, (current) => Object.fromEntries(Object.entries(current).filter(([k]) => !drop.has(k))));
}

/**
 * mute / unmute, with the reference's semantics: a conversation is muted while its contact is
 * blocked (`muted` in the conversation JSON). Muting resolves the conversation and blocks the
 * contact, so the contact's incoming messages no longer reopen any of their conversations and new
 * ones start resolved; unmuting unblocks the contact (the conversation stays as it is). Each real
 * change leaves its activity line ("Grace Hopper has muted the conversation") and records
 * `contact.updated` with the blocked change; muting what is already muted changes nothing.
 */
export async function setMuted(ctx: AppContext, auth: AccountContext, conv: repo.ConversationRow, muted: boolean) {
  const performer = performerOf(auth);
  return ctx.database.transaction(async (trx) => {
    const contact = await findContact(trx, conv.account_id, conv.contact_id);
    if (!contact) throw errors.notFound();
    const { conversation } = await changeConversation(
      ctx,
      trx,
      conv.id,
      async (current) => {
        const patch: repo.ConversationPatch = {};
        if (muted && current.status !== repo.STATUS.resolved) {
          patch.status = repo.STATUS.resolved;
          patch.status_changed_at = now();
          patch.snoozed_until = null;
        }
        // The mute line below is activity too: it moves last_activity_at like the others.
        if (!!contact.blocked !== muted) patch.last_activity_at = now();
        return { patch, result: null };
      },
      performer,
    );
    if (!!contact.blocked === muted) return conversation;
    await updateContactRow(trx, conv.account_id, contact.id, { blocked: bit(muted) });
    await ctx.events(trx, conv.account_id, 'contact.updated', {
      contact_id: contact.id,
      changed_attributes: [{ blocked: { previous_value: !muted, current_value: muted } }],
    });
    const name = (await findUserNames(trx, [auth.user.id]))[0]?.name ?? 'An agent';
    await writeActivity(ctx, trx, conversation, [`${name} has ${muted ? 'muted' : 'unmuted'} the conversation`], Number(conversation.last_activity_at));
    return conversation;
  });
}

/**
 * DELETE /conversations/:id (administrators): the conversation goes with its messages and labels
 * (foreign-key cascades) in one transaction. As in the reference no webhook fires; the recorded
 * `conversation.deleted` reaches only the inbox's agents on /cable (a ChannelX event), and events
 * already in the outbox for this conversation are skipped by the listeners once it is gone.
 */
export async function deleteConversation(ctx: AppContext, auth: AccountContext, displayId: number): Promise<void> {
  await ctx.database.transaction(async (trx) => {
    const gone = await repo.deleteConversationRow(trx, auth.accountId, displayId);
    if (!gone) throw errors.notFound();
    await ctx.events(trx, auth.accountId, 'conversation.deleted', {
      conversation_id: gone.id,
      display_id: gone.display_id,
      inbox_id: gone.inbox_id,
      performer: performerOf(auth),
    });
  });
}

/**
 * update_last_seen: the caller has read the conversation. agent_last_seen_at becomes now (and
 * assignee_last_seen_at when the caller is its assignee), so unread_count (incoming messages after
 * agent_last_seen_at) is 0. Only when something was unread do the agents hear of it
 * (`conversation.seen`, a socket-only event): opening a read conversation costs one row update.
 */
export async function markSeen(ctx: AppContext, auth: AccountContext, conv: repo.ConversationRow) {
  return ctx.database.transaction(async (trx) => {
    const t = now();
    const { before, conversation } = await changeConversation(
      ctx,
      trx,
      conv.id,
      async (current) => {
        const patch: repo.ConversationPatch = { agent_last_seen_at: t, unread_count: 0 };
        if (current.assignee_id != null && current.assignee_id === auth.user.id) patch.assignee_last_seen_at = t;
        return { patch, result: null };
      },
      performerOf(auth),
    );
    if (Number(before.unread_count) > 0) {
      await ctx.events(trx, conv.account_id, 'conversation.seen', { conversation_id: conv.id, performer: performerOf(auth), unread: false });
    }
    return conversation;
  });
}

/**
 * unread: marks the conversation unread again, as the reference does: agent_last_seen_at and
 * assignee_last_seen_at go to just before (1 ms) the latest incoming message, so that message is
 * unread; without incoming messages they become null (nothing to be unread).
 */
export async function markUnread(ctx: AppContext, auth: AccountContext, conv: repo.ConversationRow) {
  return ctx.database.transaction(async (trx) => {
    const last = await repo.lastIncomingAt(trx, conv.id);
    const seenAt = last == null ? null : last - 1;
    const { before, conversation } = await changeConversation(
      ctx,
      trx,
      conv.id,
      async () => ({ patch: { agent_last_seen_at: seenAt, assignee_last_seen_at: seenAt, unread_count: await repo.incomingSince(trx, conv.id, seenAt) }, result: null }),
      performerOf(auth),
    );
    if ((before.agent_last_seen_at == null ? null : Number(before.agent_last_seen_at)) !== seenAt) {
      await ctx.events(trx, conv.account_id, 'conversation.seen', { conversation_id: conv.id, performer: performerOf(auth), unread: true });
    }
    return conversation;
  });
}

import crypto from 'node:crypto';
import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import type { Tx } from '../kernel/db.js';
import { isUniqueViolation, now, toJson } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import { jsonObject } from '../kernel/http.js';
import { canAccessInbox, findInbox } from '../inboxes/repository.js';
import { findContact, findContactInboxBySource, findContactInboxesBySourceAnyInbox, type ContactInboxWithInbox } from '../contacts/repository.js';
import { accessibleInbox, buildContactInbox, contactsOnline } from '../contacts/service.js';
import { presenceOf } from '../users/service.js';
import type { ConversationViewer } from './presenters.js';
import { normalizeMessageInput, writeMessage, type NormalizedMessage } from '../messages/service.js';
import { INCOMING } from '../messages/format.js';
import { checkAttributeValues, parseSnoozedUntil, type Performer } from './changes.js';
import { findAssignableAgent } from './people.js';
import { assigneeForTeam, autoAssignee, parseTeamId, presentUsers, teamOfAccount } from '../teams/assignment.js';
import * as repo from './repository.js';
import { teamIdsOfUser } from '../teams/repository.js';
import type { ConversationCreateBody } from './schemas.js';

/**
 * Conversation creation and access. `openConversation` is actor-free (the client API opens
 * conversations for a contact session with it); `createConversation` is the Application API use case.
 */

/** The conversation by display_id: 404 when not in the account, 401 for an agent who is not a member of its inbox. */
export async function conversationFor(ctx: AppContext, auth: AccountContext, displayId: number): Promise<repo.ConversationWithChannel> {
  const conv = await repo.findConversation(ctx.database.db, auth.accountId, displayId);
  if (!conv) throw errors.notFound();
  if (!auth.isAdmin && !(await canAccessInbox(ctx.database.db, auth, conv.inbox_id))) throw errors.notAuthorized();
  return conv;
}

export type OpenConversationInput = {
  accountId: number;
  inbox: { id: number; lock_to_single_conversation: number };
  contactInbox: { id: number; contact_id: number };
  /** A blocked contact's conversation starts resolved. */
  contactBlocked?: boolean;
  status?: repo.ConversationStatus;
  snoozedUntil?: number | null;
  assigneeId?: number | null;
  teamId?: number | null;
  additionalAttributes?: Record<string, unknown>;
  customAttributes?: Record<string, unknown>;
  performer?: Performer;
};

/**
 * Opens a conversation for a contact session in the caller's transaction (display_id allocated
 * there) and records `conversation.created`. An inbox locked to a single conversation returns the
 * session's latest conversation instead (`created: false`).
 */
export async function openConversation(ctx: AppContext, trx: Tx, input: OpenConversationInput): Promise<{ conversation: repo.ConversationRow; created: boolean }> {
  if (input.inbox.lock_to_single_conversation) {
    const existing = await repo.latestConversationOf(trx, input.contactInbox.id);
    if (existing) return { conversation: existing, created: false };
  }
  const t = now();
  const status = input.contactBlocked ? repo.STATUS.resolved : repo.STATUS[input.status ?? 'open'];
  const conversation = await repo.insertConversation(trx, {
    account_id: input.accountId,
    display_id: await repo.allocateDisplayId(trx, input.accountId),
    uuid: crypto.randomUUID(),
    inbox_id: input.inbox.id,
    contact_id: input.contactInbox.contact_id,
    contact_inbox_id: input.contactInbox.id,
    assignee_id: input.assigneeId ?? null,
    team_id: input.teamId ?? null,
    status,
    priority: null,
    snoozed_until: status === repo.STATUS.snoozed ? (input.snoozedUntil ?? null) : null,
    status_changed_at: t,
    additional_attributes: toJson(input.additionalAttributes ?? {}),
    custom_attributes: toJson(input.customAttributes ?? {}),
    agent_last_seen_at: null,
    assignee_last_seen_at: null,
    contact_last_seen_at: null,
    first_reply_created_at: null,
    waiting_since: t,
    last_activity_at: t,
    unread_count: 0,
  });
  await ctx.events(trx, input.accountId, 'conversation.created', {
    conversation_id: conversation.id,
    ...(input.performer ? { performer: input.performer } : {}),
  });
  return { conversation, created: true };
}

/** Parses an assignee id: null/""/0 → null (unassigned); a number → that user id. */
export function parseAssigneeId(value: unknown): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '' || value === 0 || value === '0') return null;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 2_147_483_647) {
    throw errors.invalid('assignee_id must be a user id', ['assignee_id']);
  }
  return n;
}

/** 422 unless the user is an account member with access to the inbox. */
export async function assertAssignable(ctx: AppContext, accountId: number, inboxId: number, userId: number) {
  const agent = await findAssignableAgent(ctx.database.db, accountId, inboxId, userId);
  if (!agent) throw errors.invalid('Assignee must be an agent of this account with access to the inbox', ['assignee_id']);
  return agent;
}

/**
 * POST /conversations: in the session given by `source_id` (with `inbox_id` when the same source_id
 * exists in several inboxes), or in the session of `contact_id` in `inbox_id` (found or created,
 * a missing source_id generated). An optional first `message` is written in the same transaction.
 */
export async function createConversation(ctx: AppContext, auth: AccountContext, body: ConversationCreateBody): Promise<repo.ConversationRow> {
  const db = ctx.database.db;
  const additional = jsonObject(body.additional_attributes, 'additional_attributes');
  const custom = jsonObject(body.custom_attributes, 'custom_attributes');
  checkAttributeValues(additional, 'additional_attributes');
  checkAttributeValues(custom, 'custom_attributes');
  const snoozedUntil = parseSnoozedUntil(body.snoozed_until);
  let assigneeId = parseAssigneeId(body.assignee_id);
  const teamId = parseTeamId(body.team_id) ?? null;

  let contactInbox: ContactInboxWithInbox | undefined;
  let build: { contactId: number; inboxId: number } | undefined;
  if (body.inbox_id !== undefined && body.contact_id !== undefined) {
    const inbox = await accessibleInbox(ctx, auth, body.inbox_id);
    const contact = await findContact(db, auth.accountId, body.contact_id);
    if (!contact) throw errors.notFound();
    build = { contactId: contact.id, inboxId: inbox.id };
  } else if (body.source_id) {
    if (body.inbox_id !== undefined) {
      contactInbox = await findContactInboxBySource(db, auth.accountId, body.inbox_id, body.source_id);
    } else {
      const found = await findContactInboxesBySourceAnyInbox(db, auth.accountId, body.source_id);
      if (found.length > 1) throw errors.invalid('source_id is used in several inboxes; pass inbox_id too', ['inbox_id']);
      contactInbox = found[0];
    }
    if (!contactInbox) throw errors.notFound();
    if (!auth.isAdmin && !(await canAccessInbox(db, auth, contactInbox.inbox_id))) throw errors.notAuthorized();
  } else {
    throw errors.invalid('Pass source_id (a contact_inbox source_id), or inbox_id and contact_id', ['source_id']);
  }
  const inboxId = contactInbox?.inbox_id ?? build!.inboxId;
  const inbox = (await findInbox(db, auth.accountId, inboxId))!;
  if (assigneeId) await assertAssignable(ctx, auth.accountId, inboxId, assigneeId);
  // A team keeps an assignee who is one of its members only (as the reference); with allow_auto_assign it finds one online.
  if (teamId != null) {
    const team = await teamOfAccount(db, auth.accountId, teamId);
    assigneeId = (await assigneeForTeam(db, auth.accountId, team.id, assigneeId ?? null)) ?? (await autoAssignee(db, team, inboxId, await presentUsers(ctx, auth.accountId)));
  }
  const message: NormalizedMessage | undefined = body.message ? normalizeMessageInput(body.message, inbox.channel_type) : undefined;
  const performer: Performer = { type: 'user', id: auth.user.id };

  try {
    return await ctx.database.transaction(async (trx) => {
      const ci =
        contactInbox ??
        (await buildContactInbox(trx, {
          accountId: auth.accountId,
          contactId: build!.contactId,
          inboxId,
          sourceId: body.source_id,
          hmacVerified: body.hmac_verified,
        }));
      const contact = await findContact(trx, auth.accountId, ci.contact_id);
      const { conversation } = await openConversation(ctx, trx, {
        accountId: auth.accountId,
        inbox,
        contactInbox: ci,
        contactBlocked: !!contact?.blocked,
        status: body.status,
        snoozedUntil,
        assigneeId,
        teamId,
        additionalAttributes: additional,
        customAttributes: custom,
        performer,
      });
      if (message) {
        const sender = message.messageType === INCOMING ? { type: 'Contact' as const, id: ci.contact_id } : { type: 'User' as const, id: auth.user.id };
        await writeMessage(ctx, trx, conversation, message, sender, performer);
      }
      return (await repo.findConversationById(trx, conversation.id))!;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw errors.unprocessable('source_id should be unique');
    throw err;
  }
}

/** The caller's view of the account's conversations: who is on /cable now (every node's view of contacts with Redis), and the caller's teams. */
export async function conversationViewer(ctx: AppContext, auth: AccountContext): Promise<ConversationViewer> {
  const [contacts, teams] = await Promise.all([contactsOnline(ctx, auth.accountId), teamIdsOfUser(ctx.database.db, auth.accountId, auth.user.id)]);
  return { user: presenceOf(ctx), contacts, teams };
}

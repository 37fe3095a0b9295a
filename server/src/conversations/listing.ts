import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import { attributeKeysInUse } from '../kernel/json-repository.js';
import { errors } from '../kernel/errors.js';
import { visibleInboxIds } from '../inboxes/repository.js';
import { CONVERSATION_STATUSES, PRIORITIES, STATUS, type ConversationRow } from './repository.js';
import { assertKnownCustomAttributes, customKeysOf, parseFilter, type FilterCondition } from '../kernel/filter.js';
import {
  CONVERSATION_FILTER_SPEC,
  countFilteredConversations,
  pageOfFilteredConversations,
} from './filter-repository.js';
import { countConversations, openCountsByInbox, pageOfConversations, SORTS, type Counts, type InboxCountRow, type ListScope } from './listing-repository.js';
import type { ConversationListQuery } from './schemas.js';

/**
 * GET /conversations and /conversations/meta: filters (status, inbox_id, labels, q, source_id) and
 * visibility (agents: their inboxes), counts computed before the assignee_type filter, 25 per page.
 */

export const CONVERSATIONS_PER_PAGE = 25;
export type { Counts };

async function scopeOf(ctx: AppContext, auth: AccountContext, inboxIds?: number[] | null): Promise<ListScope> {
  const ids = inboxIds !== undefined ? inboxIds : auth.isAdmin ? null : await visibleInboxIds(ctx.database.db, auth);
  return { accountId: auth.accountId, userId: auth.user.id, inboxIds: ids };
}

export async function conversationCounts(ctx: AppContext, auth: AccountContext, q: ConversationListQuery, inboxIds?: number[] | null): Promise<Counts> {
  return countConversations(ctx.database.db, await scopeOf(ctx, auth, inboxIds), q);
}

export type ConversationPage = { rows: ConversationRow[]; counts: Counts; page: number; totalPages: number };

export async function listConversations(ctx: AppContext, auth: AccountContext, q: ConversationListQuery): Promise<ConversationPage> {
  const sortKey = (q.sort_by ?? 'last_activity_at_desc') as keyof typeof SORTS;
  if (!SORTS[sortKey]) throw errors.invalid(`sort_by must be one of ${Object.keys(SORTS).join(', ')}`, ['sort_by']);
  const scope = await scopeOf(ctx, auth);
  const counts = await countConversations(ctx.database.db, scope, q);
  const filtered =
    q.assignee_type === 'me'
      ? counts.mine_count
      : q.assignee_type === 'assigned'
        ? counts.assigned_count
        : q.assignee_type === 'unassigned'
          ? counts.unassigned_count
          : counts.all_count;
  const page = q.page ?? 1;
  const rows = await pageOfConversations(ctx.database.db, scope, q, sortKey, { limit: CONVERSATIONS_PER_PAGE, offset: (page - 1) * CONVERSATIONS_PER_PAGE });
  return { rows, counts, page, totalPages: Math.ceil(filtered / CONVERSATIONS_PER_PAGE) };
}

/**
 * GET /conversations/search: the list's filters with `q` required (422 when blank). As in the
 * reference, a search looks at every status unless `status` narrows it; 25 per page.
 */
export async function searchConversations(ctx: AppContext, auth: AccountContext, q: ConversationListQuery): Promise<ConversationPage> {
  if (!q.q?.trim()) throw errors.invalid('Specify search string with parameter q', ['q']);
  return listConversations(ctx, auth, { ...q, status: q.status ?? 'all' });
}

/**
 * POST /conversations/filter: the reference's filter payload over the conversations the caller may
 * see (the list's scope), 25 per page, latest activity first. Status and priority are named as in
 * the JSON (status `all` matches every status); ids must be integers; a custom attribute must be one
 * some conversation of the account has (the reference needs a definition for it). 422 otherwise.
 */
export async function filterConversations(ctx: AppContext, auth: AccountContext, body: unknown, page = 1): Promise<ConversationPage> {
  const conditions = parseFilter(body, CONVERSATION_FILTER_SPEC).map(namedValues);
  const { db, dialect } = ctx.database;
  const customKeys = customKeysOf(conditions);
  if (customKeys.length) {
    assertKnownCustomAttributes(conditions, await attributeKeysInUse(db, dialect, 'conversations', auth.accountId, customKeys), CONVERSATION_FILTER_SPEC);
  }
  const scope = await scopeOf(ctx, auth);
  const counts = await countFilteredConversations(db, dialect, scope, conditions);
  const rows = await pageOfFilteredConversations(db, dialect, scope, conditions, { limit: CONVERSATIONS_PER_PAGE, offset: (page - 1) * CONVERSATIONS_PER_PAGE });
  return { rows, counts, page, totalPages: Math.ceil(counts.all_count / CONVERSATIONS_PER_PAGE) };
}

/** Status and priority names become their stored numbers (`all` is every status); ids are whole numbers. */
function namedValues(c: FilterCondition): FilterCondition {
  if (c.custom) return c;
  if (c.attribute === 'status') {
    const names = c.values.map((v) => String(v).toLowerCase());
    if (names.includes('all')) return { ...c, values: Object.values(STATUS) };
    for (const n of names) {
      if (!(CONVERSATION_STATUSES as readonly string[]).includes(n)) throw errors.invalid(`Invalid value for status: ${n} (${CONVERSATION_STATUSES.join(', ')} or all)`, ['payload']);
    }
    return { ...c, values: names.map((n) => STATUS[n as keyof typeof STATUS]) };
  }
  if (c.attribute === 'priority') {
    const names = c.values.map((v) => String(v).toLowerCase());
    for (const n of names) {
      if (!(PRIORITIES as readonly string[]).includes(n)) throw errors.invalid(`Invalid value for priority: ${n} (${PRIORITIES.join(', ')})`, ['payload']);
    }
    return { ...c, values: names.map((n) => PRIORITIES.indexOf(n as (typeof PRIORITIES)[number])) };
  }
  if (c.type === 'number' && c.values.some((v) => !Number.isInteger(v) || Math.abs(Number(v)) > 2_147_483_647)) {
    throw errors.invalid(`Invalid value for ${c.attribute}: whole numbers expected`, ['payload']);
  }
  return c;
}

/**
 * `meta.inboxes` of /conversations/meta: every inbox the caller can see (administrators all of the
 * account's, agents their own), ordered by id, with its open and unread-open counts (zeros when none).
 */
export async function inboxCounts(ctx: AppContext, auth: AccountContext): Promise<InboxCountRow[]> {
  const db = ctx.database.db;
  const visible = await visibleInboxIds(db, auth);
  const rows = await openCountsByInbox(db, auth.accountId, auth.isAdmin ? null : visible);
  const byInbox = new Map(rows.map((r) => [r.inbox_id, r]));
  return [...visible].sort((a, b) => a - b).map((id) => byInbox.get(id) ?? { inbox_id: id, open_count: 0, unread_count: 0 });
}

import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import { errors } from '../kernel/errors.js';
import { visibleInboxIds } from '../inboxes/repository.js';
import type { ConversationRow } from './repository.js';
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

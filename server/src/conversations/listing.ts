import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import type { DB } from '../kernel/schema.js';
import { errors } from '../kernel/errors.js';
import { visibleInboxIds } from '../inboxes/repository.js';
import { escapeLike } from '../contacts/repository.js';
import { STATUS, type ConversationRow } from './repository.js';
import type { ConversationListQuery } from './schemas.js';

/**
 * GET /conversations and /conversations/meta: filters (status, inbox_id, labels, q, source_id) and
 * visibility (agents: their inboxes), counts computed before the assignee_type filter, 25 per page.
 */

export const CONVERSATIONS_PER_PAGE = 25;

export type Counts = { mine_count: number; assigned_count: number; unassigned_count: number; all_count: number };

const SORTS = {
  last_activity_at_desc: [['last_activity_at', 'desc']],
  last_activity_at_asc: [['last_activity_at', 'asc']],
  created_at_desc: [['created_at', 'desc']],
  created_at_asc: [['created_at', 'asc']],
  priority_desc: [['priority_nulls', 'asc'], ['priority', 'desc'], ['last_activity_at', 'desc']],
  priority_asc: [['priority_nulls', 'asc'], ['priority', 'asc'], ['last_activity_at', 'desc']],
  waiting_since_asc: [['waiting_nulls', 'asc'], ['waiting_since', 'asc']],
  waiting_since_desc: [['waiting_nulls', 'asc'], ['waiting_since', 'desc']],
} as const;

type Eb = ExpressionBuilder<DB, 'conversations'>;

function filters(eb: Eb, accountId: number, inboxIds: number[] | null, q: ConversationListQuery): Expression<SqlBool> {
  const c: Expression<SqlBool>[] = [eb('conversations.account_id', '=', accountId)];
  if (inboxIds) c.push(inboxIds.length ? eb('conversations.inbox_id', 'in', inboxIds) : sql<SqlBool>`1 = 0`);
  const status = q.status ?? 'open';
  if (status !== 'all') c.push(eb('conversations.status', '=', STATUS[status]));
  if (q.inbox_id !== undefined) c.push(eb('conversations.inbox_id', '=', q.inbox_id));
  /** Keeps conversations that have a related row matching `rows` (a subquery already joined to the conversation). */
  const whereExists = (rows: Parameters<Eb['exists']>[0]) => c.push(eb.exists(rows));
  const labels = (q.labels ?? []).map((l) => l.trim()).filter(Boolean);
  if (labels.length) {
    whereExists(
      eb
        .selectFrom('conversation_labels')
        .select('conversation_labels.id')
        .whereRef('conversation_labels.conversation_id', '=', 'conversations.id')
        .where('conversation_labels.label', 'in', labels),
    );
  }
  if (q.q?.trim()) {
    const pattern = `%${escapeLike(q.q.trim().toLowerCase())}%`;
    whereExists(
      eb
        .selectFrom('messages')
        .select('messages.id')
        .whereRef('messages.conversation_id', '=', 'conversations.id')
        .where('messages.message_type', 'in', [0, 1])
        .where(sql<SqlBool>`lower(messages.content) like ${pattern} escape '\\'`),
    );
  }
  if (q.source_id) {
    whereExists(
      eb
        .selectFrom('contact_inboxes')
        .select('contact_inboxes.id')
        .whereRef('contact_inboxes.id', '=', 'conversations.contact_inbox_id')
        .where('contact_inboxes.source_id', '=', q.source_id),
    );
  }
  return eb.and(c);
}

function assigneeFilter(eb: Eb, type: ConversationListQuery['assignee_type'], userId: number): Expression<SqlBool> | null {
  switch (type) {
    case 'me':
      return eb('conversations.assignee_id', '=', userId);
    case 'unassigned':
      return eb('conversations.assignee_id', 'is', null);
    case 'assigned':
      return eb('conversations.assignee_id', 'is not', null);
    default:
      return null;
  }
}

async function visibility(ctx: AppContext, auth: AccountContext): Promise<number[] | null> {
  return auth.isAdmin ? null : visibleInboxIds(ctx.database.db, auth);
}

export async function conversationCounts(ctx: AppContext, auth: AccountContext, q: ConversationListQuery, inboxIds?: number[] | null): Promise<Counts> {
  const ids = inboxIds === undefined ? await visibility(ctx, auth) : inboxIds;
  const row = await ctx.database.db
    .selectFrom('conversations')
    .where((eb) => filters(eb, auth.accountId, ids, q))
    .select([
      sql<number>`count(*)`.as('all_count'),
      sql<number>`coalesce(sum(case when assignee_id = ${auth.user.id} then 1 else 0 end), 0)`.as('mine_count'),
      sql<number>`coalesce(sum(case when assignee_id is null then 1 else 0 end), 0)`.as('unassigned_count'),
      sql<number>`coalesce(sum(case when assignee_id is not null then 1 else 0 end), 0)`.as('assigned_count'),
    ])
    .executeTakeFirst();
  return {
    mine_count: Number(row?.mine_count ?? 0),
    assigned_count: Number(row?.assigned_count ?? 0),
    unassigned_count: Number(row?.unassigned_count ?? 0),
    all_count: Number(row?.all_count ?? 0),
  };
}

export type ConversationPage = { rows: ConversationRow[]; counts: Counts; page: number; totalPages: number };

export async function listConversations(ctx: AppContext, auth: AccountContext, q: ConversationListQuery): Promise<ConversationPage> {
  const sortKey = (q.sort_by ?? 'last_activity_at_desc') as keyof typeof SORTS;
  if (!SORTS[sortKey]) throw errors.invalid(`sort_by must be one of ${Object.keys(SORTS).join(', ')}`, ['sort_by']);
  const ids = await visibility(ctx, auth);
  const counts = await conversationCounts(ctx, auth, q, ids);
  const filtered =
    q.assignee_type === 'me'
      ? counts.mine_count
      : q.assignee_type === 'assigned'
        ? counts.assigned_count
        : q.assignee_type === 'unassigned'
          ? counts.unassigned_count
          : counts.all_count;
  const page = q.page ?? 1;
  let query = ctx.database.db
    .selectFrom('conversations')
    .selectAll()
    .select([
      sql<number>`case when priority is null then 1 else 0 end`.as('priority_nulls'),
      sql<number>`case when waiting_since is null then 1 else 0 end`.as('waiting_nulls'),
    ])
    .where((eb) => {
      const base = filters(eb, auth.accountId, ids, q);
      const a = assigneeFilter(eb, q.assignee_type, auth.user.id);
      return a ? eb.and([base, a]) : base;
    });
  for (const [col, dir] of SORTS[sortKey]) query = query.orderBy(sql.ref(col), dir);
  const rows = await query
    .orderBy('conversations.id', 'desc')
    .limit(CONVERSATIONS_PER_PAGE)
    .offset((page - 1) * CONVERSATIONS_PER_PAGE)
    .execute();
  const clean = rows.map(({ priority_nulls: _p, waiting_nulls: _w, ...r }) => r as ConversationRow);
  return { rows: clean, counts, page, totalPages: Math.ceil(filtered / CONVERSATIONS_PER_PAGE) };
}

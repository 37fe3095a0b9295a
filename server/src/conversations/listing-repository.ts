import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Executor } from '../kernel/db.js';
import type { DB } from '../kernel/schema.js';
import { MESSAGE_TYPE } from '../kernel/constants.js';
import { escapeLike } from '../kernel/json-repository.js';
import { STATUS, type ConversationRow } from './repository.js';
import type { ConversationListQuery } from './schemas.js';

/**
 * The conversation list's queries: filters (status, inbox_id, labels, q, source_id), visibility
 * (`inboxIds`: null for all of the account's inboxes), counts per assignee type and a sorted page.
 */

export type Counts = { mine_count: number; assigned_count: number; unassigned_count: number; all_count: number };
export type ListScope = { accountId: number; userId: number; inboxIds: number[] | null };

export const SORTS = {
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
  if (q.team_id !== undefined) c.push(eb('conversations.team_id', '=', q.team_id));
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
    const like = (col: string) => sql<SqlBool>`lower(${sql.ref(col)}) like ${pattern} escape '\\'`;
    // The contact is one primary-key lookup per candidate; the messages walk the conversation's index.
    c.push(
      eb.or([
        eb.exists(
          eb
            .selectFrom('contacts')
            .select('contacts.id')
            .whereRef('contacts.id', '=', 'conversations.contact_id')
            .where((ceb) => ceb.or([like('contacts.name'), like('contacts.email'), like('contacts.phone_number')])),
        ),
        eb.exists(
          eb
            .selectFrom('messages')
            .select('messages.id')
            .whereRef('messages.conversation_id', '=', 'conversations.id')
            .where('messages.message_type', 'in', [MESSAGE_TYPE.incoming, MESSAGE_TYPE.outgoing])
            .where(like('messages.content')),
        ),
      ]),
    );
  }
  if (q.conversation_type === 'unattended') {
    // The reference's unattended scope: never replied to, or waiting since the last reply.
    c.push(eb.or([eb('conversations.first_reply_created_at', 'is', null), eb('conversations.waiting_since', 'is not', null)]));
  } else if (q.conversation_type) {
    // mention / participating: no mentions or participants exist in ChannelX, so nothing matches.
    c.push(sql<SqlBool>`1 = 0`);
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

export async function countConversations(db: Executor, scope: ListScope, q: ConversationListQuery): Promise<Counts> {
  const row = await db
    .selectFrom('conversations')
    .where((eb) => filters(eb, scope.accountId, scope.inboxIds, q))
    .select([
      sql<number>`count(*)`.as('all_count'),
      sql<number>`coalesce(sum(case when assignee_id = ${scope.userId} then 1 else 0 end), 0)`.as('mine_count'),
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

export async function pageOfConversations(
  db: Executor,
  scope: ListScope,
  q: ConversationListQuery,
  sortKey: keyof typeof SORTS,
  page: { limit: number; offset: number },
): Promise<ConversationRow[]> {
  let query = db
    .selectFrom('conversations')
    .selectAll()
    .select([
      sql<number>`case when priority is null then 1 else 0 end`.as('priority_nulls'),
      sql<number>`case when waiting_since is null then 1 else 0 end`.as('waiting_nulls'),
    ])
    .where((eb) => {
      const base = filters(eb, scope.accountId, scope.inboxIds, q);
      const a = assigneeFilter(eb, q.assignee_type, scope.userId);
      return a ? eb.and([base, a]) : base;
    });
  for (const [col, dir] of SORTS[sortKey]) query = query.orderBy(sql.ref(col), dir);
  const rows = await query.orderBy('conversations.id', 'desc').limit(page.limit).offset(page.offset).execute();
  return rows.map(({ priority_nulls: _p, waiting_nulls: _w, ...r }) => r as ConversationRow);
}

/** Open conversations per inbox, and how many of them have an incoming message after agent_last_seen_at. */
export type InboxCountRow = { inbox_id: number; open_count: number; unread_count: number };

/**
 * One grouped query over the account's open conversations (the listing index: account_id, status),
 * in the given inboxes (null: all). A conversation is unread when its unread counter (incoming
 * messages after agent_last_seen_at) is above 0.
 */
export async function openCountsByInbox(db: Executor, accountId: number, inboxIds: number[] | null): Promise<InboxCountRow[]> {
  if (inboxIds && !inboxIds.length) return [];
  let q = db
    .selectFrom('conversations')
    .select([
      'conversations.inbox_id',
      sql<number>`count(*)`.as('open_count'),
      sql<number>`coalesce(sum(case when conversations.unread_count > 0 then 1 else 0 end), 0)`.as('unread_count'),
    ])
    .where('conversations.account_id', '=', accountId)
    .where('conversations.status', '=', STATUS.open);
  if (inboxIds) q = q.where('conversations.inbox_id', 'in', inboxIds);
  const rows = await q.groupBy('conversations.inbox_id').execute();
  return rows.map((r) => ({ inbox_id: Number(r.inbox_id), open_count: Number(r.open_count), unread_count: Number(r.unread_count) }));
}

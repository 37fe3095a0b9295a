import { sql, type Selectable } from 'kysely';
import type { Database, Executor } from '../kernel/db.js';
import { now, precompiled } from '../kernel/db.js';
import type { ConversationsTable } from '../kernel/schema.js';
import { CONVERSATION_STATUS, CONVERSATION_STATUS_NAMES, FLAG, MESSAGE_TYPE } from '../kernel/constants.js';

/** Every query on conversations and their labels; each one is scoped by account. */

export type ConversationRow = Selectable<ConversationsTable>;
/** A conversation with the type of its inbox's channel (checked by message writes). */
export type ConversationWithChannel = ConversationRow & { channel_type: string };

export const CONVERSATION_STATUSES = CONVERSATION_STATUS_NAMES;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
export const STATUS = CONVERSATION_STATUS;
export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const statusName = (n: number): ConversationStatus => CONVERSATION_STATUSES[n] ?? 'open';
export const priorityName = (n: number | null): Priority | null => (n == null ? null : (PRIORITIES[n] ?? null));

function withChannel(db: Executor) {
  return db
    .selectFrom('conversations')
    .innerJoin('inboxes', 'inboxes.id', 'conversations.inbox_id')
    .selectAll('conversations')
    .select('inboxes.channel_type');
}

// Read by every request on a conversation's path, and by every message write: compiled once.
const byDisplayId = precompiled<[number, number], ConversationWithChannel>((db, arg) =>
  withChannel(db).where('conversations.account_id', '=', arg(0)).where('conversations.display_id', '=', arg(1)),
);
const lockSqlite = precompiled<[number], ConversationRow>((db, arg) => db.selectFrom('conversations').selectAll().where('id', '=', arg(0)));
const lockPg = precompiled<[number], ConversationRow>((db, arg) => db.selectFrom('conversations').selectAll().where('id', '=', arg(0)).forUpdate());

/** A conversation by its per-account display_id (the id of every path and JSON). */
export async function findConversation(db: Executor, accountId: number, displayId: number): Promise<ConversationWithChannel | undefined> {
  return byDisplayId.first(db, accountId, displayId);
}

/** Internal lookup by primary key (loaders work from event payloads). */
export async function findConversationById(db: Executor, id: number): Promise<ConversationWithChannel | undefined> {
  return withChannel(db).where('conversations.id', '=', id).executeTakeFirst();
}

/** Reads the row for a read-modify-write inside a transaction: FOR UPDATE on PostgreSQL (SQLite serialises write transactions). */
export async function lockConversation(db: Executor, dialect: Database['dialect'], id: number): Promise<ConversationRow | undefined> {
  return (dialect === 'postgres' ? lockPg : lockSqlite).first(db, id);
}

/**
 * Allocates the next display_id of the account inside the caller's transaction. The row update
 * serialises concurrent creations per account on both dialects.
 */
export async function allocateDisplayId(db: Executor, accountId: number): Promise<number> {
  const row = await db
    .updateTable('accounts')
    .set((eb) => ({ last_display_id: eb('last_display_id', '+', 1) }))
    .where('id', '=', accountId)
    .returning('last_display_id')
    .executeTakeFirstOrThrow();
  return Number(row.last_display_id);
}

export type NewConversation = Omit<ConversationRow, 'id' | 'created_at' | 'updated_at'>;

export async function insertConversation(db: Executor, values: NewConversation): Promise<ConversationRow> {
  const t = now();
  return db
    .insertInto('conversations')
    .values({ ...values, created_at: t, updated_at: t })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export type ConversationPatch = Partial<Omit<ConversationRow, 'id' | 'account_id' | 'display_id' | 'uuid' | 'created_at'>>;

// One compiled update per set of patched columns (a message write patches the same few every time).
const updates = new Map<string, ReturnType<typeof precompiled<unknown[], ConversationRow>>>();

export async function updateConversation(db: Executor, id: number, patch: ConversationPatch): Promise<ConversationRow> {
  const values: Record<string, unknown> = { updated_at: now(), ...patch };
  const columns = Object.keys(values).filter((k) => values[k] !== undefined);
  const key = columns.join(',');
  let q = updates.get(key);
  if (!q) {
    q = precompiled<unknown[], ConversationRow>((d, arg) =>
      d
        .updateTable('conversations')
        .set(Object.fromEntries(columns.map((c, i) => [c, arg(i)])) as never)
        .where('id', '=', arg(columns.length))
        .returningAll(),
    );
    if (updates.size < 256) updates.set(key, q);
  }
  const row = await q.first(db, ...columns.map((c) => values[c]), id);
  if (!row) throw new Error(`conversation ${id} not found for update`);
  return row;
}

/** Deletes the conversation by display_id; its messages and labels go with it (ON DELETE CASCADE). */
/** Deletes the conversation (its messages cascade); what it was, or undefined when there was none. */
export async function deleteConversationRow(db: Executor, accountId: number, displayId: number) {
  return db
    .deleteFrom('conversations')
    .where('account_id', '=', accountId)
    .where('display_id', '=', displayId)
    .returning(['id', 'display_id', 'inbox_id'])
    .executeTakeFirst();
}

/** The latest conversation of a contact session (inboxes locked to a single conversation reuse it). */
export async function latestConversationOf(db: Executor, contactInboxId: number): Promise<ConversationRow | undefined> {
  return db
    .selectFrom('conversations')
    .selectAll()
    .where('contact_inbox_id', '=', contactInboxId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The contact's 20 most recent conversations in the given inboxes. */
export async function conversationsOfContact(db: Executor, accountId: number, contactId: number, inboxIds: number[]): Promise<ConversationRow[]> {
  if (!inboxIds.length) return [];
  return db
    .selectFrom('conversations')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('contact_id', '=', contactId)
    .where('inbox_id', 'in', inboxIds)
    .orderBy('last_activity_at', 'desc')
    .orderBy('id', 'desc')
    .limit(20)
    .execute();
}

/* ---------------- labels ---------------- */

export async function labelsOf(db: Executor, conversationIds: number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (!conversationIds.length) return out;
  const rows = await db
    .selectFrom('conversation_labels')
    .select(['conversation_id', 'label'])
    .where('conversation_id', 'in', [...new Set(conversationIds)])
    .orderBy('id')
    .execute();
  for (const r of rows) {
    const list = out.get(r.conversation_id) ?? [];
    list.push(r.label);
    out.set(r.conversation_id, list);
  }
  return out;
}

export async function replaceLabels(db: Executor, accountId: number, conversationId: number, labels: string[]): Promise<void> {
  await db.deleteFrom('conversation_labels').where('conversation_id', '=', conversationId).execute();
  if (!labels.length) return;
  await db
    .insertInto('conversation_labels')
    .values(labels.map((label) => ({ conversation_id: conversationId, account_id: accountId, label })))
    .execute();
}

/* ---------------- message summaries ---------------- */

export type MessageSummary = {
  conversation_id: number;
  last_id: number | null;
  last_non_activity_id: number | null;
  last_chat_id: number | null;
  last_incoming_at: number | null;
};

/**
 * Per conversation: the last message, last non-activity message, last public chat message and last
 * incoming time. Correlated "latest row" subqueries walk the (conversation_id, id) index backwards,
 * so the cost does not grow with the conversation's length.
 */
export async function messageSummaries(db: Executor, conversationIds: number[]): Promise<Map<number, MessageSummary>> {
  const out = new Map<number, MessageSummary>();
  if (!conversationIds.length) return out;
  const latest = (column: 'id' | 'created_at', where: ReturnType<typeof sql>) =>
    sql<number | null>`(select m.${sql.ref(column)} from messages m where m.conversation_id = conversations.id ${where} order by m.id desc limit 1)`;
  const rows = await db
    .selectFrom('conversations')
    .select([
      'conversations.id as conversation_id',
      latest('id', sql``).as('last_id'),
      latest('id', sql`and m.message_type <> ${sql.lit(MESSAGE_TYPE.activity)}`).as('last_non_activity_id'),
      latest('id', sql`and m.message_type <> ${sql.lit(MESSAGE_TYPE.activity)} and m.private = ${sql.lit(FLAG.off)}`).as('last_chat_id'),
      latest('created_at', sql`and m.message_type = ${sql.lit(MESSAGE_TYPE.incoming)}`).as('last_incoming_at'),
    ])
    .where('conversations.id', 'in', [...new Set(conversationIds)])
    .execute();
  const n = (v: number | null) => (v == null ? null : Number(v));
  for (const r of rows) {
    if (r.last_id == null) continue;
    out.set(r.conversation_id, {
      conversation_id: r.conversation_id,
      last_id: n(r.last_id),
      last_non_activity_id: n(r.last_non_activity_id),
      last_chat_id: n(r.last_chat_id),
      last_incoming_at: n(r.last_incoming_at),
    });
  }
  return out;
}

/** When the conversation's latest incoming message was created (epoch ms), or null without one. */
export async function lastIncomingAt(db: Executor, conversationId: number): Promise<number | null> {
  const row = await db
    .selectFrom('messages')
    .select('created_at')
    .where('conversation_id', '=', conversationId)
    .where('message_type', '=', MESSAGE_TYPE.incoming)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? Number(row.created_at) : null;
}

/** Unread counts stop at this number, so reading them stays cheap however long a conversation is. */
export const UNREAD_COUNT_CAP = 1000;

/**
 * Incoming messages newer than the agents' last visit, per conversation (capped at UNREAD_COUNT_CAP):
 * the counter the writes keep (migration 0008), so reading it costs nothing beyond the row.
 */
export function unreadCounts(conversations: Pick<ConversationRow, 'id' | 'unread_count'>[]): Map<number, number> {
  return new Map(conversations.map((c) => [c.id, Math.min(Number(c.unread_count ?? 0), UNREAD_COUNT_CAP)]));
}

/** How many incoming messages of the conversation are newer than `seenAt` (null: all), for markUnread. */
export async function incomingSince(db: Executor, conversationId: number, seenAt: number | null): Promise<number> {
  const row = await db
    .selectFrom(
      db
        .selectFrom('messages')
        .select(sql.lit(1).as('one'))
        .where('conversation_id', '=', conversationId)
        .where('message_type', '=', MESSAGE_TYPE.incoming)
        .where('created_at', '>', seenAt ?? 0)
        .limit(UNREAD_COUNT_CAP)
        .as('unread'),
    )
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * The snooze worker's sweep (every account: a system job): ids of snoozed conversations whose
 * snoozed_until has passed, oldest first. Each is then changed under its own row lock.
 */
export async function dueSnoozedConversationIds(db: Executor, at: number, limit: number): Promise<number[]> {
  const rows = await db
    .selectFrom('conversations')
    .select('id')
    .where('status', '=', STATUS.snoozed)
    .where('snoozed_until', 'is not', null)
    .where('snoozed_until', '<=', at)
    .orderBy('snoozed_until')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

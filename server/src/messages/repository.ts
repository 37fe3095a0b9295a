import type { Executor } from '../kernel/db.js';
import { now, precompiled } from '../kernel/db.js';
import type { MessageRow } from './format.js';
import { FLAG, MESSAGE_STATUS, MESSAGE_TYPE } from '../kernel/constants.js';

/** Every query on messages; each is scoped by account or by a conversation already scoped by account. */

export async function findMessage(db: Executor, accountId: number, conversationId: number, id: number): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('conversation_id', '=', conversationId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Internal lookup by id (loaders work from event payloads). */
export async function findMessageById(db: Executor, id: number): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The incoming message already ingested with this source_id in this inbox (idempotent ingestion). */
export async function findIncomingBySource(db: Executor, inboxId: number, sourceId: string): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('inbox_id', '=', inboxId)
    .where('source_id', '=', sourceId)
    .where('message_type', '=', MESSAGE_TYPE.incoming)
    .executeTakeFirst();
}

export type NewMessage = Omit<MessageRow, 'id' | 'created_at' | 'updated_at'>;

const MESSAGE_COLUMNS = [
  'account_id',
  'inbox_id',
  'conversation_id',
  'content',
  'message_type',
  'content_type',
  'content_attributes',
  'additional_attributes',
  'private',
  'status',
  'source_id',
  'sender_type',
  'sender_id',
  'echo_id',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof MessageRow)[];

// The hot path of every message write: compiled once (src/kernel/db.ts precompiled).
const insertMessageQuery = precompiled<unknown[], MessageRow>((db, arg) =>
  db
    .insertInto('messages')
    .values(Object.fromEntries(MESSAGE_COLUMNS.map((c, i) => [c, arg(i)])) as never)
    .returningAll(),
);

export async function insertMessage(db: Executor, values: NewMessage, at = now()): Promise<MessageRow> {
  const row: MessageRow = { ...values, id: 0, created_at: at, updated_at: at };
  const inserted = await insertMessageQuery.first(db, ...MESSAGE_COLUMNS.map((c) => row[c]));
  if (!inserted) throw new Error('message insert returned no row');
  return inserted;
}

export type MessagePatch = Partial<Pick<MessageRow, 'content' | 'content_attributes' | 'status'>>;

export async function updateMessage(db: Executor, id: number, patch: MessagePatch): Promise<MessageRow> {
  return db
    .updateTable('messages')
    .set({ ...patch, updated_at: now() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A failed message back to sent with new content_attributes; undefined when it is no longer failed (a concurrent retry won). */
export async function retryFailedMessage(db: Executor, id: number, contentAttributes: string): Promise<MessageRow | undefined> {
  return db
    .updateTable('messages')
    .set({ status: MESSAGE_STATUS.sent, content_attributes: contentAttributes, updated_at: now() })
    .where('id', '=', id)
    .where('status', '=', MESSAGE_STATUS.failed)
    .returningAll()
    .executeTakeFirst();
}

export type MessagePage = { before?: number; after?: number; filterInternal?: boolean };

/**
 * A page of a conversation's messages, oldest first, paged by id as the reference does: the latest
 * 20; `before` → the 20 before; `after` → up to 100 after; both → up to 1000 in [after, before).
 */
export async function listMessages(db: Executor, conversationId: number, page: MessagePage): Promise<MessageRow[]> {
  let q = db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId);
  if (page.filterInternal) q = q.where('private', '=', FLAG.off).where('message_type', '!=', MESSAGE_TYPE.activity);
  if (page.after !== undefined && page.before !== undefined) {
    return q.where('id', '>=', page.after).where('id', '<', page.before).orderBy('id', 'asc').limit(1000).execute();
  }
  if (page.after !== undefined) return q.where('id', '>', page.after).orderBy('id', 'asc').limit(100).execute();
  if (page.before !== undefined) q = q.where('id', '<', page.before);
  const rows = await q.orderBy('id', 'desc').limit(20).execute();
  return rows.reverse();
}

/** Messages of the account by id. */
export async function findMessagesByIds(db: Executor, accountId: number, ids: number[]): Promise<MessageRow[]> {
  if (!ids.length) return [];
  return db.selectFrom('messages').selectAll().where('account_id', '=', accountId).where('id', 'in', [...new Set(ids)]).execute();
}

import { sql, type Selectable, type SqlBool } from 'kysely';
import type { Executor } from '../kernel/db.js';
import { now } from '../kernel/db.js';
import { CONVERSATION_STATUS } from '../kernel/constants.js';
import type { LabelsTable } from '../kernel/schema.js';

/** Every query on account labels (and on the label titles conversations and contacts carry); each one is scoped by account. */

export type LabelRow = Selectable<LabelsTable>;
export type LabelFields = Pick<LabelRow, 'title' | 'description' | 'color' | 'show_on_sidebar'>;

export async function listLabels(db: Executor, accountId: number): Promise<LabelRow[]> {
  return db.selectFrom('labels').selectAll().where('account_id', '=', accountId).orderBy('title').orderBy('id').execute();
}

export async function findLabel(db: Executor, accountId: number, id: number): Promise<LabelRow | undefined> {
  return db.selectFrom('labels').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export async function labelTitleTaken(db: Executor, accountId: number, title: string, exceptId?: number): Promise<boolean> {
  let q = db.selectFrom('labels').select('id').where('account_id', '=', accountId).where('title', '=', title);
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  return !!(await q.executeTakeFirst());
}

export async function insertLabel(db: Executor, accountId: number, values: LabelFields): Promise<LabelRow> {
  const t = now();
  return db
    .insertInto('labels')
    .values({ ...values, account_id: accountId, created_at: t, updated_at: t })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateLabelRow(db: Executor, accountId: number, id: number, patch: Partial<LabelFields>): Promise<LabelRow | undefined> {
  return db
    .updateTable('labels')
    .set({ ...patch, updated_at: now() })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteLabelRow(db: Executor, accountId: number, id: number): Promise<boolean> {
  const res = await db.deleteFrom('labels').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/**
 * A renamed label follows on the conversations and contacts that carry its old title (exact
 * title). A record that already carries the new title keeps one row of it.
 */
export async function renameLabelOnRecords(db: Executor, accountId: number, from: string, to: string): Promise<void> {
  if (from === to) return;
  await db
    .deleteFrom('conversation_labels')
    .where('account_id', '=', accountId)
    .where('label', '=', from)
    .where('conversation_id', 'in', (eb) => eb.selectFrom('conversation_labels as other').select('other.conversation_id').where('other.account_id', '=', accountId).where('other.label', '=', to))
    .execute();
  await db.updateTable('conversation_labels').set({ label: to }).where('account_id', '=', accountId).where('label', '=', from).execute();
  await db
    .deleteFrom('contact_labels')
    .where('account_id', '=', accountId)
    .where('label', '=', from)
    .where('contact_id', 'in', (eb) => eb.selectFrom('contact_labels as other').select('other.contact_id').where('other.account_id', '=', accountId).where('other.label', '=', to))
    .execute();
  await db.updateTable('contact_labels').set({ label: to }).where('account_id', '=', accountId).where('label', '=', from).execute();
}

export type LabelCountRow = { id: number; title: string; open_count: number; unread_count: number };

/**
 * Per account label (by title), its open conversations in the given inboxes (null: all of the
 * account's) and how many of them are unread (latest incoming message after agent_last_seen_at).
 * A conversation's label matches a title whatever its case. One grouped query.
 */
export async function openCountsByLabel(db: Executor, accountId: number, inboxIds: number[] | null): Promise<LabelCountRow[]> {
  const rows = await db
    .selectFrom('labels as l')
    .leftJoin('conversation_labels as cl', (j) => j.onRef('cl.account_id', '=', 'l.account_id').on(sql<SqlBool>`lower(cl.label) = l.title`))
    .leftJoin('conversations as c', (j) => {
      let on = j.onRef('c.id', '=', 'cl.conversation_id').on('c.account_id', '=', accountId).on('c.status', '=', CONVERSATION_STATUS.open);
      if (inboxIds) on = inboxIds.length ? on.on('c.inbox_id', 'in', inboxIds) : on.on(sql<SqlBool>`1 = 0`);
      return on;
    })
    .select([
      'l.id',
      'l.title',
      sql<number>`count(distinct c.id)`.as('open_count'),
      sql<number>`count(distinct case when c.unread_count > 0 then c.id end)`.as('unread_count'),
    ])
    .where('l.account_id', '=', accountId)
    .groupBy(['l.id', 'l.title'])
    .orderBy('l.title')
    .execute();
  return rows.map((r) => ({ id: Number(r.id), title: r.title, open_count: Number(r.open_count), unread_count: Number(r.unread_count) }));
}

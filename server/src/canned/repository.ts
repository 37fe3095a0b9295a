import { sql, type Selectable } from 'kysely';
import type { Executor } from '../kernel/db.js';
import { now } from '../kernel/db.js';
import type { CannedResponsesTable } from '../kernel/schema.js';
import { escapeLike } from '../kernel/json-repository.js';

/** Every query on canned responses; each one is scoped by account. */

export type CannedRow = Selectable<CannedResponsesTable>;
export type CannedFields = Pick<CannedRow, 'short_code' | 'content'>;

/** At most this many canned responses per list (an account's whole set, in practice). */
export const CANNED_LIST_LIMIT = 1000;

/**
 * The account's canned responses by id; with `search`, those whose short_code or content contains
 * it (case-insensitive), short_code prefix matches first, then short_code matches, then content.
 */
export async function listCanned(db: Executor, accountId: number, search?: string): Promise<CannedRow[]> {
  let q = db.selectFrom('canned_responses').selectAll().where('account_id', '=', accountId);
  if (search) {
    const needle = escapeLike(search.toLowerCase());
    const contains = `%${needle}%`;
    const prefix = `${needle}%`;
    const like = (col: 'short_code' | 'content', pattern: string) => sql<boolean>`lower(${sql.ref(col)}) like ${pattern} escape '\\'`;
    q = q
      .where((eb) => eb.or([like('short_code', contains), like('content', contains)]))
      .orderBy(sql`case when ${like('short_code', prefix)} then 0 when ${like('short_code', contains)} then 1 else 2 end`);
  }
  return q.orderBy('id').limit(CANNED_LIST_LIMIT).execute();
}

export async function findCanned(db: Executor, accountId: number, id: number): Promise<CannedRow | undefined> {
  return db.selectFrom('canned_responses').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

export async function shortCodeTaken(db: Executor, accountId: number, shortCode: string, exceptId?: number): Promise<boolean> {
  let q = db.selectFrom('canned_responses').select('id').where('account_id', '=', accountId).where('short_code', '=', shortCode);
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  return !!(await q.executeTakeFirst());
}

export async function insertCanned(db: Executor, accountId: number, values: CannedFields): Promise<CannedRow> {
  const t = now();
  return db
    .insertInto('canned_responses')
    .values({ ...values, account_id: accountId, created_at: t, updated_at: t })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateCannedRow(db: Executor, accountId: number, id: number, patch: Partial<CannedFields>): Promise<CannedRow | undefined> {
  return db
    .updateTable('canned_responses')
    .set({ ...patch, updated_at: now() })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteCannedRow(db: Executor, accountId: number, id: number): Promise<boolean> {
  const res = await db.deleteFrom('canned_responses').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

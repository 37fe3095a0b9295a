import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import { bit, isUniqueViolation } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import { visibleInboxIds } from '../inboxes/repository.js';
import * as repo from './repository.js';
import { DEFAULT_LABEL_COLOR, LABEL_COLOR, LABEL_TITLE, type LabelBody } from './schemas.js';

/**
 * Account labels. Every member reads them; the routes let only administrators change them. As in
 * the reference, a title is letters, digits, "-" and "_", stored lowercased and unique per account;
 * conversations and contacts keep carrying label titles as strings: renaming a label renames it on
 * them (in the same transaction), deleting one leaves the titles they carry.
 */

type LabelInput = { title?: string; description?: string | null; color?: string; show_on_sidebar?: boolean };
const inputOf = (body: LabelBody): LabelInput => body.label ?? body;

function fields(input: LabelInput, creating: boolean): Partial<repo.LabelFields> {
  const out: Partial<repo.LabelFields> = {};
  if (input.title !== undefined || creating) {
    const title = (input.title ?? '').trim().toLowerCase();
    if (!title) throw errors.invalid("Title can't be blank", ['title']);
    if (!LABEL_TITLE.test(title)) throw errors.invalid('Title is invalid: only letters, digits, "-" and "_" (no spaces)', ['title']);
    out.title = title;
  }
  if (input.description !== undefined) out.description = input.description === '' ? null : input.description;
  else if (creating) out.description = null;
  if (input.color !== undefined) {
    const color = input.color.trim();
    if (!LABEL_COLOR.test(color)) throw errors.invalid('Color is invalid: #RRGGBB', ['color']);
    out.color = color.toLowerCase();
  } else if (creating) out.color = DEFAULT_LABEL_COLOR;
  if (input.show_on_sidebar !== undefined) out.show_on_sidebar = bit(input.show_on_sidebar);
  else if (creating) out.show_on_sidebar = bit(false);
  return out;
}

const titleTaken = () => errors.invalid('Title has already been taken', ['title']);

async function uniqueTitle<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw isUniqueViolation(err) ? titleTaken() : err;
  }
}

export async function listLabels(ctx: AppContext, auth: AccountContext) {
  return repo.listLabels(ctx.database.db, auth.accountId);
}

export async function getLabel(ctx: AppContext, auth: AccountContext, id: number) {
  const label = await repo.findLabel(ctx.database.db, auth.accountId, id);
  if (!label) throw errors.notFound();
  return label;
}

export async function createLabel(ctx: AppContext, auth: AccountContext, body: LabelBody) {
  const values = fields(inputOf(body), true) as repo.LabelFields;
  return uniqueTitle(
    ctx.database.transaction(async (trx) => {
      if (await repo.labelTitleTaken(trx, auth.accountId, values.title)) throw titleTaken();
      return repo.insertLabel(trx, auth.accountId, values);
    }),
  );
}

export async function updateLabel(ctx: AppContext, auth: AccountContext, id: number, body: LabelBody) {
  const patch = fields(inputOf(body), false);
  return uniqueTitle(
    ctx.database.transaction(async (trx) => {
      const before = await repo.findLabel(trx, auth.accountId, id);
      if (!before) throw errors.notFound();
      if (patch.title !== undefined && (await repo.labelTitleTaken(trx, auth.accountId, patch.title, id))) throw titleTaken();
      const label = await repo.updateLabelRow(trx, auth.accountId, id, patch);
      if (!label) throw errors.notFound();
      if (label.title !== before.title) await repo.renameLabelOnRecords(trx, auth.accountId, before.title, label.title);
      return label;
    }),
  );
}

export async function deleteLabel(ctx: AppContext, auth: AccountContext, id: number): Promise<void> {
  await ctx.database.transaction(async (trx) => {
    if (!(await repo.deleteLabelRow(trx, auth.accountId, id))) throw errors.notFound();
  });
}

/**
 * `meta.labels` of /conversations/meta: every account label with its open and unread-open
 * conversations among those the caller can see (administrators: the account's, agents: their inboxes').
 */
export async function labelCounts(ctx: AppContext, auth: AccountContext): Promise<repo.LabelCountRow[]> {
  const db = ctx.database.db;
  return repo.openCountsByLabel(db, auth.accountId, auth.isAdmin ? null : await visibleInboxIds(db, auth));
}

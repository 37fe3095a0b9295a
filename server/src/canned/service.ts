import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import { isUniqueViolation } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import * as repo from './repository.js';
import type { CannedBody } from './schemas.js';

/**
 * Canned responses (what an agent inserts by typing "/short_code" in the composer). As in the
 * reference, every member lists and creates them; the routes let only administrators change or
 * delete them. short_code is unique per account (as typed: "Hi" and "hi" are two).
 */

type CannedInput = { short_code?: string; content?: string };
const inputOf = (body: CannedBody): CannedInput => body.canned_response ?? body;

function fields(input: CannedInput, creating: boolean): Partial<repo.CannedFields> {
  const out: Partial<repo.CannedFields> = {};
  if (input.short_code !== undefined || creating) {
    const code = (input.short_code ?? '').trim();
    if (!code) throw errors.invalid("Short code can't be blank", ['short_code']);
    out.short_code = code;
  }
  if (input.content !== undefined || creating) {
    const content = input.content ?? '';
    if (!content.trim()) throw errors.invalid("Content can't be blank", ['content']);
    out.content = content;
  }
  return out;
}

const taken = () => errors.invalid('Short code has already been taken', ['short_code']);

async function uniqueShortCode<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw isUniqueViolation(err) ? taken() : err;
  }
}

export async function listCanned(ctx: AppContext, auth: AccountContext, search?: string) {
  const s = search?.trim();
  return repo.listCanned(ctx.database.db, auth.accountId, s || undefined);
}

export async function createCanned(ctx: AppContext, auth: AccountContext, body: CannedBody) {
  const values = fields(inputOf(body), true) as repo.CannedFields;
  return uniqueShortCode(
    ctx.database.transaction(async (trx) => {
      if (await repo.shortCodeTaken(trx, auth.accountId, values.short_code)) throw taken();
      return repo.insertCanned(trx, auth.accountId, values);
    }),
  );
}

export async function updateCanned(ctx: AppContext, auth: AccountContext, id: number, body: CannedBody) {
  const patch = fields(inputOf(body), false);
  return uniqueShortCode(
    ctx.database.transaction(async (trx) => {
      if (!(await repo.findCanned(trx, auth.accountId, id))) throw errors.notFound();
      if (patch.short_code !== undefined && (await repo.shortCodeTaken(trx, auth.accountId, patch.short_code, id))) throw taken();
      const row = await repo.updateCannedRow(trx, auth.accountId, id, patch);
      if (!row) throw errors.notFound();
      return row;
    }),
  );
}

export async function deleteCanned(ctx: AppContext, auth: AccountContext, id: number): Promise<void> {
  await ctx.database.transaction(async (trx) => {
    if (!(await repo.deleteCannedRow(trx, auth.accountId, id))) throw errors.notFound();
  });
}

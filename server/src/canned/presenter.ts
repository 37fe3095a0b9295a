import type { CannedRow } from './repository.js';

/** Canned response JSON (`_canned_response`). */

const iso = (ms: number) => new Date(Number(ms)).toISOString();

/** `{id, account_id, short_code, content, created_at, updated_at}` (times in ISO 8601, as the reference). */
export function presentCanned(c: CannedRow) {
  return { id: c.id, account_id: c.account_id, short_code: c.short_code, content: c.content, created_at: iso(c.created_at), updated_at: iso(c.updated_at) };
}

export const presentCannedList = (rows: CannedRow[]) => rows.map(presentCanned);

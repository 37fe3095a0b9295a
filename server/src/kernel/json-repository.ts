import { sql } from 'kysely';
import type { Dialect, Executor } from './db.js';

/**
 * SQL expressions over one key of a JSON attributes column (`custom_attributes`,
 * `additional_attributes`), the same on both dialects; used by the contact and conversation
 * filters and sorts. Keys are checked against ATTRIBUTE_KEY before they reach SQLite's JSON path.
 */

/** Custom and additional attribute keys the filters accept. */
export const ATTRIBUTE_KEY = /^[A-Za-z0-9_-]{1,64}$/;

/** A `table.column` holding a JSON object. */
export type JsonColumn = `${string}.${string}`;

/** SQLite's JSON path of a top-level key (only keys that pass ATTRIBUTE_KEY). */
export const jsonPath = (key: string) => {
  if (!ATTRIBUTE_KEY.test(key)) throw new Error(`attribute key not allowed: ${key}`);
  return `$."${key}"`;
};

/** The attribute as text (a string value, or a number/boolean's text), null when absent or null. */
export function jsonText(dialect: Dialect, column: JsonColumn, key: string) {
  return dialect === 'postgres'
    ? sql<string | null>`(${sql.ref(column)}::jsonb ->> ${key}::text)`
    : sql<string | null>`(case when json_type(${sql.ref(column)}, ${jsonPath(key)}) in ('true', 'false') then json_type(${sql.ref(column)}, ${jsonPath(key)}) else cast(json_extract(${sql.ref(column)}, ${jsonPath(key)}) as text) end)`;
}

/** The attribute as a number when it is a JSON number, otherwise null (never a cast error). */
export function jsonNumber(dialect: Dialect, column: JsonColumn, key: string) {
  return dialect === 'postgres'
    ? sql<number | null>`(case when jsonb_typeof(${sql.ref(column)}::jsonb -> ${key}::text) = 'number' then (${sql.ref(column)}::jsonb ->> ${key}::text)::numeric end)`
    : sql<number | null>`(case when json_type(${sql.ref(column)}, ${jsonPath(key)}) in ('integer', 'real') then json_extract(${sql.ref(column)}, ${jsonPath(key)}) end)`;
}

/** 'true' / 'false' when the attribute is a JSON boolean, otherwise null. */
export function jsonBoolean(dialect: Dialect, column: JsonColumn, key: string) {
  return dialect === 'postgres'
    ? sql<string | null>`(case when jsonb_typeof(${sql.ref(column)}::jsonb -> ${key}::text) = 'boolean' then ${sql.ref(column)}::jsonb ->> ${key}::text end)`
    : sql<string | null>`(case when json_type(${sql.ref(column)}, ${jsonPath(key)}) in ('true', 'false') then json_type(${sql.ref(column)}, ${jsonPath(key)}) end)`;
}

/**
 * The custom attribute keys among `keys` that at least one row of `table` in the account has
 * (the account's "defined" custom attributes: there is no definitions table).
 */
export async function attributeKeysInUse(db: Executor, dialect: Dialect, table: 'contacts' | 'conversations', accountId: number, keys: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  const column = `${table}.custom_attributes` as const;
  for (const key of keys.filter((k) => ATTRIBUTE_KEY.test(k))) {
    const present = dialect === 'postgres' ? sql`(${sql.ref(column)}::jsonb ? ${key}::text)` : sql`(json_type(${sql.ref(column)}, ${jsonPath(key)}) is not null)`;
    const hit = await sql`select 1 as hit from ${sql.table(table)} where ${sql.ref(`${table}.account_id`)} = ${accountId} and ${present} limit 1`.execute(db);
    if (hit.rows.length) found.add(key);
  }
  return found;
}

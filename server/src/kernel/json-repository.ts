import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
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

/** `%`, `_` and `\` taken literally in a LIKE pattern (with `escape '\'`). */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The reference's filter operators on a text operand, already lowercased like `values` (both
 * filters compare case-insensitively). `equality: 'first'` compares equal_to / not_equal_to with
 * the first value only (contacts, as the reference), `'any'` with every value (conversations).
 * "Not equal" and "does not contain" also hold where the attribute is missing.
 */
export function textFilterExpression(
  eb: ExpressionBuilder<any, any>,
  operand: Expression<string | null>,
  operator: string,
  values: string[],
  equality: 'first' | 'any',
): Expression<SqlBool> {
  const like = (pattern: string) => sql<SqlBool>`${operand} like ${pattern} escape '\\'`;
  const notLike = (pattern: string) => sql<SqlBool>`${operand} not like ${pattern} escape '\\'`;
  switch (operator) {
    case 'equal_to':
      return equality === 'first' ? eb(operand, '=', values[0]) : eb(operand, 'in', values);
    case 'not_equal_to':
      return eb.or([equality === 'first' ? eb(operand, '!=', values[0]) : eb(operand, 'not in', values), eb(operand, 'is', null)]);
    case 'contains':
      return eb.or(values.map((v) => like(`%${escapeLike(v)}%`)));
    case 'does_not_contain':
      return eb.or([eb(operand, 'is', null), eb.and(values.map((v) => notLike(`%${escapeLike(v)}%`)))]);
    case 'starts_with':
      return like(`${escapeLike(values[0])}%`);
    case 'is_present':
      return eb.and([eb(operand, 'is not', null), eb(operand, '!=', '')]);
    case 'is_not_present':
      return eb.or([eb(operand, 'is', null), eb(operand, '=', '')]);
    case 'is_greater_than':
      return eb(operand, '>', values[0]);
    case 'is_less_than':
      return eb(operand, '<', values[0]);
    default:
      return sql<SqlBool>`1 = 0`;
  }
}

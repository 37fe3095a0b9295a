import { Type, type Static } from 'typebox';
import { errors } from './errors.js';
import { assertJsonLimits } from './json-limits.js';

/**
 * The reference's filter payload (`POST /contacts/filter`, `POST /conversations/filter`), parsed and
 * validated once for every resource:
 *
 *   {payload: [{attribute_key, filter_operator, values, query_operator, custom_attribute_type?}, …]}
 *
 * Each resource supplies its attribute map (`FilterSpec`: the standard attributes, their data type and
 * the operators each allows, as the reference's lib/filters/filter_keys.yml lists them) and turns the
 * typed conditions into its own where clauses in its repository (`combineConditions` gives the
 * reference's precedence). Nothing here runs a query.
 *
 * Rules (the reference's, with its 500s and silent no-ops turned into 422s):
 * - `payload` is a non-empty array of at most MAX_FILTER_CONDITIONS conditions; each has at most
 *   MAX_FILTER_VALUES values, strings of at most MAX_FILTER_VALUE_CHARS.
 * - An unknown `attribute_key` is a 422 naming the allowed keys, unless the spec accepts it as a custom
 *   attribute (then the condition has `custom: true`, and the resource checks the key exists).
 * - An operator the attribute does not allow is a 422 naming the allowed operators; custom
 *   attributes allow every operator.
 * - Every operator but is_present / is_not_present needs at least one value.
 * - `query_operator` joins a condition to the next one: `and` / `or` (any case); null or absent on
 *   the last. A missing one between two conditions means `and`. AND binds tighter than OR, as in the
 *   SQL the reference builds: `a AND b OR c` is `(a AND b) OR c`.
 * - Dates compare by UTC day, as the reference's `::date` casts do: `is_greater_than 2024-05-01`
 *   means from 2024-05-02 00:00 UTC on, `is_less_than 2024-05-01` before 2024-05-01 00:00 UTC, and
 *   `days_before N` before the start of the day N days ago.
 */

export const FILTER_OPERATORS = [
  'equal_to',
  'not_equal_to',
  'contains',
  'does_not_contain',
  'starts_with',
  'is_present',
  'is_not_present',
  'is_greater_than',
  'is_less_than',
  'days_before',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/**
 * How an attribute's values are read:
 * - text: strings (numbers are taken as their text); resources compare case-insensitively;
 * - number: finite numbers ("12" is 12);
 * - boolean: true / false ("true" / "false" too);
 * - date: ISO 8601 dates or date-times (or unix seconds), compared by UTC day;
 * - labels: label titles (strings).
 */
export type FilterDataType = 'text' | 'number' | 'boolean' | 'date' | 'labels';

export type FilterAttribute = { type: FilterDataType; operators: readonly FilterOperator[] };

export type FilterSpec = {
  /** What the error messages call the resource: "contacts", "conversations". */
  resource: string;
  standard: Readonly<Record<string, FilterAttribute>>;
  /**
   * Keys outside `standard` accepted as custom attributes (`custom_attributes ->> key`), or absent to
   * accept none. Custom attributes allow every operator; their type is read from the values.
   */
  custom?: { keyPattern: RegExp };
};

export type FilterValue = string | number | boolean;

export type FilterCondition = {
  attribute: string;
  custom: boolean;
  /** The standard attribute's type; for a custom one, read from its first value (text, number or boolean; date for days_before). */
  type: FilterDataType;
  operator: FilterOperator;
  /** Converted to the type: strings for text/labels (trimmed), numbers, booleans; for dates see `before`/`from`. */
  values: FilterValue[];
  /**
   * Date comparisons as a half-open bound in unix milliseconds (UTC day boundaries):
   * is_greater_than → `from` (column >= from); is_less_than and days_before → `before` (column < before).
   */
  from?: number;
  before?: number;
  /** How this condition joins the next one; null on the last. */
  next: 'and' | 'or' | null;
};

export const MAX_FILTER_CONDITIONS = 50;
export const MAX_FILTER_VALUES = 100;
export const MAX_FILTER_VALUE_CHARS = 255;
const MAX_DAYS = 100_000;
const DAY_MS = 86_400_000;

/**
 * The request body both filter routes declare (for the OpenAPI document and the client). It is kept
 * loose on purpose (values may be one scalar instead of a list, extra keys such as attribute_model are
 * accepted): `parseFilter` gives the precise 422s.
 */
export const FilterBody = Type.Object(
  {
    payload: Type.Array(
      Type.Object(
        {
          attribute_key: Type.String({ maxLength: 255, description: 'A standard attribute, or a custom attribute key' }),
          filter_operator: Type.String({ maxLength: 64, description: FILTER_OPERATORS.join(' | ') }),
          // Items are left untyped: the schema's type coercion would turn 5 into "5" (or "12" into 12);
          // parseFilter converts each value to the attribute's type.
          values: Type.Optional(
            Type.Union([Type.Array(Type.Unknown({ description: 'string | number | boolean' }), { maxItems: MAX_FILTER_VALUES }), Type.Null()], {
              description: 'The values to compare with (one value may be sent alone); none for is_present / is_not_present',
            }),
          ),
          query_operator: Type.Optional(Type.Union([Type.String({ maxLength: 8, description: 'AND | OR, joining this condition to the next; null on the last' }), Type.Null()])),
          custom_attribute_type: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
        },
        { additionalProperties: true },
      ),
      { maxItems: MAX_FILTER_CONDITIONS, description: 'Conditions, in order; AND binds tighter than OR' },
    ),
  },
  { additionalProperties: true },
);
export type FilterBody = Static<typeof FilterBody>;

const bad = (message: string, attribute = 'payload') => errors.invalid(message, [attribute]);

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Parses and validates the filter body against the resource's spec; every problem is a 422 `{message, attributes}`. */
export function parseFilter(body: unknown, spec: FilterSpec, now = Date.now()): FilterCondition[] {
  assertJsonLimits(body, 'body');
  const payload = isObject(body) ? body.payload : undefined;
  if (!Array.isArray(payload) || payload.length === 0) {
    throw bad('payload must be a non-empty array of conditions {attribute_key, filter_operator, values, query_operator}');
  }
  if (payload.length > MAX_FILTER_CONDITIONS) throw bad(`payload has too many conditions (at most ${MAX_FILTER_CONDITIONS})`);
  return payload.map((raw, i) => parseCondition(raw, i, i === payload.length - 1, spec, now));
}

function parseCondition(raw: unknown, i: number, last: boolean, spec: FilterSpec, now: number): FilterCondition {
  const at = `payload.${i}`;
  if (!isObject(raw)) throw bad(`${at} must be an object {attribute_key, filter_operator, values, query_operator}`);
  const key = typeof raw.attribute_key === 'string' ? raw.attribute_key.trim() : '';
  if (!key) throw bad(`${at}.attribute_key is required`);
  const standard = Object.hasOwn(spec.standard, key) ? spec.standard[key] : undefined;
  const custom = !standard && !!spec.custom && key.length <= 64 && spec.custom.keyPattern.test(key);
  if (!standard && !custom) {
    throw bad(`Invalid attribute key - [${clip(key)}]. Allowed keys for ${spec.resource}: ${Object.keys(spec.standard).join(', ')}${spec.custom ? ', or a custom attribute' : ''}`);
  }

  const operator = raw.filter_operator;
  if (typeof operator !== 'string' || !(FILTER_OPERATORS as readonly string[]).includes(operator)) {
    throw bad(`Invalid operator for ${clip(key)}${typeof operator === 'string' ? ` - [${clip(operator)}]` : ''}. Allowed operators: ${(standard?.operators ?? FILTER_OPERATORS).join(', ')}`);
  }
  const op = operator as FilterOperator;
  if (standard && !standard.operators.includes(op)) {
    throw bad(`Invalid operator for ${key} - [${op}]. Allowed operators: ${standard.operators.join(', ')}`);
  }

  const rawValues = raw.values === undefined || raw.values === null ? [] : Array.isArray(raw.values) ? raw.values : [raw.values];
  if (rawValues.length > MAX_FILTER_VALUES) throw bad(`${at}.values has too many values (at most ${MAX_FILTER_VALUES})`);
  const presence = op === 'is_present' || op === 'is_not_present';
  if (!presence && rawValues.every((v) => v === null || v === undefined || (typeof v === 'string' && v.trim() === ''))) {
    throw bad(`Invalid value for ${key}: ${op} needs at least one value`);
  }

  const next = joinOf(raw.query_operator, at, last);
  const type: FilterDataType = standard ? standard.type : op === 'days_before' ? 'date' : customType(rawValues);
  const cond: FilterCondition = { attribute: key, custom, type, operator: op, values: [], next };
  if (presence) return cond;

  const values = rawValues.filter((v) => v !== null && v !== undefined && !(typeof v === 'string' && v.trim() === ''));
  if (type === 'date') {
    if (op === 'days_before') {
      const days = toNumber(values[0]);
      if (days === null || !Number.isInteger(days) || days < 0 || days > MAX_DAYS) {
        throw bad(`Invalid value for ${key}: days_before takes a whole number of days (0 to ${MAX_DAYS})`);
      }
      cond.values = [days];
      cond.before = startOfUtcDay(now) - days * DAY_MS;
    } else if (op === 'is_greater_than' || op === 'is_less_than') {
      const ms = toDateMs(values[0]);
      if (ms === null) throw bad(`Invalid value for ${key}: ${op} takes a date (YYYY-MM-DD or an ISO 8601 date-time)`);
      cond.values = [new Date(startOfUtcDay(ms)).toISOString().slice(0, 10)];
      if (op === 'is_greater_than') cond.from = startOfUtcDay(ms) + DAY_MS;
      else cond.before = startOfUtcDay(ms);
    } else {
      throw bad(`Invalid operator for ${key} - [${op}]. Allowed operators: is_greater_than, is_less_than, days_before`);
    }
    return cond;
  }
  cond.values = values.map((v) => convert(v, type, key));
  return cond;
}

function joinOf(value: unknown, at: string, last: boolean): 'and' | 'or' | null {
  if (value === undefined || value === null || value === '') return last ? null : 'and';
  const v = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (v !== 'and' && v !== 'or') throw bad(`${at}.query_operator must be AND or OR`);
  return last ? null : v;
}

/** A custom attribute's type, from its first value: number, boolean or text. */
function customType(values: unknown[]): FilterDataType {
  const v = values.find((x) => x !== null && x !== undefined);
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'boolean';
  return 'text';
}

function convert(v: unknown, type: FilterDataType, key: string): FilterValue {
  if (type === 'number') {
    const n = toNumber(v);
    if (n === null) throw bad(`Invalid value for ${key}: numbers expected`);
    return n;
  }
  if (type === 'boolean') {
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    throw bad(`Invalid value for ${key}: true or false expected`);
  }
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
    const s = String(v).trim();
    if (s.length > MAX_FILTER_VALUE_CHARS) throw bad(`Invalid value for ${key}: at most ${MAX_FILTER_VALUE_CHARS} characters`);
    return s;
  }
  throw bad(`Invalid value for ${key}: strings expected`);
}

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v.trim());
  return null;
}

/** ISO 8601 date or date-time, or unix seconds. */
function toDateMs(v: unknown): number | null {
  if (typeof v === 'number' || (typeof v === 'string' && /^\d{1,12}$/.test(v.trim()))) {
    const n = Number(v);
    return Number.isFinite(n) && n >= 0 ? n * 1000 : null;
  }
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v.trim())) return null;
  const ms = Date.parse(v.trim());
  return Number.isFinite(ms) ? ms : null;
}

const startOfUtcDay = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;

const clip = (s: string) => (s.length > 64 ? `${s.slice(0, 64)}…` : s);

/**
 * The conditions as an OR of AND groups (AND binds tighter), each turned into an expression by the
 * resource: `combineConditions(conds, toExpr, (xs) => eb.and(xs), (xs) => eb.or(xs))`.
 */
export function combineConditions<E>(conditions: FilterCondition[], toExpr: (c: FilterCondition) => E, and: (xs: E[]) => E, or: (xs: E[]) => E): E {
  const groups: FilterCondition[][] = [[]];
  for (const c of conditions) {
    groups[groups.length - 1].push(c);
    if (c.next === 'or') groups.push([]);
  }
  const exprs = groups.filter((g) => g.length).map((g) => (g.length === 1 ? toExpr(g[0]) : and(g.map(toExpr))));
  return exprs.length === 1 ? exprs[0] : or(exprs);
}

/** 422 when a custom attribute key is not one the resource knows (`known`: the keys it found in the account). */
export function assertKnownCustomAttributes(conditions: FilterCondition[], known: ReadonlySet<string>, spec: FilterSpec) {
  for (const c of conditions) {
    if (c.custom && !known.has(c.attribute)) {
      throw bad(`Invalid attribute key - [${clip(c.attribute)}]. Allowed keys for ${spec.resource}: ${Object.keys(spec.standard).join(', ')}, or a custom attribute set on one of them`);
    }
  }
}

/** The custom attribute keys the conditions use (for the resource to look up). */
export const customKeysOf = (conditions: FilterCondition[]) => [...new Set(conditions.filter((c) => c.custom).map((c) => c.attribute))];

import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Dialect, Executor } from '../kernel/db.js';
import { combineConditions, type FilterCondition, type FilterSpec } from '../kernel/filter.js';
import { ATTRIBUTE_KEY, jsonBoolean, jsonNumber, jsonText, textFilterExpression } from '../kernel/json-repository.js';
import type { DB } from '../kernel/schema.js';
import { ordered, type ContactRow, type ContactSort } from './repository.js';

/* ---------------- filter (POST /contacts/filter) ---------------- */

/**
 * The reference's contact filter keys (lib/filters/filter_keys.yml, `contacts`), with their types
 * and operators. country_code, city and company live in additional_attributes.
 */
export const CONTACT_FILTER_SPEC: FilterSpec = {
  resource: 'contacts',
  standard: {
    name: { type: 'text', operators: ['equal_to', 'not_equal_to', 'contains', 'does_not_contain'] },
    phone_number: { type: 'text', operators: ['equal_to', 'not_equal_to', 'contains', 'does_not_contain', 'starts_with'] },
    email: { type: 'text', operators: ['equal_to', 'not_equal_to', 'contains', 'does_not_contain'] },
    identifier: { type: 'text', operators: ['equal_to', 'not_equal_to'] },
    country_code: { type: 'text', operators: ['equal_to', 'not_equal_to'] },
    city: { type: 'text', operators: ['equal_to', 'not_equal_to', 'contains', 'does_not_contain'] },
    company: { type: 'text', operators: ['equal_to', 'not_equal_to', 'contains', 'does_not_contain'] },
    labels: { type: 'labels', operators: ['equal_to', 'not_equal_to', 'is_present', 'is_not_present'] },
    created_at: { type: 'date', operators: ['is_greater_than', 'is_less_than', 'days_before'] },
    last_activity_at: { type: 'date', operators: ['is_greater_than', 'is_less_than', 'days_before'] },
    blocked: { type: 'boolean', operators: ['equal_to', 'not_equal_to'] },
  },
  custom: { keyPattern: ATTRIBUTE_KEY },
};

const COLUMN_KEYS = { name: 'contacts.name', phone_number: 'contacts.phone_number', email: 'contacts.email', identifier: 'contacts.identifier' } as const;

/** The text an attribute is compared on, lowercased (the reference compares LOWER(column) with lowercased values). */
function textOperand(dialect: Dialect, c: FilterCondition): Expression<string | null> {
  if (c.custom) return sql<string | null>`lower(${jsonText(dialect, 'contacts.custom_attributes', c.attribute)})`;
  if (c.attribute in COLUMN_KEYS) return sql<string | null>`lower(${sql.ref(COLUMN_KEYS[c.attribute as keyof typeof COLUMN_KEYS])})`;
  // `company`: the dashboard stores company_name; a bare `company` key (what the reference's filter reads) is honoured too.
  if (c.attribute === 'company') {
    return sql<string | null>`lower(coalesce(${jsonText(dialect, 'contacts.additional_attributes', 'company_name')}, ${jsonText(dialect, 'contacts.additional_attributes', 'company')}))`;
  }
  return sql<string | null>`lower(${jsonText(dialect, 'contacts.additional_attributes', c.attribute)})`;
}

const lowerValues = (c: FilterCondition) =>
  c.values.map((v) => {
    const s = String(v).toLowerCase();
    // The reference prefixes phone numbers with "+" (clients send them without); one already there is kept.
    return c.attribute === 'phone_number' && !c.custom && !s.startsWith('+') && (c.operator === 'equal_to' || c.operator === 'not_equal_to') ? `+${s}` : s;
  });

function conditionExpression(eb: ExpressionBuilder<DB, 'contacts'>, dialect: Dialect, accountId: number, c: FilterCondition): Expression<SqlBool> {
  const op = c.operator;
  if (c.type === 'labels') {
    const tagged = (values?: string[]) => {
      let q = eb.selectFrom('contact_labels').select('contact_labels.id').whereRef('contact_labels.contact_id', '=', 'contacts.id').where('contact_labels.account_id', '=', accountId);
      if (values) q = q.where('contact_labels.label', 'in', values);
      return eb.exists(q);
    };
    const values = c.values.map(String);
    if (op === 'equal_to') return tagged(values);
    if (op === 'not_equal_to') return eb.not(tagged(values));
    if (op === 'is_present') return tagged();
    return eb.not(tagged());
  }
  if (c.type === 'date') {
    const col = c.custom ? null : sql.ref(`contacts.${c.attribute}`);
    if (col) {
      if (c.from !== undefined) return eb(col as any, '>=', c.from);
      return eb(col as any, '<', c.before!);
    }
    // A custom attribute holding a date: ISO strings compare as text, day by day.
    const day = new Date(c.from ?? c.before!).toISOString().slice(0, 10);
    const text = jsonText(dialect, 'contacts.custom_attributes', c.attribute);
    return c.from !== undefined ? eb(text, '>=', day) : eb(text, '<', day);
  }
  if (c.type === 'boolean') {
    const operand = c.custom ? jsonBoolean(dialect, 'contacts.custom_attributes', c.attribute) : sql<string>`(case when contacts.blocked = 1 then 'true' else 'false' end)`;
    if (op === 'is_present') return eb(operand, 'is not', null);
    if (op === 'is_not_present') return eb(operand, 'is', null);
    const want = String(c.values[0]);
    return op === 'not_equal_to' ? eb.or([eb(operand, '!=', want), eb(operand, 'is', null)]) : eb(operand, '=', want);
  }
  if (c.type === 'number') {
    const operand = jsonNumber(dialect, 'contacts.custom_attributes', c.attribute);
    const n = Number(c.values[0]);
    if (op === 'is_present') return eb(operand, 'is not', null);
    if (op === 'is_not_present') return eb(operand, 'is', null);
    if (op === 'is_greater_than') return eb(operand, '>', n);
    if (op === 'is_less_than') return eb(operand, '<', n);
    if (op === 'not_equal_to') return eb.or([eb(operand, 'not in', c.values.map(Number)), eb(operand, 'is', null)]);
    if (op === 'equal_to') return eb(operand, 'in', c.values.map(Number));
    // contains / starts_with on a number: its text
    return textCondition(eb, sql<string | null>`lower(${jsonText(dialect, 'contacts.custom_attributes', c.attribute)})`, c);
  }
  return textCondition(eb, textOperand(dialect, c), c);
}

function textCondition(eb: ExpressionBuilder<DB, 'contacts'>, operand: Expression<string | null>, c: FilterCondition): Expression<SqlBool> {
  // The reference compares contacts with the first value only.
  return textFilterExpression(eb, operand, c.operator, lowerValues(c), 'first');
}


/** `POST /contacts/filter`: a page of the account's contacts matching the conditions, and how many match. */
export async function filterContacts(
  db: Executor,
  dialect: Dialect,
  accountId: number,
  conditions: FilterCondition[],
  query: { page: number; perPage: number; sort?: ContactSort },
): Promise<{ rows: ContactRow[]; count: number }> {
  const base = db
    .selectFrom('contacts')
    .where('contacts.account_id', '=', accountId)
    .where((eb) => combineConditions<Expression<SqlBool>>(conditions, (c) => conditionExpression(eb, dialect, accountId, c), (xs) => eb.and(xs), (xs) => eb.or(xs)));
  const countRow = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  const rows = await ordered(base.selectAll('contacts'), dialect, query.sort)
    .limit(query.perPage)
    .offset((query.page - 1) * query.perPage)
    .execute();
  return { rows, count: Number(countRow?.n ?? 0) };
}

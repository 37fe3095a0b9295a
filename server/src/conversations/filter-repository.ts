import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Dialect, Executor } from '../kernel/db.js';
import type { DB } from '../kernel/schema.js';
import { combineConditions, type FilterCondition, type FilterSpec } from '../kernel/filter.js';
import { ATTRIBUTE_KEY, jsonBoolean, jsonNumber, jsonText, textFilterExpression } from '../kernel/json-repository.js';
import type { Counts, ListScope } from './listing-repository.js';
import type { ConversationRow } from './repository.js';

/**
 * POST /conversations/filter: the reference's filter payload (src/kernel/filter.ts parses it) turned
 * into where clauses on conversations, inside the list's visibility scope (account, and an agent's
 * inboxes). Values are already typed and checked by the service (status and priority names as
 * numbers, ids as integers).
 */


const IDS = ['equal_to', 'not_equal_to', 'is_present', 'is_not_present'] as const;
const DATES = ['is_greater_than', 'is_less_than', 'days_before'] as const;

/**
 * The reference's conversation filter keys (lib/filters/filter_keys.yml, `conversations`). The
 * additional-attribute keys (browser_language, conversation_language, country_code, referer,
 * mail_subject) read conversations.additional_attributes; any other key is a custom attribute.
 */
export const CONVERSATION_FILTER_SPEC: FilterSpec = {
  resource: 'conversations',
  standard: {
    status: { type: 'text', operators: ['equal_to', 'not_equal_to'] },
    assignee_id: { type: 'number', operators: IDS },
    inbox_id: { type: 'number', operators: IDS },
    team_id: { type: 'number', operators: IDS },
    priority: { type: 'text', operators: ['equal_to', 'not_equal_to'] },
    display_id: { type: 'number', operators: ['equal_to', 'not_equal_to', 'contains', 'does_not_contain'] },
    campaign_id: { type: 'number', operators: IDS },
    labels: { type: 'labels', operators: IDS },
    browser_language: { type: 'text', operators: ['equal_to', 'not_equal_to'] },
    conversation_language: { type: 'text', operators: ['equal_to', 'not_equal_to'] },
    country_code: { type: 'text', operators: ['equal_to', 'not_equal_to'] },
    referer: { type: 'text', operators: ['equal_to', 'not_equal_to', 'contains', 'does_not_contain'] },
    mail_subject: { type: 'text', operators: ['equal_to', 'not_equal_to', 'contains', 'does_not_contain'] },
    created_at: { type: 'date', operators: DATES },
    last_activity_at: { type: 'date', operators: DATES },
  },
  custom: { keyPattern: ATTRIBUTE_KEY },
};

export const ADDITIONAL_ATTRIBUTE_KEYS = new Set(['browser_language', 'conversation_language', 'country_code', 'referer', 'mail_subject']);

type Eb = ExpressionBuilder<DB, 'conversations'>;


/** Integer columns (status and priority carry their stored numbers here). */
function columnCondition(eb: Eb, column: string, c: FilterCondition): Expression<SqlBool> {
  const col = sql.ref(column) as unknown as Expression<number | null>;
  const values = c.values.map(Number);
  switch (c.operator) {
    case 'equal_to':
      return eb(col, 'in', values);
    case 'not_equal_to':
      // A conversation without a value (no assignee, no priority) is "not equal" too.
      return eb.or([eb(col, 'not in', values), eb(col, 'is', null)]);
    case 'is_present':
      return eb(col, 'is not', null);
    case 'is_not_present':
      return eb(col, 'is', null);
    case 'contains':
    case 'does_not_contain':
      return textFilterExpression(eb, sql<string>`cast(${col} as text)`, c.operator, values.map(String), 'any');
    default:
      return sql<SqlBool>`1 = 0`;
  }
}

/** Text attributes: compared case-insensitively (the reference lowercases both sides), equal_to with any of the values. */
function textCondition(eb: Eb, operand: Expression<string | null>, c: FilterCondition): Expression<SqlBool> {
  return textFilterExpression(eb, sql<string | null>`lower(${operand})`, c.operator, c.values.map((v) => String(v).toLowerCase()), 'any');
}

function customCondition(eb: Eb, dialect: Dialect, c: FilterCondition): Expression<SqlBool> {
  const col = 'conversations.custom_attributes' as const;
  const op = c.operator;
  if (c.type === 'date') {
    // A custom attribute holding a date: ISO strings compare as text, day by day.
    const day = new Date(c.from ?? c.before!).toISOString().slice(0, 10);
    const text = jsonText(dialect, col, c.attribute);
    return c.from !== undefined ? eb(text, '>=', day) : eb(text, '<', day);
  }
  if (c.type === 'boolean') {
    const operand = jsonBoolean(dialect, col, c.attribute);
    if (op === 'is_present') return eb(operand, 'is not', null);
    if (op === 'is_not_present') return eb(operand, 'is', null);
    const want = String(c.values[0]);
    return op === 'not_equal_to' ? eb.or([eb(operand, '!=', want), eb(operand, 'is', null)]) : eb(operand, '=', want);
  }
  if (c.type === 'number') {
    const operand = jsonNumber(dialect, col, c.attribute);
    const n = Number(c.values[0]);
    if (op === 'is_present') return eb(operand, 'is not', null);
    if (op === 'is_not_present') return eb(operand, 'is', null);
    if (op === 'is_greater_than') return eb(operand, '>', n);
    if (op === 'is_less_than') return eb(operand, '<', n);
    if (op === 'not_equal_to') return eb.or([eb(operand, 'not in', c.values.map(Number)), eb(operand, 'is', null)]);
    if (op === 'equal_to') return eb(operand, 'in', c.values.map(Number));
    return textCondition(eb, jsonText(dialect, col, c.attribute), c);
  }
  return textCondition(eb, jsonText(dialect, col, c.attribute), c);
}

function conditionExpression(eb: Eb, dialect: Dialect, accountId: number, c: FilterCondition): Expression<SqlBool> {
  if (c.custom) return customCondition(eb, dialect, c);
  switch (c.attribute) {
    case 'labels': {
      const tagged = (values?: string[]) => {
        let q = eb
          .selectFrom('conversation_labels')
          .select('conversation_labels.id')
          .whereRef('conversation_labels.conversation_id', '=', 'conversations.id')
          .where('conversation_labels.account_id', '=', accountId);
        if (values) q = q.where('conversation_labels.label', 'in', values);
        return eb.exists(q);
      };
      const values = c.values.map(String);
      if (c.operator === 'equal_to') return tagged(values);
      if (c.operator === 'not_equal_to') return eb.not(tagged(values));
      if (c.operator === 'is_present') return tagged();
      return eb.not(tagged());
    }
    case 'created_at':
    case 'last_activity_at': {
      const col = sql.ref(`conversations.${c.attribute}`) as unknown as Expression<number>;
      return c.from !== undefined ? eb(col, '>=', c.from) : eb(col, '<', c.before!);
    }
    case 'campaign_id':
      // ChannelX has no campaigns: no conversation has one.
      return c.operator === 'is_not_present' || c.operator === 'not_equal_to' ? sql<SqlBool>`1 = 1` : sql<SqlBool>`1 = 0`;
    case 'status':
    case 'priority':
    case 'assignee_id':
    case 'inbox_id':
    case 'team_id':
    case 'display_id':
      return columnCondition(eb, `conversations.${c.attribute}`, c);
    default:
      return textCondition(eb, jsonText(dialect, 'conversations.additional_attributes', c.attribute), c);
  }
}

function matching(eb: Eb, dialect: Dialect, scope: ListScope, conditions: FilterCondition[]): Expression<SqlBool> {
  const c: Expression<SqlBool>[] = [eb('conversations.account_id', '=', scope.accountId)];
  if (scope.inboxIds) c.push(scope.inboxIds.length ? eb('conversations.inbox_id', 'in', scope.inboxIds) : sql<SqlBool>`1 = 0`);
  c.push(combineConditions<Expression<SqlBool>>(conditions, (x) => conditionExpression(eb, dialect, scope.accountId, x), (xs) => eb.and(xs), (xs) => eb.or(xs)));
  return eb.and(c);
}

/** The matching conversations' counts per assignee type (mine, assigned, unassigned, all). */
export async function countFilteredConversations(db: Executor, dialect: Dialect, scope: ListScope, conditions: FilterCondition[]): Promise<Counts> {
  const row = await db
    .selectFrom('conversations')
    .where((eb) => matching(eb, dialect, scope, conditions))
    .select([
      sql<number>`count(*)`.as('all_count'),
      sql<number>`coalesce(sum(case when assignee_id = ${scope.userId} then 1 else 0 end), 0)`.as('mine_count'),
      sql<number>`coalesce(sum(case when assignee_id is null then 1 else 0 end), 0)`.as('unassigned_count'),
    ])
    .executeTakeFirst();
  const all = Number(row?.all_count ?? 0);
  const unassigned = Number(row?.unassigned_count ?? 0);
  return { mine_count: Number(row?.mine_count ?? 0), assigned_count: all - unassigned, unassigned_count: unassigned, all_count: all };
}

/** A page of the matching conversations, latest activity first. */
export async function pageOfFilteredConversations(
  db: Executor,
  dialect: Dialect,
  scope: ListScope,
  conditions: FilterCondition[],
  page: { limit: number; offset: number },
): Promise<ConversationRow[]> {
  return db
    .selectFrom('conversations')
    .selectAll()
    .where((eb) => matching(eb, dialect, scope, conditions))
    .orderBy('conversations.last_activity_at', 'desc')
    .orderBy('conversations.id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
}

import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/kernel/errors.js';
import { combineConditions, parseFilter, type FilterSpec } from '../../src/kernel/filter.js';

/** The shared filter payload parser (src/kernel/filter.ts): typed conditions, 422s, precedence. */

const spec: FilterSpec = {
  resource: 'things',
  standard: {
    name: { type: 'text', operators: ['equal_to', 'not_equal_to', 'contains', 'does_not_contain'] },
    created_at: { type: 'date', operators: ['is_greater_than', 'is_less_than', 'days_before'] },
    labels: { type: 'labels', operators: ['equal_to', 'not_equal_to', 'is_present', 'is_not_present'] },
    blocked: { type: 'boolean', operators: ['equal_to', 'not_equal_to'] },
  },
  custom: { keyPattern: /^[\w-]+$/ },
};

const fails = (body: unknown, s: FilterSpec = spec) => {
  try {
    parseFilter(body, s);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(422);
    return (err as AppError).message;
  }
  throw new Error('expected a 422');
};

describe('parseFilter', () => {
  it('types the conditions and joins them', () => {
    const now = Date.parse('2024-05-10T15:00:00Z');
    const conds = parseFilter(
      {
        payload: [
          { attribute_key: 'name', filter_operator: 'contains', values: ['  Ann '], query_operator: 'OR' },
          { attribute_key: 'created_at', filter_operator: 'is_greater_than', values: ['2024-05-01T23:59:00Z'], query_operator: 'and' },
          { attribute_key: 'created_at', filter_operator: 'days_before', values: ['3'] },
          { attribute_key: 'blocked', filter_operator: 'equal_to', values: 'true', query_operator: null },
        ],
      },
      spec,
      now,
    );
    expect(conds.map((c) => [c.attribute, c.operator, c.values, c.next])).toEqual([
      ['name', 'contains', ['Ann'], 'or'],
      ['created_at', 'is_greater_than', ['2024-05-01'], 'and'],
      ['created_at', 'days_before', [3], 'and'],
      ['blocked', 'equal_to', [true], null],
    ]);
    expect(conds[1].from).toBe(Date.parse('2024-05-02T00:00:00Z'));
    expect(conds[2].before).toBe(Date.parse('2024-05-07T00:00:00Z'));
    // AND binds tighter than OR: a OR (b AND c AND d)
    const expr = combineConditions(conds, (c) => c.attribute, (xs) => `(${xs.join(' & ')})`, (xs) => xs.join(' | '));
    expect(expr).toBe('name | (created_at & created_at & blocked)');
  });

  it('custom attributes take every operator and their type from the value', () => {
    const [c] = parseFilter({ payload: [{ attribute_key: 'plan_level', filter_operator: 'is_greater_than', values: [3] }] }, spec);
    expect(c).toMatchObject({ custom: true, type: 'number', values: [3], next: null });
    fails({ payload: [{ attribute_key: 'plan', filter_operator: 'equal_to', values: ['x'] }] }, { ...spec, custom: undefined });
  });

  it('refuses unknown attributes and operators, missing values and oversized payloads with a clear 422', () => {
    expect(fails({ payload: [{ attribute_key: 'no such key!', filter_operator: 'equal_to', values: ['x'] }] })).toMatch(/Invalid attribute key - \[no such key!\]. Allowed keys for things: name, created_at/);
    expect(fails({ payload: [{ attribute_key: 'name', filter_operator: 'is_greater_than', values: ['x'] }] })).toMatch(/Invalid operator for name - \[is_greater_than\]. Allowed operators: equal_to, not_equal_to, contains, does_not_contain/);
    expect(fails({ payload: [{ attribute_key: 'name', filter_operator: 'resembles', values: ['x'] }] })).toMatch(/Invalid operator for name - \[resembles\]/);
    expect(fails({ payload: [{ attribute_key: 'name', filter_operator: 'equal_to', values: [] }] })).toMatch(/needs at least one value/);
    expect(fails({ payload: [{ attribute_key: 'created_at', filter_operator: 'is_less_than', values: ['yesterday'] }] })).toMatch(/takes a date/);
    expect(fails({ payload: [{ attribute_key: 'name', filter_operator: 'equal_to', values: ['x'], query_operator: 'XOR' }, { attribute_key: 'name', filter_operator: 'equal_to', values: ['y'] }] })).toMatch(/AND or OR/);
    expect(fails({ payload: [] })).toMatch(/non-empty array/);
    expect(fails({})).toMatch(/non-empty array/);
    expect(fails({ payload: Array.from({ length: 51 }, () => ({ attribute_key: 'name', filter_operator: 'equal_to', values: ['x'] })) })).toMatch(/at most 50/);
    expect(fails({ payload: [{ attribute_key: 'name', filter_operator: 'equal_to', values: Array(101).fill('x') }] })).toMatch(/at most 100/);
    // is_present needs no value
    expect(parseFilter({ payload: [{ attribute_key: 'labels', filter_operator: 'is_present' }] }, spec)[0]).toMatchObject({ values: [], operator: 'is_present' });
  });
});

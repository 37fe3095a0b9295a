import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layering rules, checked on the source: queries live in repositories; authorization is the
 * route's access policy (src/accounts/guard.ts), never an inline call; stored enums are compared
 * and written through the named constants of src/kernel/constants.ts, never as bare numbers.
 */

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const files = sourceFiles(SRC).map((p) => ({ rel: path.relative(SRC, p).split(path.sep).join('/'), text: fs.readFileSync(p, 'utf8') }));

/** Line comments and block comments blanked (line numbers kept), so prose never trips a rule. */
const code = (text: string) =>
  text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`])\/\/.*$/gm, (_m, pre: string) => pre);

type Rule = { name: string; applies: (rel: string) => boolean; pattern: RegExp };

/** Kernel infrastructure that runs its own SQL: the connection, migrations, the outbox. */
const QUERY_INFRASTRUCTURE = [/^kernel\/db\.ts$/, /^kernel\/migrate\.ts$/, /^kernel\/migrations\//, /^kernel\/events\//];
const isRepository = (rel: string) => /(^|[/-])repository\.ts$/.test(rel);

export const RULES: Rule[] = [
  {
    name: 'Kysely queries only in repositories (*repository.ts)',
    applies: (rel) => !isRepository(rel) && !QUERY_INFRASTRUCTURE.some((re) => re.test(rel)),
    pattern: /\.(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\(|\bsql(`|<|\.(raw|ref|lit|table|id|join|val)\b)|import\s*\{[^}]*\bsql\b[^}]*\}\s*from\s*'kysely'/,
  },
  {
    name: "authorization only through the route's access policy (no inline ctx.auth.forAccount/forAdmin/authenticate, requireAdmin or preValidation guards)",
    applies: (rel) => rel !== 'kernel/auth.ts' && rel !== 'accounts/guard.ts',
    pattern: /\.(forAccount|forAdmin|authenticate)\(|\brequireAdmin\(|preValidation:\s*(admin|member|signedIn)\(/,
  },
  {
    name: 'no bare numbers for roles, statuses, message types or availability (src/kernel/constants.ts)',
    applies: (rel) => !rel.startsWith('kernel/migrations/') && rel !== 'kernel/constants.ts',
    pattern: new RegExp(
      [
        String.raw`\b(role|status|message_type|messageType|availability|account_status)\s*(===|!==|==|!=)\s*\d+\b`,
        String.raw`\b\d+\s*(===|!==|==|!=)\s*[\w.]*\b(role|status|message_type|availability|account_status)\b`,
        String.raw`\b(role|status|message_type|availability|account_status):\s*\d+\b`,
        String.raw`'[\w.]*\b(role|status|message_type|availability|private)',\s*'[^']+',\s*\[?\s*\d`,
        String.raw`\b(message_type|status|role|private|availability)\s*(=|<>|!=)\s*\d`,
      ].join('|'),
    ),
  },
];

export function violations(list: { rel: string; text: string }[], rule: Rule): string[] {
  const out: string[] = [];
  for (const f of list) {
    if (!rule.applies(f.rel)) continue;
    code(f.text)
      .split('\n')
      .forEach((line, i) => {
        if (rule.pattern.test(line)) out.push(`src/${f.rel}:${i + 1}: ${line.trim()}`);
      });
  }
  return out;
}

describe('layers', () => {
  it('scans the whole server source', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.some((f) => f.rel === 'conversations/repository.ts')).toBe(true);
  });

  for (const rule of RULES) {
    it(rule.name, () => {
      expect(violations(files, rule)).toEqual([]);
    });
  }

  it('each rule catches what it forbids, and lets the allowed forms through', () => {
    const [queries, auth, numbers] = RULES;
    const one = (rule: Rule, rel: string, text: string) => violations([{ rel, text }], rule).length;
    expect(one(queries, 'conversations/listing.ts', "await db.selectFrom('conversations').selectAll().execute();")).toBe(1);
    expect(one(queries, 'realtime/channel.ts', 'const n = sql<number>`count(*)`;')).toBe(1);
    expect(one(queries, 'public/contacts.ts', "import { sql } from 'kysely';")).toBe(1);
    expect(one(queries, 'conversations/listing-repository.ts', "await db.selectFrom('conversations').execute();")).toBe(0);
    expect(one(queries, 'kernel/events/record.ts', "await trx.insertInto('outbox').values(v).execute();")).toBe(0);
    expect(one(queries, 'messages/format.ts', "import type { Selectable } from 'kysely'; // selectFrom( in a comment")).toBe(0);
    expect(one(auth, 'contacts/routes.ts', 'const auth = await ctx.auth.forAccount(req, req.params.account_id);')).toBe(1);
    expect(one(auth, 'webhooks/routes.ts', 'await ctx.auth.forAdmin(req, id);')).toBe(1);
    expect(one(auth, 'contacts/service.ts', 'requireAdmin(auth);')).toBe(1);
    expect(one(auth, 'agents/routes.ts', '{ preValidation: admin(ctx), schema }')).toBe(1);
    expect(one(auth, 'contacts/routes.ts', 'const auth = principal(req);')).toBe(0);
    expect(one(numbers, 'agents/service.ts', 'if (agent.role === 1) return;')).toBe(1);
    expect(one(numbers, 'messages/service.ts', 'status: 0,')).toBe(1);
    expect(one(numbers, 'public/repository.ts', ".where('message_type', '!=', 2)")).toBe(1);
    expect(one(numbers, 'public/repository.ts', ".where('status', 'in', [0, 1])")).toBe(1);
    expect(one(numbers, 'conversations/repository.ts', 'sql`and m.message_type <> 2`')).toBe(1);
    expect(one(numbers, 'agents/service.ts', 'if (agent.role === ROLE.administrator) return;')).toBe(0);
    expect(one(numbers, 'kernel/http.ts', 'if (reply.statusCode === 200) return;')).toBe(0);
  });
});

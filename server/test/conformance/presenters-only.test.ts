import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Presenters are the only JSON builders: a route handler returns or sends what a presenter built
 * (src/<module>/presenters.ts, src/kernel/presenters.ts for the shared envelopes), never an object
 * literal. A source scan of every route file (and app.ts, which serves /health).
 */

const SRC = path.resolve(import.meta.dirname, '../../src');

/** An object literal returned, sent, or the body of an arrow function. */
const LITERAL = /\breturn\s*\{|\.send\(\s*\{|=>\s*\(\s*\{/g;

/** Object literals in route files that are not response JSON, with why. */
const ALLOWED: { file: string; line: string; why: string }[] = [
  { file: 'messages/routes.ts', line: 'const scope = (req: FastifyRequest) => ({ auth:', why: 'the request principal and conversation, not a response' },
  { file: 'public/routes.ts', line: 'return { accountId: inbox.account_id, scope:', why: 'the Idempotency-Key scope, not a response' },
  { file: 'webhooks/routes.ts', line: 'return { url: src.url, name: src.name', why: 'the request body as the service input, not a response' },
  { file: 'realtime/routes.ts', line: "send({ error: 'Server is restarting' })", why: 'refusal before the WebSocket upgrade (kernel/errors has no 503 code)' },
  { file: 'realtime/routes.ts', line: "send({ error: 'Too many connections from this address' })", why: 'refusal before the WebSocket upgrade, per-IP cap' },
];

function routeFiles(dir = SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return routeFiles(p);
    return /(^|-)routes\.ts$/.test(e.name) || p === path.join(SRC, 'app.ts') ? [p] : [];
  });
}

/** Comments blanked out (same length, so offsets and lines stay), strings left alone. */
const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (c) => c.replace(/[^\n]/g, ' '));

export function literalsIn(file: string, text: string) {
  const rel = path.relative(SRC, file).split(path.sep).join('/');
  const lines = text.split('\n');
  const found: { file: string; line: number; text: string }[] = [];
  for (const m of withoutComments(text).matchAll(LITERAL)) {
    const n = text.slice(0, m.index).split('\n').length;
    const line = lines[n - 1].trim();
    if (!ALLOWED.some((a) => a.file === rel && line.includes(a.line))) found.push({ file: rel, line: n, text: line });
  }
  return found;
}

describe('presenters are the only JSON builders', () => {
  const files = routeFiles();

  it('finds the route files', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it('no route file returns or sends an object literal', () => {
    const offenders = files.flatMap((f) => literalsIn(f, fs.readFileSync(f, 'utf8')));
    expect(offenders, 'build the JSON in a presenter (src/<module>/presenters.ts or src/kernel/presenters.ts)').toEqual([]);
  });

  it('every allowed exception still exists (a stale entry is removed)', () => {
    for (const a of ALLOWED) expect(fs.readFileSync(path.join(SRC, a.file), 'utf8'), `${a.file}: ${a.why}`).toContain(a.line);
  });

  it('catches the forms it looks for, and ignores comments', () => {
    const f = path.join(SRC, 'x/routes.ts');
    const found = literalsIn(
      f,
      ['async () => {', '  return { payload: 1 };', '}', 'reply.send({ a: 1 });', 'app.get("/", async () => ({ a: 1 }));', '// return { ignored: 1 }', 'return payloadOf(x);'].join('\n'),
    );
    expect(found.map((x) => x.line)).toEqual([2, 4, 5]);
  });
});

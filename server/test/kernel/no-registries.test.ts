import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/**
 * Issue 10, item 7: collaborators travel through the context (src/server.ts builds them into
 * AppContext), never through a module-level registry keyed by the database or the context
 * (the former `bindWorker`/`wakeDeliveries` and `realtimeFor`). Per-request and per-transaction
 * maps (keyed by a request or a transaction) are fine: they hold state of one call, not a service.
 */

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');
const files = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : e.name.endsWith('.ts') ? [p] : [];
  });

/** A top-level Map/WeakMap whose key is the database, a Kysely handle, the app context or the config. */
const REGISTRY = /^(?:export\s+)?(?:const|let|var)\s+\w+\s*(?::[^=]+)?=\s*new\s+(?:Weak)?Map\s*<\s*(?:Database|Db|Kysely\b[^,]*|AppContext|Config|Pick<AppContext[^>]*>|object)\s*,/m;

it('no module-level registry of services keyed by the database or the context', () => {
  const offenders = files(SRC)
    .map((p) => ({ rel: path.relative(SRC, p), text: fs.readFileSync(p, 'utf8') }))
    // Per-transaction state of the database layer (keyed by the transaction object).
    .filter((f) => f.rel !== path.join('kernel', 'db.ts'))
    .filter((f) => REGISTRY.test(f.text))
    .map((f) => f.rel);
  expect(offenders).toEqual([]);
});

it('the registries this issue removed stay removed', () => {
  const all = files(SRC).map((p) => fs.readFileSync(p, 'utf8')).join('\n');
  expect(all).not.toMatch(/\b(bindWorker|wakeDeliveries|realtimeFor)\b/);
});

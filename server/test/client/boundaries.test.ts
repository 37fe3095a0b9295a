import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, findUp } from './paths.js';

/**
 * The front ends' boundaries: packages/client and dashboard never import server code (types
 * travel through openapi/channelx.json), the client's browser entry has no Node-only import, and
 * both type-check with their own tsconfig.
 */

const FRONT_ENDS = ['packages/client', 'dashboard'];

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(p);
    return /\.(ts|tsx|js|jsx|mjs)$/.test(e.name) ? [p] : [];
  });
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
const specifiers = (text: string) =>
  [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]);

/** Why a specifier of `file` crosses a boundary, or null. */
function violation(file: string, spec: string): string | null {
  if (spec === '@channelx/server' || spec.startsWith('@channelx/server/')) return 'imports the server package';
  if (spec.startsWith('.')) {
    const target = path.resolve(path.dirname(file), spec);
    if (target === path.join(ROOT, 'server') || target.startsWith(path.join(ROOT, 'server') + path.sep)) return 'imports server code';
  }
  const browser = file.startsWith(path.join(ROOT, 'packages/client/src')) || file.startsWith(path.join(ROOT, 'dashboard/src'));
  if (browser && (spec.startsWith('node:') || ['ws', 'fs', 'path', 'http', 'https', 'crypto', 'os', 'child_process'].includes(spec))) {
    return 'imports a Node-only module in browser code';
  }
  return null;
}

const run = promisify(execFile);

describe('front-end boundaries', () => {
  it('packages/client and dashboard import no server code and no Node-only module in browser code', () => {
    const found: string[] = [];
    for (const dir of FRONT_ENDS) {
      for (const file of sources(path.join(ROOT, dir))) {
        if (file.endsWith('vite.config.ts')) continue; // build configuration, runs in Node
        for (const spec of specifiers(fs.readFileSync(file, 'utf8'))) {
          const why = violation(file, spec);
          if (why) found.push(`${path.relative(ROOT, file)}: '${spec}' ${why}`);
        }
      }
    }
    expect(found).toEqual([]);
  });

  it('the scan catches a violation', () => {
    const file = path.join(ROOT, 'packages/client/src/http.ts');
    expect(violation(file, '../../../server/src/app.js')).toBe('imports server code');
    expect(violation(file, '@channelx/server')).toBe('imports the server package');
    expect(violation(file, 'node:fs')).toBe('imports a Node-only module in browser code');
    expect(violation(file, 'openapi-fetch')).toBeNull();
    expect(specifiers(`import a from 'x';\nexport * from "./y.js";\nconst z = await import('z');\nimport 'side';`)).toEqual(['x', './y.js', 'z', 'side']);
  });

  // One tsc run covers both: the dashboard imports the client's entry, which re-exports every client
  // module (the root `npm run typecheck` also runs the client's own tsconfig).
  it('dashboard and packages/client type-check (tsc --noEmit, dashboard/tsconfig.json)', async () => {
    const dir = path.join(ROOT, 'dashboard');
    await run(process.execPath, [findUp(dir, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.'], { cwd: dir }).catch(
      (e: { stdout?: string; message: string }) => {
        throw new Error(`dashboard: tsc failed\n${e.stdout || e.message}`);
      },
    );
  }, 120_000);
});

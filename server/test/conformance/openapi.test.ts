import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.js';
import { DOCUMENT_PATH, canonicalDocument } from '../../scripts/openapi.js';
import { CLIENT_DIR, findUp } from '../client/paths.js';

/**
 * The OpenAPI document is the contract of every client: each operation declares the schema of its
 * success response, the committed openapi/channelx.json is the document the server serves, and
 * packages/client/src/generated/api.ts is what openapi-typescript makes of it.
 */

type Operation = { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> };
type Document = { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, unknown> } };

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
const GENERATED = path.join(CLIENT_DIR, 'src/generated/api.ts');
const REGENERATE = 'run `npm run openapi` at the repository root and commit openapi/channelx.json and packages/client/src/generated/api.ts';

/** Operations (METHOD path) without a 2xx response that carries a schema. */
function operationsWithoutResponseSchema(doc: Document): string[] {
  const missing: string[] = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const ok = Object.entries(op.responses ?? {}).some(
        ([code, r]) => /^2\d\d$/.test(code) && Object.values(r.content ?? {}).some((c) => c.schema !== undefined),
      );
      if (!ok) missing.push(`${method.toUpperCase()} ${p}`);
    }
  }
  return missing;
}

describe('OpenAPI document', () => {
  let t: TestServer;
  let served: Document;

  beforeAll(async () => {
    t = await startTestServer('sqlite');
    const res = await fetch(`${t.url}/api-docs/json`);
    expect(res.status).toBe(200);
    served = (await res.json()) as Document;
  });
  afterAll(() => t?.close());

  it('every operation declares the schema of its success response', () => {
    const ops = Object.values(served.paths).flatMap((item) => Object.keys(item).filter((m) => METHODS.has(m)));
    expect(ops.length).toBeGreaterThan(70);
    expect(operationsWithoutResponseSchema(served), 'operations without a 2xx response schema').toEqual([]);
  });

  it('the check itself flags an operation without a response schema', () => {
    const doc: Document = JSON.parse(JSON.stringify(served));
    const [p] = Object.keys(doc.paths);
    const [m] = Object.keys(doc.paths[p]).filter((k) => METHODS.has(k));
    doc.paths[p][m].responses = { 200: { content: undefined } };
    expect(operationsWithoutResponseSchema(doc)).toEqual([`${m.toUpperCase()} ${p}`]);
  });

  it('publishes the /cable event schemas (Cable*) for the clients', () => {
    const names = Object.keys(served.components?.schemas ?? {});
    expect(names).toContain('CableEnvelope');
    expect(names).toContain('CableMessageCreated');
  });

  it('openapi/channelx.json is the served document', () => {
    expect(fs.existsSync(DOCUMENT_PATH), `${DOCUMENT_PATH} is missing: ${REGENERATE}`).toBe(true);
    const committed = fs.readFileSync(DOCUMENT_PATH, 'utf8');
    // Compare the text first (cheap), and only on a difference show which paths differ.
    if (committed !== canonicalDocument(served)) {
      const before = JSON.parse(committed) as Document;
      const changed = [...new Set([...Object.keys(before.paths), ...Object.keys(served.paths)])].filter(
        (p) => JSON.stringify(before.paths[p]) !== JSON.stringify(JSON.parse(canonicalDocument(served.paths[p] ?? null))),
      );
      expect.fail(`openapi/channelx.json is out of date (${changed.slice(0, 10).join(', ') || 'components or info'}): ${REGENERATE}`);
    }
  });

  it('packages/client/src/generated/api.ts is what openapi-typescript makes of openapi/channelx.json', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-api-ts-')), 'api.ts');
    try {
      const cli = findUp(CLIENT_DIR, 'node_modules/openapi-typescript/bin/cli.js');
      execFileSync(process.execPath, [cli, DOCUMENT_PATH, '--output', out], { cwd: CLIENT_DIR, stdio: 'pipe' });
      expect(fs.readFileSync(GENERATED, 'utf8') === fs.readFileSync(out, 'utf8'), `generated types are stale or edited by hand: ${REGENERATE}`).toBe(true);
    } finally {
      fs.rmSync(path.dirname(out), { recursive: true, force: true });
    }
  }, 60_000);
});

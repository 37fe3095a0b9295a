import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createServer } from '../src/server.js';

/**
 * The OpenAPI document, committed at openapi/channelx.json: the contract the front ends and
 * packages/client are generated from. `npm run openapi` (repository root) writes it from a server
 * built without listening, then regenerates packages/client/src/generated/api.ts from it;
 * server/test/conformance/openapi.test.ts fails when the committed file and the served
 * /api-docs/json differ.
 */

export const DOCUMENT_PATH = fileURLToPath(new URL('../../openapi/channelx.json', import.meta.url));

/** Object keys sorted at every depth (arrays keep their order): one text per document. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}

/** The document as committed: stable key order, two-space indent, trailing newline. */
export const canonicalDocument = (doc: unknown) => `${JSON.stringify(sortKeys(doc), null, 2)}\n`;

/** Builds the whole application on a throw-away SQLite database and returns its OpenAPI document. */
export async function buildDocument(): Promise<unknown> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-openapi-'));
  const config = loadConfig({ DATABASE_URL: `sqlite:${path.join(dir, 'openapi.sqlite')}`, LOG_LEVEL: 'silent' });
  const server = await createServer(config);
  try {
    await server.app.ready();
    return server.app.swagger();
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = canonicalDocument(await buildDocument());
  fs.mkdirSync(path.dirname(DOCUMENT_PATH), { recursive: true });
  const before = fs.existsSync(DOCUMENT_PATH) ? fs.readFileSync(DOCUMENT_PATH, 'utf8') : null;
  fs.writeFileSync(DOCUMENT_PATH, text);
  console.log(`${path.relative(process.cwd(), DOCUMENT_PATH)}: ${before === text ? 'unchanged' : 'written'}`);
}

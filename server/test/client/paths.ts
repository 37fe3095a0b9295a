import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root and the front-end workspaces, for the tests that check them. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLIENT_DIR = path.join(ROOT, 'packages/client');
export const DASHBOARD_DIR = path.join(ROOT, 'dashboard');

/** `rel` in `dir` or the nearest parent that has it (wherever npm installed a workspace's package). */
export function findUp(dir: string, rel: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, rel))) return path.join(d, rel);
    if (path.dirname(d) === d) throw new Error(`${rel} not found from ${dir}: run npm install`);
  }
}

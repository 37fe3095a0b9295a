import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { testEnv } from '../../src/config.js';
import { DASHBOARD_DIR, ROOT } from '../client/paths.js';

/**
 * Browser tests of the dashboard: Debian's headless Chromium through playwright-core (never a
 * downloaded browser), the dashboard built once per source state with Vite's JS API (cached in the
 * temp dir by a hash of its sources and the client package, so test files share one build), axe-core
 * scans, and screenshots in the light and the dark theme under server/test-output/ (git-ignored).
 * Without /usr/bin/chromium the tests are skipped loudly, except under CI=true, where they fail.
 */

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) {
  if (testEnv().ci) throw new Error(`CI=true and ${CHROMIUM} is missing (apt-get install -y chromium)`);
  console.warn(`\n${'!'.repeat(78)}\n!! ${CHROMIUM} is missing: the dashboard browser tests are SKIPPED.\n${'!'.repeat(78)}\n`);
}

export const SHOTS = fileURLToPath(new URL('../../test-output/', import.meta.url));
/** Default wait for something to appear on screen (polled; generous for a busy machine). */
export const T = { timeout: 15_000 };

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  return import('playwright-core').then(({ chromium }) => chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }));
}

function sourceHash(): string {
  const h = crypto.createHash('sha256');
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name === 'node_modules' || e.name === 'dist') continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else h.update(p).update(fs.readFileSync(p));
    }
  };
  walk(DASHBOARD_DIR);
  walk(path.join(ROOT, 'packages/client/src'));
  return h.digest('hex').slice(0, 16);
}

/** The built dashboard's directory (built now unless this source state was built before). */
export async function buildDashboard(): Promise<string> {
  const dir = path.join(os.tmpdir(), `channelx-dashboard-prod-${sourceHash()}`);
  if (fs.existsSync(path.join(dir, 'index.html'))) return dir;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-dashboard-build-'));
  const { build } = await import('vite');
  // The production build users get (vitest's NODE_ENV=test would otherwise bundle React's development build).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: DASHBOARD_DIR, mode: 'production', logLevel: 'warn', build: { outDir: tmp, emptyOutDir: true } });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  try {
    fs.renameSync(tmp, dir);
  } catch {
    // Another test file finished the same build first.
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** A screenshot of the page as it is, in the light and the dark theme. */
export async function shoot(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${colorScheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: null });
}

const axeSource = () => fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
let axeCache: string | null = null;

export type AxeViolation = { id: string; impact: string | null; help: string; nodes: string[] };

/**
 * An axe-core scan of the page in both themes (colour contrast differs): the serious and critical
 * violations, each with the selectors of its nodes. Evaluated over the DevTools protocol, so the
 * page's CSP does not apply.
 */
export async function axeScan(page: Page): Promise<AxeViolation[]> {
  axeCache ??= axeSource();
  const out: AxeViolation[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeCache);
    const found = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
    });
    for (const v of found) if (v.impact === 'serious' || v.impact === 'critical') out.push({ ...v, help: `${v.help} (${colorScheme})` });
  }
  await page.emulateMedia({ colorScheme: null });
  return out;
}

/** Collects page errors and console errors of every page of a context (CSP violations are console errors). */
export function watchProblems(context: BrowserContext, problems: string[]) {
  context.on('page', (page) => {
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  });
}

/** A fresh context (its own cookies) and a page in it, 1280×800 unless told. */
export async function newPage(browser: Browser, problems: string[], viewport = { width: 1280, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  watchProblems(context, problems);
  return context.newPage();
}

/** The session cookie of a page's context, as a Cookie header. */
export async function cookieOf(page: Page): Promise<string> {
  return (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
}

export type CableProxy = {
  /** RoomChannel subscriptions the server confirmed through the proxy so far. */
  readonly subscriptions: number;
  /** Connections refused while cut. */
  readonly refused: number;
  /** Connections open now. */
  readonly open: number;
  /** Closes both sides of every open connection and refuses new ones until restore(). */
  cut(): Promise<void>;
  restore(): void;
};

/**
 * Puts every /cable connection of `page` through a proxy (playwright's routeWebSocket, frames
 * forwarded both ways by hand), so a test can cut the socket and refuse reconnects on demand.
 * Install before the page opens the dashboard.
 */
export async function cableProxy(page: Page): Promise<CableProxy> {
  type Pair = { page: import('playwright-core').WebSocketRoute; server: import('playwright-core').WebSocketRoute; subscribed: boolean };
  let cut = false;
  let refused = 0;
  let subscriptions = 0;
  const open = new Set<Pair>();
  await page.routeWebSocket(/\/cable$/, (ws) => {
    if (cut) {
      refused++;
      void ws.close({ code: 1011, reason: 'cut' });
      return;
    }
    const server = ws.connectToServer();
    const pair: Pair = { page: ws, server, subscribed: false };
    open.add(pair);
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => {
      // The server confirmed the RoomChannel subscription: the dashboard is live on this socket.
      if (!pair.subscribed && String(m).includes('"confirm_subscription"')) {
        pair.subscribed = true;
        subscriptions++;
      }
      ws.send(m);
    });
    ws.onClose((code) => {
      open.delete(pair);
      void server.close({ code: code ?? 1000 }).catch(() => {});
    });
    server.onClose((code) => {
      open.delete(pair);
      void ws.close({ code: code ?? 1000 }).catch(() => {});
    });
  });
  return {
    get subscriptions() {
      return subscriptions;
    },
    get refused() {
      return refused;
    },
    get open() {
      return open.size;
    },
    async cut() {
      cut = true;
      for (const p of [...open]) {
        await p.page.close({ code: 1011, reason: 'cut' }).catch(() => {});
        await p.server.close({ code: 1011, reason: 'cut' }).catch(() => {});
      }
    },
    restore() {
      cut = false;
    },
  };
}

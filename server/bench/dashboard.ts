/**
 * `npm run bench:dashboard` (and the last section of `npm run bench`): the agent dashboard's weight
 * and speed, measured on this machine, loopback only, bounded in time (~2–3 min on 2 busy cores).
 *
 * 1. Initial JavaScript, gzipped (level 9): the entry script of the built index.html and its
 *    modulepreload links (what the first navigation loads; lazy chunks excluded), against the
 *    200 KiB budget; the stylesheets gzipped too.
 * 2. Seeds a server (in this process, on a temp SQLite file, serving that build) through the
 *    server's own service functions: an account, its administrator, an API inbox, 1 000
 *    conversations of 1–3 messages and one conversation of 10 000 messages (all assigned to the
 *    administrator, so every list view shows them).
 * 3. In headless Chromium (/usr/bin/chromium, never downloaded), signed in by cookie, each run in a
 *    fresh browser context (cold cache): navigation → the conversation list's rows on screen;
 *    navigation → the 10 000-message conversation with its newest message visible; then scrolling
 *    back 1 000 older messages (ms per page, and whether the view jumped on each prepend).
 *    Times are the page's own `performance.now()` (0 = navigation start).
 *
 * Without Chromium the weight is still measured and the timings are skipped loudly.
 * Prints a table and, as the last line, one JSON object (keys prefixed `dashboard_`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { createServer, type Server } from '../src/server.js';
import { setupAccount } from '../src/accounts/setup.js';
import { insertApiInbox, addInboxMembers, findInbox } from '../src/inboxes/repository.js';
import { insertNewContact, buildContactInbox } from '../src/contacts/service.js';
import { openConversation } from '../src/conversations/service.js';
import { writeMessage, type NormalizedMessage, type MessageSender } from '../src/messages/service.js';
import { CONVERSATIONS_PER_PAGE } from '../src/conversations/listing.js';
import { INCOMING, OUTGOING } from '../src/messages/format.js';
import { DASHBOARD_DIR } from '../test/client/paths.js';
import { percentile, round } from './lib.js';

const CHROMIUM = '/usr/bin/chromium';
const BUDGET_KIB = 200;
const CONVERSATIONS = 1000;
const LONG_MESSAGES = 10_000;
const SCROLL_BACK = 1000;
const WAIT_MS = 30_000;
const PAGE_WAIT_MS = 15_000;
const EMAIL = 'bench@example.com';
const PASSWORD = 'bench-password';

export type Row = [measure: string, value: string, target: string];
export type DashboardBench = { rows: Row[]; result: Record<string, number>; notes: string[] };

const log = (s: string) => console.error(`dashboard: ${s}`);
const loud = (s: string) => console.error(`\n${'!'.repeat(78)}\n!! ${s}\n${'!'.repeat(78)}\n`);
const ms = (n: number) => `${round(n, 0)} ms`;

/* ------------------------------------------------------------------ weight */

type Weight = { jsGzip: number; jsRaw: number; jsFiles: number; cssGzip: number; cssRaw: number };

/** The first navigation's scripts (entry + modulepreload) and stylesheets of a built index.html, gzipped at level 9. */
export function measureWeight(dir: string): Weight {
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  const attr = (tag: string, name: string) => tag.match(new RegExp(`\\s${name}\\s*=\\s*["']([^"']*)["']`, 'i'))?.[1];
  const js = new Set<string>();
  const css = new Set<string>();
  for (const [tag] of html.matchAll(/<script\b[^>]*>/gi)) {
    const src = attr(tag, 'src');
    if (src && attr(tag, 'type') === 'module') js.add(src);
  }
  for (const [tag] of html.matchAll(/<link\b[^>]*>/gi)) {
    const rel = attr(tag, 'rel')?.toLowerCase().split(/\s+/) ?? [];
    const href = attr(tag, 'href');
    if (!href) continue;
    if (rel.includes('modulepreload')) js.add(href);
    else if (rel.includes('stylesheet')) css.add(href);
  }
  if (!js.size) throw new Error(`no entry script in ${path.join(dir, 'index.html')}`);
  const sizes = (files: Set<string>) => {
    let raw = 0;
    let gz = 0;
    for (const f of files) {
      if (/^[a-z]+:/i.test(f) || f.startsWith('//')) throw new Error(`index.html loads ${f} from elsewhere`);
      const buf = fs.readFileSync(path.join(dir, f.replace(/^\//, '')));
      raw += buf.length;
      gz += gzipSync(buf, { level: 9 }).length;
    }
    return { raw: raw / 1024, gz: gz / 1024 };
  };
  const j = sizes(js);
  const c = sizes(css);
  return { jsGzip: j.gz, jsRaw: j.raw, jsFiles: js.size, cssGzip: c.gz, cssRaw: c.raw };
}

/**
 * A production build into a temp dir, as `npm start` builds it. NODE_ENV is set to production for
 * the build: Vite follows an inherited NODE_ENV, and under NODE_ENV=test or development React's
 * development build is bundled (~60 % more JavaScript, and slower).
 */
async function buildProduction(): Promise<{ dir: string; cleanup: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-bench-dashboard-'));
  const { build } = await import('vite');
  const before = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: DASHBOARD_DIR, mode: 'production', logLevel: 'warn', build: { outDir: dir, emptyOutDir: true } });
  } finally {
    if (before === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = before;
  }
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/* ------------------------------------------------------------------ seeding */

type Seeded = { accountId: number; longDisplayId: number; longFirstId: number; longLastId: number; conversations: number; messages: number };

const WORDS = 'hello order refund shipping invoice account password delivery thanks please update address tracking number broken screen help again today tomorrow week'.split(' ');
function sentence(i: number): string {
  const n = 4 + ((i * 7) % 23);
  const out: string[] = [];
  for (let k = 0; k < n; k++) out.push(WORDS[(i * 31 + k * 17) % WORDS.length]);
  const s = out.join(' ');
  return i % 11 === 0 ? `${s}.\n${s} — line two` : `${s[0].toUpperCase()}${s.slice(1)}.`;
}

const message = (content: string, messageType: typeof INCOMING | typeof OUTGOING, isPrivate = false): NormalizedMessage => ({
  content,
  messageType,
  private: isPrivate,
  contentType: null,
  contentAttributes: {},
  sourceId: null,
  echoId: null,
});

/** Writes through the server's own services (the same events and conversation effects as the API), in batched transactions. */
async function seed(server: Server): Promise<Seeded> {
  const { ctx } = server;
  const database = ctx.database;
  const setup = await setupAccount(database, { account: 'Bench', name: 'Bench Admin', email: EMAIL, password: PASSWORD });
  const accountId = setup.account_id;
  const admin: MessageSender = { type: 'User', id: setup.user_id };
  const inboxId = await insertApiInbox(database.db, accountId, { name: 'Bench API' });
  await addInboxMembers(database.db, inboxId, [setup.user_id]);
  const inbox = (await findInbox(database.db, accountId, inboxId))!;

  const newConversation = async (trx: Parameters<Parameters<typeof database.transaction>[0]>[0], name: string) => {
    const contact = await insertNewContact(ctx, trx, accountId, {
      name,
      email: null,
      phone_number: null,
      identifier: null,
      additional_attributes: '{}',
      custom_attributes: '{}',
      blocked: 0,
    });
    const contactInbox = await buildContactInbox(trx, { accountId, contactId: contact.id, inboxId });
    const { conversation } = await openConversation(ctx, trx, { accountId, inbox, contactInbox, assigneeId: setup.user_id });
    return { conversation, contact: { type: 'Contact', id: contact.id } as MessageSender };
  };

  let messages = 0;
  // The long conversation first, so the list's newest conversations are the short ones (as in a real inbox).
  const long = await database.transaction((trx) => newConversation(trx, 'Long-running Customer'));
  let longFirstId = 0;
  let longLastId = 0;
  for (let i = 0; i < LONG_MESSAGES; i += 500) {
    await database.transaction(async (trx) => {
      for (let k = i; k < Math.min(LONG_MESSAGES, i + 500); k++) {
        const incoming = k % 3 !== 2;
        const { message: m } = await writeMessage(ctx, trx, long.conversation, message(`#${k + 1} ${sentence(k)}`, incoming ? INCOMING : OUTGOING, !incoming && k % 50 === 2), incoming ? long.contact : admin);
        longFirstId ||= m.id;
        longLastId = m.id;
        messages++;
      }
    });
  }
  // Spread the long conversation over ~35 days (5 min apart), so day separators and times look real.
  const t0 = Date.now() - LONG_MESSAGES * 300_000;
  await database.db
    .updateTable('messages')
    .set({ created_at: sql<number>`${t0} + (id - ${longFirstId}) * 300000` })
    .where('conversation_id', '=', long.conversation.id)
    .execute();

  for (let i = 0; i < CONVERSATIONS; i += 100) {
    await database.transaction(async (trx) => {
      for (let k = i; k < Math.min(CONVERSATIONS, i + 100); k++) {
        const c = await newConversation(trx, `Customer ${String(k + 1).padStart(4, '0')}`);
        const n = 1 + (k % 3);
        for (let j = 0; j < n; j++) {
          await writeMessage(ctx, trx, c.conversation, message(sentence(k * 3 + j), j === 1 ? OUTGOING : INCOMING), j === 1 ? admin : c.contact);
          messages++;
        }
      }
    });
  }
  return { accountId, longDisplayId: long.conversation.display_id, longFirstId, longLastId, conversations: CONVERSATIONS + 1, messages };
}

/** Waits until every outbox consumer has caught up (the realtime listener working through the seed), at most 90 s. */
async function settle(server: Server) {
  const db = server.ctx.database.db;
  const deadline = Date.now() + 90_000;
  for (;;) {
    const max = Number((await db.selectFrom('events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst())?.m ?? 0);
    const min = Number((await db.selectFrom('event_consumers').select((eb) => eb.fn.min('last_event_id').as('m')).executeTakeFirst())?.m ?? 0);
    if (min >= max) return;
    if (Date.now() > deadline) return log(`outbox still behind after 90 s (${min}/${max}): timings may include its work`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/* ------------------------------------------------------------------ in the browser */

type Timed = { ok: true; ms: number } | { ok: false; why: string };

const SHOTS = fileURLToPath(new URL('../test-output/', import.meta.url));

/** What the page showed when a wait timed out, in server/test-output/ (git-ignored). */
async function failureShot(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file }).then(() => log(`screenshot of the timed-out page: ${file}`), () => {});
}

/**
 * Navigates and polls every animation frame until the list shows its first page of rows (the first
 * page's size, or as many as fill the list when it is virtualized); the page's performance.now() then.
 */
async function timeList(page: Page, url: string, pageSize: number): Promise<Timed> {
  await page.goto(url, { waitUntil: 'commit' });
  try {
    const h = await page.waitForFunction(
      (size) => {
        const items = Array.from(document.querySelectorAll('[data-testid="conversation-item"][data-conversation-id]'));
        if (!items.length) return false;
        if (items.length >= size) return performance.now();
        const list = document.querySelector('[data-testid="conversation-list"]');
        const bottom = Math.min(window.innerHeight, list ? list.getBoundingClientRect().bottom : window.innerHeight);
        const last = items[items.length - 1].getBoundingClientRect();
        return items.length >= 5 && last.bottom >= bottom - 2 ? performance.now() : false;
      },
      pageSize,
      { polling: 'raf', timeout: WAIT_MS },
    );
    return { ok: true, ms: (await h.jsonValue()) as number };
  } catch {
    await failureShot(page, 'bench-list-timeout');
    const n = await page.locator('[data-testid="conversation-item"]').count().catch(() => 0);
    return { ok: false, why: `list never rendered: ${n} rows after ${WAIT_MS / 1000} s` };
  }
}

/** Navigates and polls every frame until message rows are on screen and the newest one is visible in its scroller. */
async function timeConversation(page: Page, url: string, newestId: number): Promise<Timed> {
  await page.goto(url, { waitUntil: 'commit' });
  try {
    const h = await page.waitForFunction(
      (id) => {
        const el = document.querySelector(`[data-testid="message"][data-message-id="${id}"]`);
        if (!el) return false;
        const r = el.getBoundingClientRect();
        if (r.height === 0 || r.bottom <= 0 || r.top >= window.innerHeight) return false;
        for (let p = el.parentElement; p; p = p.parentElement) {
          const s = getComputedStyle(p);
          if (/(auto|scroll)/.test(s.overflowY) && p.scrollHeight > p.clientHeight) {
            const b = p.getBoundingClientRect();
            if (r.bottom <= b.top + 1 || r.top >= b.bottom - 1) return false;
            break;
          }
        }
        return performance.now();
      },
      newestId,
      { polling: 'raf', timeout: WAIT_MS },
    );
    return { ok: true, ms: (await h.jsonValue()) as number };
  } catch {
    await failureShot(page, 'bench-conversation-timeout');
    const n = await page.locator('[data-testid="message"]').count().catch(() => 0);
    const view = await page.locator('[data-testid="conversation-view"]').count().catch(() => 0);
    const newest = await page.locator(`[data-testid="message"][data-message-id="${newestId}"]`).count().catch(() => 0);
    return {
      ok: false,
      why: `conversation never showed its newest message: view ${view ? 'present' : 'absent'}, ${n} message rows, newest ${newest ? 'rendered but not visible' : 'not rendered'} after ${WAIT_MS / 1000} s`,
    };
  }
}

type ScrollPage = { ms: number; jumped: boolean; shiftPx: number | null; beforeId: number | null; afterId: number | null; added: number };
type ScrollBack = { pages: ScrollPage[]; loaded: number; error: string | null };

/**
 * In the page: scrolls the message list to the top, again and again, until `target` older messages
 * are on screen. A page is timed from the scroll to the first frame showing messages older than the
 * page's `before` (seen in Resource Timing as a messages request with `before=`); the view
 * "jumped" when the message first visible just before the prepend moved on screen (more than 2 px)
 * or is gone. (It need not stay the first visible one: the older rows now fill the space above it
 * where the "Loading earlier messages" line was.)
 */
async function scrollBack(page: Page, target: number, firstId: number): Promise<ScrollBack> {
  // tsx compiles with keepNames: the function below refers to esbuild's __name helper, absent in the page.
  await page.evaluate('globalThis.__name ??= (f) => f');
  return page.evaluate(
    async ({ target, firstId, pageWait }) => {
      const frame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));
      const rows = () => Array.from(document.querySelectorAll<HTMLElement>('[data-testid="message"][data-message-id]'));
      const idOf = (el: Element) => Number(el.getAttribute('data-message-id'));
      const scrollerOf = (el: Element | undefined): HTMLElement => {
        for (let p = el?.parentElement; p; p = p.parentElement) {
          const s = getComputedStyle(p);
          if (/(auto|scroll)/.test(s.overflowY) && p.scrollHeight > p.clientHeight) return p;
        }
        return document.scrollingElement as HTMLElement;
      };
      const boxOf = (sc: HTMLElement) => (sc === document.scrollingElement ? { top: 0, bottom: window.innerHeight } : sc.getBoundingClientRect());
      const firstVisible = (sc: HTMLElement) => {
        const box = boxOf(sc);
        let best: { id: number; top: number } | null = null;
        for (const el of rows()) {
          const r = el.getBoundingClientRect();
          if (r.height > 0 && r.bottom > box.top + 1 && r.top < box.bottom - 1 && (!best || r.top < best.top)) best = { id: idOf(el), top: r.top - box.top };
        }
        return best;
      };
      let seenMin = Infinity;
      const track = () => {
        for (const el of rows()) seenMin = Math.min(seenMin, idOf(el));
        return seenMin;
      };
      const requests = () =>
        (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
          .map((e) => new URL(e.name, location.href))
          .filter((u) => /\/messages$/.test(u.pathname) && u.searchParams.has('before'))
          .map((u) => Number(u.searchParams.get('before')));
      performance.setResourceTimingBufferSize(10_000);

      track();
      const start = seenMin;
      const pages: { ms: number; jumped: boolean; shiftPx: number | null; beforeId: number | null; afterId: number | null; added: number }[] = [];
      const loaded = () => Math.max(0, start - seenMin);
      while (loaded() < target && seenMin > firstId) {
        const sc = scrollerOf(rows()[0]);
        const seenRequests = requests().length;
        const t0 = performance.now();
        sc.scrollTop = 0;
        let before = null as { id: number; top: number } | null;
        let older = Infinity;
        // Until a new `before=` request has completed and its older messages are on screen.
        for (;;) {
          await frame();
          const reqs = requests();
          // The first page asked for is `before` the oldest message loaded; wider ranges then go further back.
          if (reqs.length > seenRequests && older === Infinity) older = Math.max(...reqs.slice(seenRequests));
          const shown = older !== Infinity && rows().some((el) => idOf(el) < older);
          if (shown) break;
          before = firstVisible(sc) ?? before;
          track();
          if (performance.now() - t0 > pageWait) {
            return {
              pages,
              loaded: loaded(),
              error:
                reqs.length > seenRequests
                  ? `older messages requested but not shown ${pageWait / 1000} s after scrolling to the top`
                  : `no older messages requested ${pageWait / 1000} s after scrolling to the top`,
            };
          }
        }
        const t1 = performance.now();
        const minBefore = seenMin;
        // Let a scroll-position correction (anchoring, virtualizer measuring) settle: 3 frames unchanged, at most 1 s.
        let last = -1;
        for (let stable = 0; stable < 3 && performance.now() - t1 < 1000; ) {
          await frame();
          stable = sc.scrollTop === last ? stable + 1 : 0;
          last = sc.scrollTop;
        }
        track();
        const sc2 = scrollerOf(rows()[0]);
        const after = firstVisible(sc2);
        let shiftPx: number | null = null;
        if (before) {
          const el = document.querySelector(`[data-testid="message"][data-message-id="${before.id}"]`);
          if (el) shiftPx = Math.round(el.getBoundingClientRect().top - boxOf(sc2).top - before.top);
        }
        const jumped = !before || !after || shiftPx === null || Math.abs(shiftPx) > 2;
        track();
        pages.push({ ms: t1 - t0, jumped, shiftPx, beforeId: before?.id ?? null, afterId: after?.id ?? null, added: minBefore - seenMin });
      }
      return { pages, loaded: loaded(), error: null };
    },
    { target, firstId, pageWait: PAGE_WAIT_MS },
  );
}

/* ------------------------------------------------------------------ the bench */

function stats(name: string, runs: Timed[], target = ''): { rows: Row[]; result: Record<string, number>; note: string | null } {
  const ok = runs.filter((r): r is { ok: true; ms: number } => r.ok).map((r) => r.ms).sort((a, b) => a - b);
  const failed = runs.find((r): r is { ok: false; why: string } => !r.ok);
  if (!ok.length) return { rows: [[`dashboard_${name}`, 'FAILED', target]], result: {}, note: failed?.why ?? 'not measured' };
  const p50 = percentile(ok, 50);
  const p95 = percentile(ok, 95);
  return {
    rows: [
      [`dashboard_${name}_p50_ms`, `${round(p50, 0)}${ok.length < runs.length ? ` (${ok.length}/${runs.length} runs)` : ''}`, target],
      [`dashboard_${name}_p95_ms`, String(round(p95, 0)), ''],
    ],
    result: { [`dashboard_${name}_p50_ms`]: round(p50, 0), [`dashboard_${name}_p95_ms`]: round(p95, 0) },
    note: failed ? failed.why : null,
  };
}

export async function dashboardBench(opts: { runs?: number } = {}): Promise<DashboardBench> {
  const RUNS = opts.runs ?? 5;
  const started = performance.now();
  const rows: Row[] = [];
  const result: Record<string, number> = {};
  const notes: string[] = [];
  const hasChromium = fs.existsSync(CHROMIUM);

  // 1. Weight, of a fresh production build (not the browser tests' cached build: that one is made
  // under vitest's NODE_ENV=test). The timings below use the same build.
  log('building the dashboard (Vite, production) …');
  const tb = performance.now();
  const { dir: distDir, cleanup: cleanupBuild } = await buildProduction();
  log(`built in ${ms(performance.now() - tb)}`);
  // test/support/browser.ts checks for Chromium when loaded (and throws under CI=true without it).
  const browserSupport = hasChromium ? await import('../test/support/browser.js') : null;
  const w = measureWeight(distDir);
  const pass = w.jsGzip <= BUDGET_KIB;
  rows.push(['dashboard_initial_js_gzip_kib', `${round(w.jsGzip)} (${w.jsFiles} file${w.jsFiles === 1 ? '' : 's'}, ${round(w.jsRaw)} raw) ${pass ? 'PASS' : 'FAIL'}`, `≤ ${BUDGET_KIB}`]);
  rows.push(['dashboard_css_gzip_kib', `${round(w.cssGzip)} (${round(w.cssRaw)} raw)`, '']);
  Object.assign(result, { dashboard_initial_js_gzip_kib: round(w.jsGzip), dashboard_initial_js_files: w.jsFiles, dashboard_initial_js_budget_pass: pass ? 1 : 0, dashboard_css_gzip_kib: round(w.cssGzip) });

  if (!browserSupport) {
    cleanupBuild();
    loud(`${CHROMIUM} is missing: the dashboard timings are SKIPPED (apt-get install -y chromium). Weight measured only.`);
    notes.push(`timings skipped: ${CHROMIUM} missing`);
    return { rows, result, notes };
  }

  try {
    notes.push(...(await timings(browserSupport, distDir, RUNS, rows, result)));
  } finally {
    cleanupBuild();
  }
  rows.push(['dashboard_bench_s', String(round((performance.now() - started) / 1000, 0)), '']);
  return { rows, result, notes };
}

/** Steps 2 and 3: a seeded server, and the dashboard timed in Chromium. */
async function timings(
  browserSupport: typeof import('../test/support/browser.js'),
  distDir: string,
  RUNS: number,
  rows: Row[],
  result: Record<string, number>,
): Promise<string[]> {
  const notes: string[] = [];
  // 2. A seeded server in this process, on a temp SQLite file, serving the build.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-bench-dashboard-db-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${path.join(dir, 'bench.sqlite')}`,
    LOG_LEVEL: 'warn',
    DASHBOARD_DIR: distDir,
    PUBLIC_API_LIMIT_PER_IP: '100000000',
    PUBLIC_API_LIMIT_PER_INBOX: '100000000',
    CONVERSATION_MESSAGE_PER_MINUTE_LIMIT: '100000000',
    SIGN_IN_LIMIT_PER_IP: '100000000',
    SIGN_IN_LIMIT_PER_EMAIL: '100000000',
  });
  const server = await createServer(config);
  let browser: Browser | null = null;
  try {
    const base = (await server.listen()).replace('[::1]', '127.0.0.1');
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(base)) throw new Error(`server listens on ${base}, not 127.0.0.1`);
    log(`seeding ${CONVERSATIONS} conversations and one of ${LONG_MESSAGES} messages …`);
    const ts = performance.now();
    const s = await seed(server);
    const seedMs = performance.now() - ts;
    await settle(server);
    const settledMs = performance.now() - ts;
    log(`seeded ${s.conversations} conversations, ${s.messages} messages in ${ms(seedMs)} (outbox caught up at ${ms(settledMs)})`);
    rows.push(['dashboard_seed_ms', `${round(seedMs, 0)} (${s.conversations} conversations, ${s.messages} messages; outbox idle at ${round(settledMs, 0)})`, '']);
    result.dashboard_seed_ms = round(seedMs, 0);

    // 3. Chromium, signed in once; every run in a fresh context with that cookie (cold HTTP cache).
    browser = await browserSupport.launchChromium();
    const login = await browser.newContext();
    const signIn = await login.request.post(`${base}/auth/sign_in`, { data: { email: EMAIL, password: PASSWORD }, headers: { origin: base } });
    if (signIn.status() !== 200) throw new Error(`sign in → ${signIn.status()}: ${await signIn.text()}`);
    const storageState = await login.storageState();
    await login.close();
    const problems: string[] = [];
    const fresh = async (): Promise<{ context: BrowserContext; page: Page }> => {
      const context = await browser!.newContext({ viewport: { width: 1280, height: 800 }, storageState });
      browserSupport!.watchProblems(context, problems);
      return { context, page: await context.newPage() };
    };

    // Warm the server (first requests compile queries, fill caches), not measured.
    {
      const { context, page } = await fresh();
      await page.goto(`${base}/app/conversations`, { waitUntil: 'load' });
      await page.waitForTimeout(500);
      await context.close();
    }

    // (a) The conversation list.
    log(`conversation list × ${RUNS} …`);
    const listUrl = `${base}/app/conversations?status=all`;
    const listRuns: Timed[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { context, page } = await fresh();
      const r = await timeList(page, listUrl, CONVERSATIONS_PER_PAGE);
      listRuns.push(r);
      await context.close();
      if (!r.ok) {
        log(`${r.why}${i + 1 < RUNS ? ' — remaining runs skipped' : ''}`);
        break;
      }
    }
    const list = stats('list_1000', listRuns, '');
    rows.push(...list.rows);
    Object.assign(result, list.result);
    if (list.note) notes.push(list.note);

    // (b) The 10 000-message conversation, then (c) scrolling back through 1 000 older messages.
    log(`conversation of ${LONG_MESSAGES} messages × ${RUNS} …`);
    const convUrl = `${base}/app/conversations/${s.longDisplayId}`;
    const convRuns: Timed[] = [];
    let back: ScrollBack | null = null;
    for (let i = 0; i < RUNS; i++) {
      const { context, page } = await fresh();
      const r = await timeConversation(page, convUrl, s.longLastId);
      convRuns.push(r);
      if (r.ok && i === RUNS - 1) {
        log(`scrolling back ${SCROLL_BACK} messages …`);
        await page.waitForTimeout(300);
        back = await scrollBack(page, SCROLL_BACK, s.longFirstId).catch((err: Error) => ({ pages: [], loaded: 0, error: `failed: ${err.message.split('\n')[0]}` }));
      }
      await context.close();
      if (!r.ok) {
        log(`${r.why}${i + 1 < RUNS ? ' — remaining runs skipped' : ''}`);
        break;
      }
    }
    const conv = stats('conversation_10000', convRuns, '');
    rows.push(...conv.rows);
    Object.assign(result, conv.result);
    if (conv.note) notes.push(conv.note);

    if (back) {
      const per = back.pages.map((p) => p.ms).sort((a, b) => a - b);
      const jumps = back.pages.filter((p) => p.jumped).length;
      const worstShift = back.pages.reduce((m, p) => Math.max(m, p.shiftPx === null ? Infinity : Math.abs(p.shiftPx)), 0);
      if (per.length) {
        rows.push(['dashboard_scroll_back_page_p50_ms', `${round(percentile(per, 50), 0)} (${back.pages.length} pages, ${back.loaded} messages)`, '']);
        rows.push(['dashboard_scroll_back_page_p95_ms', String(round(percentile(per, 95), 0)), '']);
        rows.push(['dashboard_scroll_back_jumps', `${jumps} of ${back.pages.length}${jumps ? ` (worst shift ${worstShift === Infinity ? 'anchor message gone' : `${worstShift} px`})` : ''}`, '0']);
        Object.assign(result, {
          dashboard_scroll_back_page_p50_ms: round(percentile(per, 50), 0),
          dashboard_scroll_back_page_p95_ms: round(percentile(per, 95), 0),
          dashboard_scroll_back_pages: back.pages.length,
          dashboard_scroll_back_loaded: back.loaded,
          dashboard_scroll_back_jumps: jumps,
        });
      } else rows.push(['dashboard_scroll_back', 'FAILED', '']);
      const firstJump = back.pages.find((p) => p.jumped);
      if (firstJump) {
        notes.push(
          `scroll back: the view jumped on ${jumps} of ${back.pages.length} prepends; first: message ${firstJump.beforeId} was first on screen before, ${firstJump.afterId} after (${firstJump.shiftPx === null ? `${firstJump.beforeId} no longer rendered` : `moved ${firstJump.shiftPx} px`})`,
        );
      }
      if (back.error) notes.push(`scroll back: ${back.error} (${back.loaded} older messages loaded)`);
    } else if (convRuns.every((r) => r.ok)) notes.push('scroll back: not measured');
    else notes.push('scroll back: not measured (the conversation never rendered)');
    if (problems.length) notes.push(`page errors: ${[...new Set(problems)].slice(0, 5).join(' | ')}`);
  } finally {
    await browser?.close().catch(() => {});
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return notes;
}

export function printDashboard(d: DashboardBench) {
  console.log('| measure | value | target |\n|---|---|---|');
  for (const r of d.rows) console.log(`| ${r.join(' | ')} |`);
  for (const n of d.notes) console.log(`- ${n}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  dashboardBench({ runs: process.argv.includes('--quick') ? 3 : 5 })
    .then((d) => {
      printDashboard(d);
      console.log(JSON.stringify(d.result));
      process.exit(0);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}

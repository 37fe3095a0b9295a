import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { NO_RATE_LIMITS, startTestServer, type TestServer } from '../support/harness.js';
import { axeScan, buildDashboard, hasChromium, launchChromium, newPage, shoot, T } from '../support/browser.js';

/**
 * The conversation list in headless Chromium: tabs, status, inbox and their counts, sort and search
 * (all kept in the query string), live updates over /cable (a new conversation appears, a new message
 * moves its conversation to the top with an unread badge), bulk resolve and assign, the empty state,
 * and 1024 px wide.
 */

(hasChromium ? describe : describe.skip)('dashboard: the conversation list', () => {
  let h: TestServer;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    h = await startTestServer('sqlite', { DASHBOARD_DIR: await buildDashboard(), ...NO_RATE_LIMITS });
    browser = await launchChromium();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  /** The rows on screen, top to bottom: [display id, contact name, preview]. */
  async function rows(page: Page) {
    return page.locator('[data-testid="conversation-item"]').evaluateAll((els) =>
      els
        .map((el) => ({
          top: el.getBoundingClientRect().top,
          id: Number(el.getAttribute('data-conversation-id')),
          name: el.querySelector('.cx-name')?.textContent ?? '',
          preview: el.querySelector('[data-testid="conversation-preview"]')?.textContent ?? '',
          unread: !!el.querySelector('[data-testid="unread-badge"]'),
        }))
        .sort((a, b) => a.top - b.top)
        .map(({ top: _t, ...r }) => r),
    );
  }
  const names = async (page: Page) => (await rows(page)).map((r) => r.name);

  /** Polls until `get` returns something deep-equal to `want` (the page updates on its own time). */
  let current: Page | null = null;
  async function eventually<V>(get: () => Promise<V>, want: V, what: string, timeout = 15_000) {
    const deadline = Date.now() + timeout;
    let last: V | undefined;
    for (;;) {
      last = await get();
      if (JSON.stringify(last) === JSON.stringify(want)) return;
      if (Date.now() > deadline) {
        await current?.screenshot({ path: `test-output/conversations-failure.png` }).catch(() => undefined);
        expect(last, `${what} (problems: ${problems.join(' | ')})`).toEqual(want);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  it('tabs, statuses, inboxes, counts, sort and search; live rows; bulk resolve and assign; empty state', async () => {
    const { accountId, admin } = await h.account({ name: 'Northwind Support' });
    const base = `/api/v1/accounts/${accountId}`;
    const web = await h.inbox(accountId, { name: 'Web chat' });
    const mail = await h.inbox(accountId, { name: 'Email desk' });

    const ok = async (method: string, url: string, body?: unknown) => {
      const r = await h.api(method, url, { token: admin.token, ...(body === undefined ? {} : { body }) });
      expect(r.status, `${method} ${url}: ${r.text}`).toBe(200);
      return r.body;
    };
    const pub = async (identifier: string, method: string, url: string, body?: unknown) => {
      const r = await h.api(method, `/public/api/v1/inboxes/${identifier}${url}`, body === undefined ? {} : { body });
      expect(r.status, `${method} ${url}: ${r.text}`).toBe(200);
      return r.body;
    };
    /** A contact writing in through the client API: its conversation id and a way to write again. */
    const contactWrites = async (inbox: { identifier: string }, name: string, email: string, text: string) => {
      const contact = await pub(inbox.identifier, 'POST', '/contacts', { name, email });
      const conv = await pub(inbox.identifier, 'POST', `/contacts/${contact.source_id}/conversations`, {});
      await pub(inbox.identifier, 'POST', `/contacts/${contact.source_id}/conversations/${conv.id}/messages`, { content: text });
      return {
        id: conv.id as number,
        say: (content: string) => pub(inbox.identifier, 'POST', `/contacts/${contact.source_id}/conversations/${conv.id}/messages`, { content }),
      };
    };

    const ada = await contactWrites(web, 'Ada Lovelace', 'ada@example.com', 'My invoice is wrong');
    const bob = await contactWrites(web, 'Bob Builder', 'bob@example.com', 'Where is my parcel?');
    const cleo = await contactWrites(mail, 'Cleo Patra', 'cleo@example.com', 'Password reset not arriving');
    const dan = await contactWrites(mail, 'Dan Brown', 'dan@example.com', 'Can I change my plan?');
    const eve = await contactWrites(web, 'Eve Online', 'eve@example.com', 'Thanks, all good');
    await ok('POST', `${base}/conversations/${ada.id}/assignments`, { assignee_id: admin.id });
    await ok('POST', `${base}/conversations/${cleo.id}/assignments`, { assignee_id: admin.id });
    await ok('POST', `${base}/conversations/${dan.id}/toggle_status`, { status: 'pending' });
    await ok('POST', `${base}/conversations/${cleo.id}/labels`, { labels: ['billing', 'vip', 'urgent-ish'] });
    await ok('PATCH', `${base}/conversations/${cleo.id}`, { priority: 'high' });
    // A later word from Ada: the newest activity, though the oldest conversation.
    await new Promise((r) => setTimeout(r, 1100));
    await ada.say('Following up about the invoice');
    await ok('POST', `${base}/conversations/${eve.id}/messages`, { content: 'Glad to help, <b>Eve</b>!' });
    await ok('POST', `${base}/conversations/${eve.id}/messages`, { content: 'Eve asked twice already', private: true });

    // Sign in; the list opens on All / Open, newest activity first.
    const page = await newPage(browser, problems);
    current = page;
    await page.goto(`${h.url}/app/conversations`);
    await page.getByLabel('E-mail').fill(admin.email);
    await page.getByLabel('Password').fill('password123');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const list = page.getByTestId('conversation-list');
    await list.waitFor(T);
    await page.locator('[data-testid="conversation-item"]').first().waitFor(T);
    await eventually(() => names(page), ['Eve Online', 'Ada Lovelace', 'Cleo Patra', 'Bob Builder'], 'All / Open by last activity');
    const tab = (name: string) => page.getByRole('tab', { name: new RegExp(`^${name}\\b`) });
    await eventually(() => tab('Mine').textContent(), 'Mine 2', 'Mine count');
    expect(await tab('Unassigned').textContent()).toBe('Unassigned 2');
    expect(await tab('All').textContent()).toBe('All 4');
    expect(await tab('All').getAttribute('aria-selected')).toBe('true');

    // Previews: text only (HTML shown as text), the sender of a reply, a private note says so.
    const eveRow = page.locator(`[data-testid="conversation-item"][data-conversation-id="${eve.id}"]`);
    expect(await eveRow.getByTestId('conversation-preview').textContent()).toBe('Eve asked twice already');
    expect(await eveRow.textContent()).toContain('Private note:');
    expect(await eveRow.locator('b').count()).toBe(0);
    const cleoRow = page.locator(`[data-testid="conversation-item"][data-conversation-id="${cleo.id}"]`);
    expect(await cleoRow.textContent()).toMatch(/High/);
    expect(await cleoRow.locator('.cx-label').allTextContents()).toEqual(['billing', 'vip', '+1']);
    expect(await cleoRow.locator('time').getAttribute('title')).toBeTruthy();
    // Contacts wrote and nobody has read them: unread badges.
    expect((await rows(page)).find((r) => r.id === bob.id)?.unread).toBe(true);

    // Tabs.
    await tab('Mine').click();
    await page.waitForURL(/tab=mine/, T);
    await eventually(() => names(page), ['Ada Lovelace', 'Cleo Patra'], 'Mine');
    await tab('Unassigned').click();
    await eventually(() => names(page), ['Eve Online', 'Bob Builder'], 'Unassigned');
    await tab('All').click();
    await eventually(() => names(page), ['Eve Online', 'Ada Lovelace', 'Cleo Patra', 'Bob Builder'], 'All again');

    // Status: pending holds Dan only; back to open.
    await page.getByLabel('Status', { exact: true }).selectOption('pending');
    await page.waitForURL(/status=pending/, T);
    await eventually(() => names(page), ['Dan Brown'], 'Pending');
    await eventually(() => tab('All').textContent(), 'All 1', 'All count when pending');
    await page.getByLabel('Status', { exact: true }).selectOption('open');
    await eventually(() => names(page), ['Eve Online', 'Ada Lovelace', 'Cleo Patra', 'Bob Builder'], 'Open again');

    // Inbox sidebar: per-inbox counts; Web chat holds Ada, Bob and Eve.
    const inboxes = page.getByRole('navigation', { name: 'Inboxes' });
    const webLink = inboxes.getByRole('link', { name: /^Web chat/ });
    await eventually(async () => /, 3 open$/.test((await webLink.textContent()) ?? ''), true, 'Web chat counts');
    expect(await webLink.textContent()).toMatch(/^Web chat\d+, \d+ unread\d+, 3 open$/);
    await webLink.click();
    await page.waitForURL(new RegExp(`inbox=${web.id}`), T);
    await eventually(() => names(page), ['Eve Online', 'Ada Lovelace', 'Bob Builder'], 'Web chat inbox');
    await eventually(() => tab('Mine').textContent(), 'Mine 1', 'Mine in Web chat');
    expect(await webLink.getAttribute('aria-current')).toBe('page');
    await inboxes.getByRole('link', { name: /^All inboxes/ }).click();
    await eventually(() => names(page), ['Eve Online', 'Ada Lovelace', 'Cleo Patra', 'Bob Builder'], 'All inboxes');

    // Sort by created: newest conversation first.
    await page.getByLabel('Sort by').selectOption('created_at_desc');
    await eventually(() => names(page), ['Eve Online', 'Cleo Patra', 'Bob Builder', 'Ada Lovelace'], 'Newest first');
    // The query string keeps it over a reload.
    await page.reload();
    await eventually(() => names(page), ['Eve Online', 'Cleo Patra', 'Bob Builder', 'Ada Lovelace'], 'Newest first after reload');
    expect(await page.getByLabel('Sort by').inputValue()).toBe('created_at_desc');
    await page.getByLabel('Sort by').selectOption('last_activity_at_desc');
    await eventually(() => names(page), ['Eve Online', 'Ada Lovelace', 'Cleo Patra', 'Bob Builder'], 'Last activity again');

    // Search: a message's text, a contact's name; cleared with Escape.
    const search = page.getByRole('searchbox', { name: 'Search conversations' });
    await search.fill('parcel');
    await page.waitForURL(/q=parcel/, T);
    await eventually(() => names(page), ['Bob Builder'], 'search by message text');
    await search.fill('cleo');
    await eventually(() => names(page), ['Cleo Patra'], 'search by contact name');
    await search.fill('no such words anywhere');
    await page.getByText('No conversations match “no such words anywhere”').waitFor(T);
    await search.press('Escape');
    await eventually(() => names(page), ['Eve Online', 'Ada Lovelace', 'Cleo Patra', 'Bob Builder'], 'search cleared');

    // Opening a conversation: a link keeping the query, the row marked current and read.
    await page.getByLabel('Status', { exact: true }).selectOption('open');
    const adaRow = page.locator(`[data-testid="conversation-item"][data-conversation-id="${ada.id}"]`);
    await adaRow.getByRole('link').click();
    await page.waitForURL(new RegExp(`/app/conversations/${ada.id}`), T);
    expect(await adaRow.getByRole('link').getAttribute('aria-current')).toBe('page');
    expect(await adaRow.getByTestId('unread-badge').count()).toBe(0);
    await shoot(page, 'conversations-list');
    expect(await axeScan(page)).toEqual([]);
    // (In-app navigation: a second full load of a URL is revalidated, and the server's 304 then
    // carries the JSON Content-Security-Policy, which blanks the page — reported to the lead.)
    const home = () => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Conversations' }).click();
    await home();
    await page.waitForURL((u) => u.pathname === '/app/conversations', T);
    await eventually(() => names(page), ['Eve Online', 'Ada Lovelace', 'Cleo Patra', 'Bob Builder'], 'list without an open conversation');

    // Keyboard: j opens the first conversation, j the next, k back; / focuses the search.
    await page.locator('body').click({ position: { x: 5, y: 5 } }).catch(() => undefined);
    await page.keyboard.press('j');
    await page.waitForURL(new RegExp(`/app/conversations/${eve.id}`), T);
    await page.keyboard.press('j');
    await page.waitForURL(new RegExp(`/app/conversations/${ada.id}`), T);
    await page.keyboard.press('k');
    await page.waitForURL(new RegExp(`/app/conversations/${eve.id}`), T);
    // x selects the current conversation for bulk actions, and again deselects it.
    await page.keyboard.press('x');
    await eventually(() => page.getByLabel('Select conversation with Eve Online').isChecked(), true, 'x selects');
    await page.keyboard.press('x');
    await eventually(() => page.getByLabel('Select conversation with Eve Online').isChecked(), false, 'x deselects');
    await page.keyboard.press('/');
    await eventually(() => search.evaluate((el) => el === document.activeElement), true, '/ focuses the search');
    expect(await search.inputValue()).toBe('');
    await home();
    await page.waitForURL((u) => u.pathname === '/app/conversations', T);
    await eventually(() => names(page), ['Eve Online', 'Ada Lovelace', 'Cleo Patra', 'Bob Builder'], 'list again');

    // Live: a new conversation through the client API appears at the top without a reload.
    const fay = await contactWrites(mail, 'Fay Newcomer', 'fay@example.com', 'Hello, is anyone there?');
    await eventually(() => rows(page).then((r) => r[0]), { id: fay.id, name: 'Fay Newcomer', preview: 'Hello, is anyone there?', unread: true }, 'new conversation on top');
    await eventually(() => tab('All').textContent(), 'All 5', 'All count after the new conversation');
    // A message in an older conversation moves it to the top with its preview and an unread badge.
    await bob.say('Any news on the parcel?');
    await eventually(() => rows(page).then((r) => r[0]), { id: bob.id, name: 'Bob Builder', preview: 'Any news on the parcel?', unread: true }, 'older conversation moved up');
    expect(await names(page)).toEqual(['Bob Builder', 'Fay Newcomer', 'Eve Online', 'Ada Lovelace', 'Cleo Patra']);

    // Deleted by an administrator while an agent has it open: the row leaves the list, the view says so.
    const gus = await contactWrites(web, 'Gus Gone', 'gus@example.com', 'Delete me, please');
    await eventually(() => rows(page).then((r) => r[0]?.name), 'Gus Gone', 'Gus on top');
    await page.locator(`[data-testid="conversation-item"][data-conversation-id="${gus.id}"]`).getByRole('link').click();
    await page.waitForURL(new RegExp(`/app/conversations/${gus.id}`), T);
    await page.getByTestId('conversation-view').getByText('Delete me, please').waitFor(T);
    await ok('DELETE', `${base}/conversations/${gus.id}`);
    await page.getByTestId('conversation-view').getByText('This conversation was deleted, with its messages.').waitFor(T);
    await eventually(() => names(page), ['Bob Builder', 'Fay Newcomer', 'Eve Online', 'Ada Lovelace', 'Cleo Patra'], 'the deleted row is gone');
    await eventually(() => tab('All').textContent(), 'All 5', 'All count after the deletion');
    await shoot(page, 'conversation-deleted');
    await home();
    await page.waitForURL((u) => u.pathname === '/app/conversations', T);

    // Bulk: select Bob and Eve, resolve; they leave the Open view and the counts drop.
    await page.getByLabel('Select conversation with Bob Builder').check();
    await page.getByLabel('Select conversation with Eve Online').check();
    const bulk = page.getByRole('group', { name: 'Bulk actions' });
    await bulk.getByText('2 selected').waitFor(T);
    await shoot(page, 'conversations-bulk');
    expect(await axeScan(page)).toEqual([]);
    await bulk.getByRole('button', { name: 'Resolve' }).click();
    await page.getByTestId('bulk-result').waitFor(T);
    expect(await page.getByTestId('bulk-result').textContent()).toMatch(/Resolved: 2 conversations/);
    await eventually(() => names(page), ['Fay Newcomer', 'Ada Lovelace', 'Cleo Patra'], 'resolved ones left');
    await eventually(() => tab('All').textContent(), 'All 3', 'All count after resolving');
    expect(await tab('Unassigned').textContent()).toBe('Unassigned 1');
    const meta = await ok('GET', `${base}/conversations/meta`);
    expect(meta.meta).toMatchObject({ all_count: 3, unassigned_count: 1, mine_count: 2 });
    for (const c of [bob, eve]) expect((await ok('GET', `${base}/conversations/${c.id}`)).status).toBe('resolved');
    expect(await page.getByRole('group', { name: 'Bulk actions' }).count()).toBe(0);

    // Bulk assign: the last unassigned one to me; the Unassigned tab is empty then.
    await tab('Unassigned').click();
    await eventually(() => names(page), ['Fay Newcomer'], 'Unassigned holds Fay');
    await page.getByLabel('Select all 1 conversations on screen').check();
    await bulk.getByRole('button', { name: 'Assign to…' }).click();
    await page.getByRole('list', { name: 'Agents' }).getByRole('button', { name: 'Admin' }).click();
    await page.getByText('No unassigned conversations — nice work').waitFor(T);
    expect((await ok('GET', `${base}/conversations/${fay.id}`)).meta.assignee.id).toBe(admin.id);
    await eventually(() => tab('Mine').textContent(), 'Mine 3', 'Mine count after assigning');
    await shoot(page, 'conversations-empty');
    expect(await axeScan(page)).toEqual([]);

    // 1024 px wide: the inbox sidebar becomes a select, nothing overflows.
    await page.setViewportSize({ width: 1024, height: 720 });
    await tab('All').click();
    await eventually(() => names(page), ['Fay Newcomer', 'Ada Lovelace', 'Cleo Patra'], 'All at 1024');
    await page.getByLabel('Inbox', { exact: true }).selectOption(String(mail.id));
    await eventually(() => names(page), ['Fay Newcomer', 'Cleo Patra'], 'Email desk at 1024');
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await shoot(page, 'conversations-list-1024');
    // The bulk bar fits the narrower list too.
    await page.getByLabel('Select conversation with Cleo Patra').check();
    await bulk.getByRole('button', { name: 'Resolve' }).waitFor(T);
    expect(await page.locator('.cx-listpane').evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    expect(await bulk.evaluate((el) => el.getBoundingClientRect().right <= el.closest('.cx-listpane')!.getBoundingClientRect().right)).toBe(true);
    await shoot(page, 'conversations-bulk-1024');

    // Nothing went wrong on the page but the expected 401 of the signed-out start.
    expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    await page.context().close();
  }, 240_000);

  it('60 conversations: pages load on scroll, few rows in the DOM, a live arrival keeps the rows on screen in place', async () => {
    const { accountId, admin } = await h.account({ name: 'Busy Desk' });
    const inbox = await h.inbox(accountId, { name: 'Website' });
    const pub = `/public/api/v1/inboxes/${inbox.identifier}`;
    const post = async (url: string, body: unknown) => {
      const r = await h.api('POST', `${pub}${url}`, { body });
      expect(r.status, r.text).toBe(200);
      return r.body;
    };
    const start = async (name: string, text: string) => {
      const c = await post('/contacts', { name });
      const conv = await post(`/contacts/${c.source_id}/conversations`, {});
      await post(`/contacts/${c.source_id}/conversations/${conv.id}/messages`, { content: text });
      return conv.id as number;
    };
    const ids: number[] = [];
    for (let i = 1; i <= 60; i++) ids.push(await start(`Customer ${String(i).padStart(2, '0')}`, `Question number ${i}`));

    const page = await newPage(browser, problems);
    current = page;
    const signIn = await page.context().request.post(`${h.url}/auth/sign_in`, { data: { email: admin.email, password: 'password123' }, headers: { origin: h.url } });
    expect(signIn.status()).toBe(200);
    await page.goto(`${h.url}/app/conversations?status=open`);
    const first = page.locator('[data-testid="conversation-item"]').first();
    await first.waitFor(T);
    const setSize = () => first.getAttribute('aria-setsize').then(Number);
    await eventually(setSize, 25, 'the first page');
    const scroller = page.locator('.cx-scroll');

    // Scrolling to the end loads the next pages, until all 60 are there; the DOM holds a screenful.
    for (const want of [50, 60]) {
      await scroller.evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await eventually(setSize, want, `${want} loaded`);
    }
    expect(await page.locator('[data-testid="conversation-item"]').count()).toBeLessThan(40);
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    // The last row is the oldest conversation.
    await scroller.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await eventually(() => rows(page).then((r) => r.at(-1)?.id), ids[0], 'oldest at the end');

    // Scrolled into the middle, a new conversation arrives: it goes on top, the rows on screen stay put.
    await scroller.evaluate((el) => el.scrollTo(0, 20 * 86 + 30));
    const onScreen = () =>
      scroller.evaluate((el) => {
        const top = el.getBoundingClientRect().top;
        const r = [...el.querySelectorAll('[data-testid="conversation-item"]')]
          .map((x) => ({ id: Number(x.getAttribute('data-conversation-id')), y: Math.round(x.getBoundingClientRect().top - top) }))
          .filter((x) => x.y > -86 && x.y < el.clientHeight)
          .sort((a, b) => a.y - b.y);
        return r.slice(0, 3);
      });
    await eventually(async () => (await onScreen()).length, 3, 'rows on screen');
    const before = await onScreen();
    const newest = await start('Zed Latecomer', 'Just arrived');
    await eventually(setSize, 61, 'the new conversation is in the list');
    expect(await onScreen()).toEqual(before);
    await scroller.evaluate((el) => el.scrollTo(0, 0));
    await eventually(() => rows(page).then((r) => r[0]?.id), newest, 'newest on top');
    expect(await axeScan(page)).toEqual([]);

    expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    await page.context().close();
  }, 240_000);
});

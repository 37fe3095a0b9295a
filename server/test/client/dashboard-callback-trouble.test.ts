import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { NO_RATE_LIMITS, startTestServer, type TestServer } from '../support/harness.js';
import { axeScan, buildDashboard, hasChromium, launchChromium, newPage as openPage, shoot, T } from '../support/browser.js';
import { startReceiver, type Receiver } from '../webhooks/support.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 14 items 2 and 3 in headless Chromium: a callback URL on a private address is saved and the
 * inbox (right after create, and its page) and the webhook screens say why nothing will arrive; an
 * outgoing message whose callback fails shows that it is being retried, live, then delivered — or
 * failed, with its Retry.
 */

async function signIn(page: Page, h: TestServer, email: string) {
  await page.goto(`${h.url}/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor(T);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill('password123');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor(T);
}

(hasChromium ? describe : describe.skip)('callback trouble in the dashboard', () => {
  let browser: Browser;
  let dashboard: string;
  const problems: string[] = [];

  beforeAll(async () => {
    dashboard = await buildDashboard();
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    // The sign-in page's session probe answers 401 before sign-in.
    expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
  });

  it('a private callback URL: warned right after create, on the inbox, on the webhook and in the list', async () => {
    const h = await startTestServer('sqlite', { DASHBOARD_DIR: dashboard, WEBHOOK_ALLOW_PRIVATE_NETWORK: 'false', ...NO_RATE_LIMITS });
    try {
      const { admin } = await h.account({ name: 'Acme' });
      const page = await openPage(browser, problems);
      await signIn(page, h, admin.email);

      await page.goto(`${h.url}/app/settings/inboxes/new`);
      await page.getByRole('button', { name: /^API/ }).click();
      await page.getByLabel('Channel name').fill('Office API');
      await page.getByLabel('Callback URL (optional)').fill('http://192.168.1.40:8080/channelx');
      await page.getByRole('button', { name: 'Create inbox' }).click();
      await page.getByRole('heading', { name: 'Add agents to “Office API”' }).waitFor(T);
      const warning = page.getByTestId('callback-warning');
      await warning.waitFor(T);
      expect(await warning.textContent()).toMatch(/ChannelX will not call this callback URL yet\..*192\.168\.1\.40 is a private network address.*WEBHOOK_ALLOW_PRIVATE_NETWORK=true/s);
      await shoot(page, 'callback-warning-01-created');
      expect(await axeScan(page)).toEqual([]);

      await page.getByRole('button', { name: 'Skip for now' }).click();
      await page.getByRole('heading', { level: 1, name: /Office API/ }).waitFor(T);
      await warning.waitFor(T);
      await page.getByRole('navigation', { name: 'Inbox sections' }).getByRole('link', { name: 'Configuration' }).click();
      await page.getByRole('heading', { name: 'Inbox identifier' }).waitFor(T);
      expect(await warning.isVisible()).toBe(true);
      await shoot(page, 'callback-warning-02-inbox');

      // A public address: the warning goes with the save.
      await page.getByRole('navigation', { name: 'Inbox sections' }).getByRole('link', { name: 'Settings' }).click();
      await page.getByLabel(/Callback URL/).fill('https://93.184.215.14/channelx');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await warning.waitFor({ state: 'detached', ...T });

      await page.goto(`${h.url}/app/settings/webhooks`);
      await page.getByText('No webhooks yet.').waitFor(T);
      await page.getByRole('button', { name: 'Add webhook' }).first().click();
      await page.getByLabel('Endpoint URL').fill('http://localhost:9000/events');
      await page.getByRole('checkbox', { name: /Message created/ }).check();
      await page.getByRole('button', { name: 'Add webhook' }).last().click();
      await page.waitForURL(/\/app\/settings\/webhooks\/\d+$/, T);
      await warning.waitFor(T);
      expect(await warning.textContent()).toMatch(/will not call this endpoint yet\..*localhost resolves to \S+, a loopback address/s);
      await shoot(page, 'callback-warning-03-webhook');
      expect(await axeScan(page)).toEqual([]);
      await page.getByRole('link', { name: '← Webhooks' }).click();
      const badge = page.getByTestId('webhook-row').getByTestId('webhook-warning-badge');
      await badge.waitFor(T);
      expect(await badge.getAttribute('title')).toMatch(/refused while WEBHOOK_ALLOW_PRIVATE_NETWORK=false/);
      await shoot(page, 'callback-warning-04-webhook-list');
      await page.context().close();
    } finally {
      await h.close();
    }
  });

  it('a failing reply callback: retrying shows beside the status and updates live; delivered clears it; failed keeps Retry', async () => {
    const h = await startTestServer('sqlite', { DASHBOARD_DIR: dashboard, WEBHOOK_RETRY_SCHEDULE: '0.3,300', ...NO_RATE_LIMITS });
    const rx: Receiver = await startReceiver();
    try {
      const { accountId, admin } = await h.account({ name: 'Acme' });
      const inbox = await h.inbox(accountId, { name: 'Website API', webhook_url: rx.url });
      const base = `/api/v1/accounts/${accountId}`;
      const c = await h.api('POST', `${base}/contacts`, { token: admin.token, body: { inbox_id: inbox.id, name: 'Marie Curie' } });
      const conv = await h.api('POST', `${base}/conversations`, { token: admin.token, body: { source_id: c.body.payload.contact_inbox.source_id, inbox_id: inbox.id } });
      const displayId = conv.body.id as number;
      const page = await openPage(browser, problems);
      await signIn(page, h, admin.email);
      await page.goto(`${h.url}/app/conversations/${displayId}`);
      await page.locator(`[data-testid="conversation-view"][data-conversation-id="${displayId}"]`).waitFor(T);

      // 1. The first attempt fails, the second waits at the receiver until the page showed the state.
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      let seen = 0;
      rx.respond = async (r) => {
        if (r.json?.event !== 'message_created' || r.json?.content !== 'It ships today.') return { status: 200 };
        if (++seen === 1) return { status: 503 };
        await gate;
        return { status: 200 };
      };
      // The send's own response is held until the page shows the retrying state from the socket: a
      // response that arrives after the frames (a loaded machine) must not put the older state back.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const sendUrl = `**/api/v1/accounts/${accountId}/conversations/${displayId}/messages`;
      await page.route(sendUrl, async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        const response = await route.fetch();
        await held;
        await route.fulfill({ response });
      });
      const reply = page.getByRole('textbox', { name: 'Reply' });
      await reply.fill('It ships today.');
      await reply.press('Enter');
      const first = page.locator('[data-testid="message"]', { hasText: 'It ships today.' });
      const note = first.getByTestId('delivery-retrying');
      await note.waitFor(T);
      const answered = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/conversations/${displayId}/messages`));
      release();
      await answered;
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      await page.unroute(sendUrl);
      expect(await note.count()).toBe(1);
      expect(await note.textContent()).toMatch(/Retrying delivery \(attempt 1, (next in \d+ s|retrying now)\): 503 Service Unavailable/);
      open();
      await note.waitFor({ state: 'detached', ...T });
      await page.locator('[data-testid="message"][data-status="sent"]', { hasText: 'It ships today.' }).waitFor(T);

      // 2. Every attempt fails: attempt 2 leaves five minutes to the next.
      rx.respond = (r) => (r.json?.event === 'message_created' ? { status: 503 } : { status: 200 });
      await reply.fill('Tracking number follows.');
      await reply.press('Enter');
      const second = page.locator('[data-testid="message"]', { hasText: 'Tracking number follows.' });
      await second.getByTestId('delivery-retrying').filter({ hasText: 'attempt 2' }).waitFor({ timeout: 20_000 });
      expect(await second.getByTestId('delivery-retrying').textContent()).toMatch(/Retrying delivery \(attempt 2, next in [56] min\): 503 Service Unavailable/);
      expect(await second.getAttribute('data-status')).toBe('sent');
      await shoot(page, 'delivery-01-retrying');
      expect(await axeScan(page)).toEqual([]);

      // Five minutes pass (the row's next attempt is made due): the last attempt fails.
      const id = Number(await second.getAttribute('data-message-id'));
      await h.server.ctx.database.db.updateTable('webhook_deliveries').set({ next_attempt_at: Date.now() }).where('message_id', '=', id).where('status', '=', 'pending').execute();
      h.server.ctx.deliveries.wake();
      const failed = page.locator(`[data-testid="message"][data-message-id="${id}"][data-status="failed"]`);
      await failed.waitFor({ timeout: 20_000 });
      expect(await failed.getByRole('alert').textContent()).toMatch(/Not delivered after 3 attempts: 503 Service Unavailable/);
      expect(await second.getByTestId('delivery-retrying').count()).toBe(0);
      await shoot(page, 'delivery-02-failed');

      rx.respond = () => ({ status: 200 });
      await failed.getByRole('button', { name: 'Retry' }).click();
      await page.locator(`[data-testid="message"][data-message-id="${id}"][data-status="sent"]`).waitFor(T);
      await waitFor(() => rx.requests.filter((r) => r.json?.event === 'message_created' && r.json?.id === id).length === 4, 'the retried callback');
      expect(await second.getByRole('alert').count()).toBe(0);
      await page.context().close();
    } finally {
      await rx.close();
      await h.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { NO_RATE_LIMITS, startTestServer, type TestServer } from '../support/harness.js';
import { axeScan, buildDashboard, hasChromium, launchChromium, newPage as openPage, shoot, T } from '../support/browser.js';
import { receiver } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';
import { consumer, disconnectAll, subscribe } from '../realtime/cable.js';

/**
 * The conversation view in headless Chromium: an API inbox whose callback URL is a receiver in this
 * process (told to answer 500 on demand), a contact talking through the public client API, and
 * agents in browser contexts of their own.
 */


(hasChromium ? describe : describe.skip)('the conversation view in headless Chromium', () => {
  let h: TestServer;
  let browser: Browser;
  const problems: string[] = [];
  const rx = receiver();
  let accountId: number;
  let base: string;
  let adminToken: string;
  let adminEmail: string;
  let adminId: number;
  let inbox: { id: number; identifier: string };

  beforeAll(async () => {
    const url = await rx.listen();
    h = await startTestServer('sqlite', { DASHBOARD_DIR: await buildDashboard(), WEBHOOK_RETRY_SCHEDULE: '0.2', WEBHOOK_TIMEOUT_MS: '3000', ...NO_RATE_LIMITS });
    browser = await launchChromium();
    const acc = await h.account({ name: 'Acme Support' });
    accountId = acc.accountId;
    adminToken = acc.admin.token;
    adminEmail = acc.admin.email;
    adminId = acc.admin.id;
    base = `/api/v1/accounts/${accountId}`;
    const created = await h.inbox(accountId, { name: 'Website API', webhook_url: url });
    inbox = { id: created.id, identifier: created.identifier };
  }, 180_000);
  afterAll(async () => {
    disconnectAll();
    await browser?.close();
    await h?.close();
    await rx.close();
  });

  const pub = (path: string) => `/public/api/v1/inboxes/${inbox.identifier}${path}`;

  async function contactWithConversation(name: string, extra: Record<string, unknown> = {}) {
    const c = await h.api('POST', pub('/contacts'), { body: { name, ...extra } });
    expect(c.status, c.text).toBe(200);
    const conv = await h.api('POST', pub(`/contacts/${c.body.source_id}/conversations`), { body: {} });
    expect(conv.status, conv.text).toBe(200);
    return { sourceId: c.body.source_id as string, pubsub: c.body.pubsub_token as string, displayId: conv.body.id as number };
  }

  const incoming = (sourceId: string, displayId: number, content: string) =>
    h.api('POST', pub(`/contacts/${sourceId}/conversations/${displayId}/messages`), { body: { content } });

  async function signedIn(page: Page, email: string, password: string, path: string) {
    await page.goto(`${h.url}${path}`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor(T);
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  const view = (page: Page, id: number) => page.locator(`[data-testid="conversation-view"][data-conversation-id="${id}"]`);
  const message = (page: Page, text: string) => page.locator('[data-testid="message"]', { hasText: text });
  const conversation = async (id: number) => (await h.api('GET', `${base}/conversations/${id}`, { token: adminToken })).body;

  it('reads, replies, notes, types, fails and retries, and acts on a conversation; a second agent shows as viewing and typing', async () => {
    const { sourceId, pubsub, displayId } = await contactWithConversation('Marie Curie', { email: 'marie@example.com', phone_number: '+33123456789', identifier: 'mc-1', custom_attributes: { plan: 'pro' } });
    await incoming(sourceId, displayId, 'Hello, my order has not arrived.\nIt was order #42.');
    await incoming(sourceId, displayId, '<img src=x onerror=alert(1)><b>bold</b>');
    // The contact's socket: a private note must never reach it.
    const contactSub = await subscribe(consumer(h), { pubsub_token: pubsub });
    expect(contactSub.state).toBe('connected');

    const page = await openPage(browser, problems);
    await signedIn(page, adminEmail, 'password123', `/app/conversations/${displayId}`);
    await view(page, displayId).waitFor(T);
    await message(page, 'onerror').waitFor(T);

    // User content is text: the markup shows as characters, nothing is rendered.
    const hostile = message(page, 'onerror');
    expect(await hostile.locator('.cv-text').textContent()).toBe('<img src=x onerror=alert(1)><b>bold</b>');
    expect(await hostile.locator('img, b').count()).toBe(0);
    // Line breaks kept.
    expect(await message(page, 'order #42').locator('.cv-text').evaluate((el) => (el as HTMLElement).innerText)).toContain('arrived.\nIt was');
    // The contact panel (opened by hand when the view is too narrow to show it by itself).
    const panel = page.getByTestId('contact-panel');
    if (!(await panel.count())) await page.getByRole('button', { name: 'Contact', exact: true }).click();
    await panel.getByText('marie@example.com').waitFor(T);
    expect(await panel.textContent()).toMatch(/\+33123456789.*mc-1.*plan.*pro/s);
    await shoot(page, 'conversation-contact-panel');
    if (await page.getByRole('button', { name: 'Hide contact' }).count()) await page.getByRole('button', { name: 'Hide contact' }).click();

    // Reply from the composer: the receiver gets the signed message_created callback.
    const reply = page.getByRole('textbox', { name: 'Reply' });
    await reply.fill('Sorry about that — it ships today.');
    await page.getByRole('button', { name: 'Send' }).click();
    await waitFor(() => rx.hits.find((x) => x.body?.event === 'message_created' && x.body?.content === 'Sorry about that — it ships today.'), 'the callback');
    const hit = rx.hits.find((x) => x.body?.content === 'Sorry about that — it ships today.')!;
    expect(hit.headers['x-channelx-signature'] ?? hit.headers['webhook-signature']).toBeTruthy();
    await page.locator('[data-testid="message"][data-status="sent"]', { hasText: 'it ships today' }).waitFor(T);
    expect(await message(page, 'it ships today').count()).toBe(1);
    await contactSub.next('message.created', (m) => m.data.content === 'Sorry about that — it ships today.');

    // A private note: distinct, and never sent to the contact.
    await page.getByRole('tab', { name: 'Private note' }).click();
    const note = page.getByRole('textbox', { name: 'Private note' });
    await note.fill('Customer is a VIP, escalate if late.');
    await shoot(page, 'conversation-note');
    await note.press('Enter');
    const noteMsg = page.locator('[data-testid="message"][data-private="true"]', { hasText: 'escalate if late' });
    await noteMsg.waitFor(T);
    expect(await noteMsg.getByText('Private note').count()).toBe(1);
    expect(await message(page, 'escalate if late').count()).toBe(1);
    await page.getByRole('tab', { name: 'Reply' }).click();

    // The contact types: the indicator shows.
    await h.api('POST', pub(`/contacts/${sourceId}/conversations/${displayId}/toggle_typing`), { body: { typing_status: 'on' } });
    await page.getByTestId('typing-indicator').waitFor(T);
    expect(await page.getByTestId('typing-indicator').textContent()).toMatch(/Marie Curie is typing/);
    await h.api('POST', pub(`/contacts/${sourceId}/conversations/${displayId}/toggle_typing`), { body: { typing_status: 'off' } });
    await page.getByTestId('typing-indicator').waitFor({ state: 'detached', ...T });

    await shoot(page, 'conversation-view');
    expect(await axeScan(page)).toEqual([]);

    // The receiver fails: the reply turns failed with the error; Retry redelivers once it is back.
    rx.fail(true);
    await reply.fill('Tracking number follows.');
    await reply.press('Enter');
    const failed = page.locator('[data-testid="message"][data-status="failed"]', { hasText: 'Tracking number follows.' });
    await failed.waitFor({ timeout: 30_000 });
    const failedId = Number(await failed.getAttribute('data-message-id'));
    const stored = (await h.api('GET', `${base}/conversations/${displayId}/messages`, { token: adminToken })).body.payload.find((m: any) => m.id === failedId);
    expect(stored.status).toBe('failed');
    expect(await failed.textContent()).toContain(stored.content_attributes.external_error);
    await shoot(page, 'conversation-failed');
    rx.fail(false);
    const before = rx.hits.filter((x) => x.body?.content === 'Tracking number follows.').length;
    await failed.getByRole('button', { name: 'Retry' }).click();
    await waitFor(() => rx.hits.filter((x) => x.body?.content === 'Tracking number follows.').length > before, 'the redelivered callback');
    await page.locator(`[data-testid="message"][data-message-id="${failedId}"][data-status="sent"]`).waitFor(T);

    // The contact socket never saw the note.
    expect(contactSub.received.some((m) => JSON.stringify(m).includes('escalate if late'))).toBe(false);

    // Resolve / snooze (tomorrow) / reopen / assign to me / priority / label, each seen through the API.
    await page.getByRole('button', { name: 'Resolve', exact: true }).click();
    await waitFor(async () => (await conversation(displayId)).status === 'resolved', 'resolved');
    await page.getByRole('button', { name: 'Reopen' }).waitFor(T);
    await page.getByRole('button', { name: 'Snooze' }).click();
    await page.getByTestId('snooze-menu').waitFor(T);
    await shoot(page, 'conversation-snooze-menu');
    expect(await axeScan(page)).toEqual([]);
    await page.getByRole('button', { name: 'Until tomorrow, 9:00' }).click();
    const tomorrow = new Date();
    tomorrow.setDate(tomorrow.getDate() + 1);
    const snoozed = await waitFor(async () => {
      const c = await conversation(displayId);
      return c.status === 'snoozed' && c;
    }, 'snoozed');
    const until = new Date(snoozed.snoozed_until * 1000);
    expect([until.getDate(), until.getHours(), until.getMinutes()]).toEqual([tomorrow.getDate(), 9, 0]);
    await page.getByTestId('conversation-status').filter({ hasText: 'Snoozed' }).waitFor(T);
    await page.getByRole('button', { name: 'Reopen' }).click();
    await waitFor(async () => (await conversation(displayId)).status === 'open', 'reopened');
    await page.getByRole('button', { name: 'Resolve', exact: true }).waitFor(T);

    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Assign to me' }).click();
    await waitFor(async () => (await conversation(displayId)).meta.assignee?.id === adminId, 'assigned to me');
    await page.getByRole('button', { name: /^Assigned: / }).waitFor(T);

    await page.getByRole('button', { name: 'Priority' }).click();
    await page.getByRole('menuitemradio', { name: 'High' }).click();
    await waitFor(async () => (await conversation(displayId)).priority === 'high', 'priority high');

    await page.getByRole('button', { name: 'Labels' }).click();
    await page.getByLabel('Add a label').fill('billing');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await waitFor(async () => JSON.stringify((await conversation(displayId)).labels) === '["billing"]', 'label billing');
    await page.keyboard.press('Escape');
    await page.locator('.cv-header .cv-label', { hasText: 'billing' }).waitFor(T);

    // Another agent's change shows live: an activity line and the new status.
    await h.api('POST', `${base}/conversations/${displayId}/toggle_status`, { token: adminToken, body: { status: 'pending' } });
    await page.getByTestId('conversation-status').filter({ hasText: 'Pending' }).waitFor(T);
    await h.api('POST', `${base}/conversations/${displayId}/toggle_status`, { token: adminToken, body: { status: 'open' } });

    // A second agent in a second browser opens the same conversation: they show in the first one's viewers, then their typing.
    const ada = await h.api('POST', `${base}/agents`, { token: adminToken, body: { name: 'Ada Lovelace', email: 'ada@example.com', role: 'agent', password: 'analytical engine' } });
    expect(ada.status, ada.text).toBe(200);
    expect((await h.api('POST', `${base}/inbox_members`, { token: adminToken, body: { inbox_id: inbox.id, user_ids: [ada.body.id] } })).status).toBe(200);
    const page2 = await openPage(browser, problems);
    await signedIn(page2, 'ada@example.com', 'analytical engine', `/app/conversations/${displayId}`);
    await view(page2, displayId).waitFor(T);
    const viewers = page.getByTestId('viewers');
    await viewers.getByText('Ada Lovelace is also viewing').waitFor(T);
    await page2.getByRole('textbox', { name: 'Reply' }).pressSequentially('On it', { delay: 30 });
    await viewers.getByText('Ada Lovelace is typing a reply').waitFor(T);
    await page2.context().close();
    await viewers.getByText(/Ada Lovelace/).waitFor({ state: 'detached', timeout: 20_000 });

    // Nothing went wrong in the page but the expected 401 of the first load (signed out).
    expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    await page.context().close();
  }, 240_000);

  it('a conversation of 2 000 messages opens at the newest and pages back to the first without jumping', async () => {
    const { sourceId, displayId } = await contactWithConversation('Long Talker');
    expect((await incoming(sourceId, displayId, 'Message 1')).status).toBe(200);
    const db = h.server.ctx.database.db;
    const first = await db.selectFrom('messages').selectAll().where('content', '=', 'Message 1').executeTakeFirstOrThrow();
    const { id: _id, ...row } = first;
    // Times in the database are epoch ms; 90 s apart, so the days change along the way.
    const t0 = Date.now() - 2000 * 90_000;
    await db.updateTable('messages').set({ created_at: t0 }).where('id', '=', first.id).execute();
    for (let start = 2; start <= 2000; start += 200) {
      const batch = [];
      for (let i = start; i < Math.min(start + 200, 2001); i++) {
        const activity = i % 250 === 5;
        const outgoing = !activity && i % 3 === 0;
        batch.push({
          ...row,
          content: activity ? `Conversation was marked resolved by Admin (${i})` : i % 7 === 0 ? `Message ${i}\nwith a second line\nand a third` : `Message ${i}`,
          message_type: activity ? 2 : outgoing ? 1 : 0,
          sender_type: outgoing ? 'User' : activity ? null : row.sender_type,
          sender_id: outgoing ? adminId : activity ? null : row.sender_id,
          created_at: t0 + i * 90_000,
          updated_at: t0 + i * 90_000,
        });
      }
      await db.insertInto('messages').values(batch).execute();
    }

    const page = await openPage(browser, problems, { width: 1280, height: 720 });
    await signedIn(page, adminEmail, 'password123', `/app/conversations/${displayId}`);
    await message(page, 'Message 2000').waitFor(T);
    const scroller = page.getByTestId('message-scroller');
    // Opened at the newest: scrolled to the bottom.
    await waitFor(() => scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 4), 'at the bottom');
    // Virtualised: only a screenful of rows is in the DOM.
    expect(await page.locator('[data-testid="message"]').count()).toBeLessThan(60);
    await shoot(page, 'conversation-long');

    // Scroll to the top again and again: each older page keeps the rows on screen where they were.
    // (Older pages are held back 400 ms, so the test sees the rows on screen before they arrive.)
    await page.route(/\/messages\?.*before=/, async (route) => {
      await new Promise((r) => setTimeout(r, 400));
      await route.continue();
    });
    // Each scroll to the top asks for one older page, not a chain of them (the restored position is
    // away from the top, so the merge itself does not trigger the next load).
    let olderRequests = 0;
    // (One page is a `before=` request, then `after=…&before=` ones widening it.)
    page.on('request', (r) => {
      if (/\/messages\?.*before=/.test(r.url()) && !/[?&]after=/.test(r.url())) olderRequests++;
    });
    let guard = 0;
    let checked = 0;
    for (;;) {
      const requestsBefore = olderRequests;
      if (await page.getByText('Start of the conversation').count()) break;
      expect(guard++).toBeLessThan(40);
      // The first message row on screen once the list has rendered there, where it is, and how many are loaded.
      const anchor = await scroller.evaluate(
        (el) =>
          new Promise<{ id: string; top: number; loaded: number } | null>((resolve) => {
            el.scrollTop = 0;
            requestAnimationFrame(() =>
              requestAnimationFrame(() => {
                const box = el.getBoundingClientRect();
                const rows = [...el.querySelectorAll<HTMLElement>('[data-testid="message"]')].map((m) => ({ id: m.dataset.messageId!, top: m.getBoundingClientRect().top }));
                const first = rows.find((r) => r.top >= box.top);
                resolve(first ? { ...first, loaded: Number(el.dataset.loaded) } : null);
              }),
            );
          }),
      );
      expect(anchor).not.toBeNull();
      // The older page is merged (more messages loaded), or the start shows.
      const loaded = async () => Number(await scroller.getAttribute('data-loaded'));
      const before = anchor!.loaded;
      await waitFor(async () => (await page.getByText('Start of the conversation').count()) > 0 || (await loaded()) > before, 'an older page', 20_000);
      await page.waitForTimeout(150);
      expect(olderRequests - requestsBefore).toBeLessThanOrEqual(1);
      const moved = await scroller.evaluate((el, id) => el.querySelector<HTMLElement>(`[data-message-id="${id}"]`)?.getBoundingClientRect().top ?? null, anchor!.id);
      if (moved !== null) {
        expect(Math.abs(moved - anchor!.top)).toBeLessThan(8);
        checked++;
      }
    }
    // Several pages were loaded on the way up (hundreds of messages each), and the first is there.
    expect(guard).toBeGreaterThanOrEqual(2);
    expect(checked).toBeGreaterThanOrEqual(1);
    expect(Number(await scroller.getAttribute('data-loaded'))).toBe(2000);
    await scroller.evaluate((el) => (el.scrollTop = 0));
    await page.locator('[data-testid="message"]', { hasText: /Message 1$/ }).first().waitFor(T);
    // A day separator above the first day's messages; activity lines are centred lines, not bubbles.
    await page.locator('.cv-day').first().waitFor(T);
    expect(await page.locator('.cv-day').first().getAttribute('aria-label')).not.toBe('Today');
    await shoot(page, 'conversation-long-top');
    await page.locator('.cv-activity', { hasText: 'marked resolved by Admin (5)' }).waitFor(T);
    // Nothing went wrong in the page but the expected 401 of the first load (signed out).
    expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    await page.context().close();
  }, 240_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/harness.js';
import { buildDashboard, cableProxy, hasChromium, launchChromium, newPage, shoot, T } from '../support/browser.js';

/**
 * "Never miss a message": the open conversation and the list in headless Chromium, with the /cable
 * socket cut by a proxy (playwright's routeWebSocket, frames forwarded both ways by hand so both
 * sides can be closed on demand, new connections refused while cut). What happens while the socket
 * is down arrives through the dashboard's refetch after it reconnects, not through live events.
 */

(hasChromium ? describe : describe.skip)('the dashboard after a lost /cable connection', () => {
  let h: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    h = await startTestServer('sqlite', { DASHBOARD_DIR: await buildDashboard() });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('messages and a conversation created while the socket was down are on screen after it reconnects', async () => {
    const { accountId, admin } = await h.account({ name: 'Reconnect Desk' });
    const inbox = await h.inbox(accountId, { name: 'Website', members: [admin.id] });
    const pub = `/public/api/v1/inboxes/${inbox.identifier}`;
    const contactOf = async (name: string) => {
      const c = await h.api('POST', `${pub}/contacts`, { body: { name } });
      expect(c.status).toBe(200);
      const conv = await h.api('POST', `${pub}/contacts/${c.body.source_id}/conversations`, { body: {} });
      expect(conv.status).toBe(200);
      return { sourceId: c.body.source_id as string, conversationId: conv.body.id as number };
    };
    const say = async (who: { sourceId: string; conversationId: number }, content: string) => {
      const m = await h.api('POST', `${pub}/contacts/${who.sourceId}/conversations/${who.conversationId}/messages`, { body: { content } });
      expect(m.status).toBe(200);
      return m.body.id as number;
    };
    const ada = await contactOf('Ada Visitor');
    const first = await say(ada, 'Hello, is anyone there?');

    const problems: string[] = [];
    const page = await newPage(browser, problems);

    // Every /cable connection through a proxy that can cut it.
    const proxy = await cableProxy(page);

    // Signed in by cookie, the conversation open.
    const signIn = await page.context().request.post(`${h.url}/auth/sign_in`, {
      data: { email: admin.email, password: 'password123' },
      headers: { origin: h.url },
    });
    expect(signIn.status()).toBe(200);
    await page.goto(`${h.url}/app/conversations/${ada.conversationId}`);
    const view = page.getByTestId('conversation-view');
    const message = (id: number) => view.locator(`[data-testid="message"][data-message-id="${id}"]`);
    await message(first).waitFor(T);
    // Connected (subscribed through the proxy): one socket, no banner.
    await expect.poll(() => proxy.subscriptions, T).toBe(1);
    expect(proxy.open).toBe(1);
    await page.getByTestId('connection-banner').waitFor({ state: 'hidden', ...T });

    // Cut: both sides closed, new connections refused.
    await proxy.cut();
    await page.getByTestId('connection-banner').waitFor({ state: 'visible', ...T });
    await shoot(page, 'reconnect-banner');

    // While cut: three messages from the contact, and a new conversation.
    const missed = [await say(ada, 'First while you were away'), await say(ada, 'Second while you were away'), await say(ada, 'Third <b>not bold</b>')];
    const bob = await contactOf('Bob Newcomer');
    await say(bob, 'A new question');
    // The dashboard tried to reconnect and was refused (the cut held), and nothing went through.
    await expect.poll(() => proxy.refused, { timeout: 30_000 }).toBeGreaterThan(0);
    expect(proxy.open).toBe(0);
    const before = proxy.subscriptions;

    // Restore: the dashboard reconnects by itself (backoff), the banner goes, what it missed is on screen.
    proxy.restore();
    await expect.poll(() => proxy.subscriptions, { timeout: 45_000 }).toBeGreaterThan(before);
    await page.getByTestId('connection-banner').waitFor({ state: 'hidden', timeout: 45_000 });
    for (const id of missed) await message(id).waitFor(T);
    // HTML in a message is text.
    expect(await message(missed[2]).textContent()).toContain('<b>not bold</b>');
    expect(await message(missed[2]).locator('b').count()).toBe(0);
    await page.locator(`[data-testid="conversation-item"][data-conversation-id="${bob.conversationId}"]`).waitFor(T);
    // The counts are fetched again too: two conversations under All.
    await expect.poll(() => page.getByRole('tab', { name: /^All/ }).textContent(), T).toMatch(/\b2\b/);
    // In order, the first message still there, none twice.
    const ids = await view.locator('[data-testid="message"][data-message-id]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-message-id'))));
    for (const id of [first, ...missed]) expect(ids.filter((x) => x === id)).toHaveLength(1);
    const order = [first, ...missed].map((id) => ids.indexOf(id));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    await shoot(page, 'reconnect-restored');

    // The refused sockets show as failed handshakes in the console; nothing else went wrong.
    expect(problems.filter((p) => !/WebSocket|cable/i.test(p))).toEqual([]);
    await page.context().close();
  });
});

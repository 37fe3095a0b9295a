import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { NO_RATE_LIMITS, startTestServer, type TestServer } from '../support/harness.js';
import { axeScan, buildDashboard, cableProxy, cookieOf, hasChromium, launchChromium, newPage, shoot, T } from '../support/browser.js';
import { receiver } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';
import { consumer, disconnectAll, subscribe } from '../realtime/cable.js';
import { channelxSignature, standardSignature } from '../../src/webhooks/signer.js';

/**
 * The product documentation's journey, walked in the browser by a team that starts from nothing:
 * first-run setup, Settings → Inboxes → Add Inbox → API with a callback URL (a receiver in this
 * process), an agent invited and joining in a second browser, a customer writing in through the
 * API and both dashboards showing it live, a reply reaching the callback signed, a failed callback
 * retried from the UI, a cut socket that loses nothing, a private note that never reaches the
 * customer's socket, and the access token rotated in the profile.
 */

(hasChromium ? describe : describe.skip)('a support team’s first day, in headless Chromium', () => {
  let h: TestServer;
  let browser: Browser;
  const problems: string[] = [];
  const rx = receiver();
  let callbackUrl: string;

  beforeAll(async () => {
    callbackUrl = await rx.listen();
    h = await startTestServer('sqlite', { DASHBOARD_DIR: await buildDashboard(), WEBHOOK_RETRY_SCHEDULE: '0.2', WEBHOOK_TIMEOUT_MS: '3000', ...NO_RATE_LIMITS });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    disconnectAll();
    await browser?.close();
    await h?.close();
    await rx.close();
  });

  const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });
  const row = (page: Page, id: number) => page.locator(`[data-testid="conversation-item"][data-conversation-id="${id}"]`);
  const message = (page: Page, text: string) => page.locator('[data-testid="message"]', { hasText: text });

  it('setup → inbox → invited agent → live conversation → signed reply → failed and retried → cut socket → private note → token rotation', { timeout: 240_000 }, async () => {
    // 1. First run: the account and its administrator.
    const grace = await newPage(browser, problems);
    await grace.goto(`${h.url}/`);
    await grace.getByRole('heading', { name: 'Set up ChannelX' }).waitFor(T);
    await grace.getByLabel('Account name').fill('Acme Support');
    await grace.getByLabel('Your name').fill('Grace Hopper');
    await grace.getByLabel('E-mail').fill('grace@example.com');
    await grace.getByLabel('Password').fill('correct horse');
    await grace.getByRole('button', { name: 'Create account' }).click();
    await grace.waitForURL('**/app/conversations', T);
    const graceCookie = await cookieOf(grace);
    const me = (await h.api('GET', '/api/v1/profile', { cookie: graceCookie })).body;
    const accountId = me.account_id as number;
    const token = me.access_token as string;
    const base = `/api/v1/accounts/${accountId}`;
    await shoot(grace, 'journey-01-empty-inbox');

    // 2. Settings → Agents → invite Ada; she joins in her own browser.
    await nav(grace).getByRole('link', { name: 'Settings' }).click();
    await nav(grace).getByRole('link', { name: 'Agents' }).click();
    await grace.getByRole('button', { name: 'Invite agent' }).click();
    await grace.getByLabel('Name').fill('Ada Lovelace');
    await grace.getByLabel('E-mail').fill('ada@example.com');
    await grace.getByLabel('Role', { exact: true }).selectOption('agent');
    await grace.getByRole('button', { name: 'Send invitation' }).click();
    const link = new URL((await grace.getByTestId('invitation-link').textContent())!.trim());
    const ada = await newPage(browser, problems);
    const adaCable = await cableProxy(ada);
    await ada.goto(`${h.url}${link.pathname}${link.search}`);
    await ada.getByRole('heading', { name: 'Join Acme Support' }).waitFor(T);
    await ada.getByLabel('Password', { exact: true }).fill('analytical engine');
    await ada.getByLabel('Confirm password').fill('analytical engine');
    await ada.getByRole('button', { name: 'Join and sign in' }).click();
    await ada.waitForURL('**/app/conversations', T);

    // 3. Settings → Inboxes → Add inbox → API: name, callback URL, then Ada as its agent.
    await nav(grace).getByRole('link', { name: 'Inboxes' }).click();
    await grace.getByRole('link', { name: 'Add inbox' }).first().click();
    await grace.getByRole('button', { name: /^API/ }).click();
    await grace.getByLabel('Channel name').fill('Website');
    await grace.getByLabel('Callback URL (optional)').fill(callbackUrl);
    await grace.getByRole('button', { name: 'Create inbox' }).click();
    await grace.getByRole('heading', { name: 'Add agents to “Website”' }).waitFor(T);
    await grace.getByRole('checkbox', { name: /Ada Lovelace/ }).check();
    await grace.getByRole('button', { name: 'Add 1 agent' }).click();
    await grace.getByRole('heading', { name: /Website/ }).waitFor(T);
    const inbox = (await h.api('GET', `${base}/inboxes`, { token })).body.payload[0];
    expect(inbox.webhook_url).toBe(callbackUrl);
    // Settings → Configuration shows the identifier the client API uses.
    await grace.getByRole('navigation', { name: 'Inbox sections' }).getByRole('link', { name: 'Configuration' }).click();
    await grace.getByTestId('inbox-identifier').waitFor(T);
    expect(await grace.getByTestId('inbox-identifier').textContent()).toBe(inbox.inbox_identifier);
    await shoot(grace, 'journey-02-inbox-configuration');
    expect(await axeScan(grace)).toEqual([]);

    // 4. Both agents look at their inbox; a customer writes in through the API (contact → conversation → message).
    await nav(grace).getByRole('link', { name: 'Conversations' }).click();
    // Ada's page loads again (now a member of the inbox); the conversation is created while her socket
    // may still be connecting: the dashboard fetches again once it is live, so it shows either way.
    await ada.reload();
    for (const p of [grace, ada]) await p.getByTestId('conversation-list').waitFor({ state: 'attached', ...T });
    const contact = await h.api('POST', `${base}/contacts`, { token, body: { inbox_id: inbox.id, name: 'Jane Customer', email: 'jane@example.com' } });
    expect(contact.status, contact.text).toBe(200);
    const sourceId = contact.body.payload.contact_inbox.source_id as string;
    const conv = await h.api('POST', `${base}/conversations`, { token, body: { source_id: sourceId, inbox_id: inbox.id } });
    expect(conv.status, conv.text).toBe(200);
    const cid = conv.body.id as number;
    const first = await h.api('POST', `${base}/conversations/${cid}/messages`, { token, body: { content: 'Hi, my order #1001 never arrived', message_type: 'incoming' } });
    expect(first.status, first.text).toBe(200);
    // Live, without a reload, in both dashboards, with the preview.
    for (const p of [grace, ada]) {
      await row(p, cid).waitFor(T);
      await expect.poll(() => row(p, cid).getByTestId('conversation-preview').textContent(), T).toContain('order #1001 never arrived');
    }
    await shoot(ada, 'journey-03-live-conversation');

    // The customer's own socket (client API session): watched for the private note later.
    const session = await h.api('POST', `/public/api/v1/inboxes/${inbox.inbox_identifier}/contacts`, { body: { name: 'Jane (widget)' } });
    expect(session.status).toBe(200);
    const widgetConv = await h.api('POST', `/public/api/v1/inboxes/${inbox.inbox_identifier}/contacts/${session.body.source_id}/conversations`, { body: {} });
    const widgetId = widgetConv.body.id as number;
    const customerSocket = await subscribe(consumer(h), { pubsub_token: session.body.pubsub_token });

    // 5. Grace replies from the dashboard: the callback gets the signed outgoing message_created.
    await row(grace, cid).click();
    await grace.locator(`[data-testid="conversation-view"][data-conversation-id="${cid}"]`).waitFor(T);
    await message(grace, 'order #1001').waitFor(T);
    const reply = grace.getByRole('textbox', { name: 'Reply' });
    await reply.fill('Sorry, Jane — it ships today.');
    await grace.getByRole('button', { name: 'Send' }).click();
    const hit = await waitFor(() => rx.hits.find((x) => x.body?.event === 'message_created' && x.body?.content === 'Sorry, Jane — it ships today.'), 'the signed callback');
    expect(hit.body.message_type).toBe('outgoing');
    const ts = Number(hit.headers['x-channelx-timestamp']);
    expect(hit.headers['x-channelx-signature']).toBe(channelxSignature(inbox.secret, ts, hit.raw));
    expect(String(hit.headers['webhook-signature']).split(' ')).toContain(standardSignature(inbox.secret, String(hit.headers['webhook-id']), ts, hit.raw));
    await grace.locator('[data-testid="message"][data-status="sent"]', { hasText: 'it ships today' }).waitFor(T);
    // Ada, on her list, sees the preview change live.
    await expect.poll(() => row(ada, cid).getByTestId('conversation-preview').textContent(), T).toContain('it ships today');

    // 6. The receiver fails: the reply turns failed with the error; after it recovers, Retry redelivers.
    rx.fail(true);
    await reply.fill('Your tracking number is 42.');
    await reply.press('Enter');
    const failed = grace.locator('[data-testid="message"][data-status="failed"]', { hasText: 'tracking number is 42' });
    await failed.waitFor({ timeout: 45_000 });
    await failed.getByRole('button', { name: 'Retry' }).waitFor(T);
    await shoot(grace, 'journey-04-failed');
    rx.fail(false);
    const sentBefore = rx.hits.filter((x) => x.body?.content === 'Your tracking number is 42.').length;
    await failed.getByRole('button', { name: 'Retry' }).click();
    await waitFor(() => rx.hits.filter((x) => x.body?.content === 'Your tracking number is 42.').length > sentBefore, 'the retried callback');
    await grace.locator('[data-testid="message"][data-status="sent"]', { hasText: 'tracking number is 42' }).waitFor(T);

    // 7. Ada's socket is cut; messages arrive meanwhile; once back, every one of them is on her screen.
    await row(ada, cid).click();
    await message(ada, 'tracking number is 42').waitFor(T);
    await adaCable.cut();
    await ada.getByTestId('connection-banner').waitFor({ state: 'visible', ...T });
    await shoot(ada, 'journey-05-connection-lost');
    const missed = ['Is it the blue box?', 'Also, can I change the address?', 'Thanks!'];
    for (const content of missed) {
      const m = await h.api('POST', `${base}/conversations/${cid}/messages`, { token, body: { content, message_type: 'incoming' } });
      expect(m.status).toBe(200);
    }
    await expect.poll(() => adaCable.refused, { timeout: 30_000 }).toBeGreaterThan(0);
    const subscribedBefore = adaCable.subscriptions;
    adaCable.restore();
    await expect.poll(() => adaCable.subscriptions, { timeout: 45_000 }).toBeGreaterThan(subscribedBefore);
    await ada.getByTestId('connection-banner').waitFor({ state: 'hidden', timeout: 45_000 });
    for (const content of missed) await message(ada, content).waitFor(T);
    await expect.poll(() => row(ada, cid).getByTestId('conversation-preview').textContent(), T).toContain('Thanks!');

    // 8. A private note in the widget customer's conversation: agents see it, the customer's socket never does.
    await grace.goto(`${h.url}/app/conversations/${widgetId}`);
    await grace.locator(`[data-testid="conversation-view"][data-conversation-id="${widgetId}"]`).waitFor(T);
    await grace.getByRole('tab', { name: 'Private note' }).click();
    await grace.getByRole('textbox', { name: 'Private note' }).fill('Jane is a VIP: escalate if late.');
    await grace.getByRole('button', { name: 'Send' }).click();
    await grace.locator('[data-testid="message"][data-private="true"]', { hasText: 'escalate if late' }).waitFor(T);
    await shoot(grace, 'journey-06-private-note');
    // A public reply after it reaches the customer's socket, so the note had its chance to leak first.
    await grace.getByRole('tab', { name: 'Reply' }).click();
    await grace.getByRole('textbox', { name: 'Reply' }).fill('We are on it.');
    await grace.getByRole('button', { name: 'Send' }).click();
    await customerSocket.next('message.created', (m) => m.data.content === 'We are on it.');
    expect(JSON.stringify(customerSocket.received)).not.toContain('escalate if late');
    // The callback gets it as the reference sends it, marked private (integrations filter on it).
    for (const x of rx.hits.filter((x) => x.body?.event === 'message_created' && x.raw.includes('escalate if late'))) expect(x.body.private).toBe(true);

    // 9. Ada rotates her access token in the profile: the old one is refused, the new one works.
    await nav(ada).getByRole('link', { name: 'Profile' }).click();
    await ada.getByRole('heading', { name: 'Profile' }).waitFor(T);
    await ada.getByRole('button', { name: 'Reveal' }).click();
    const oldToken = (await ada.getByTestId('access-token').textContent())!;
    expect((await h.api('GET', '/api/v1/profile', { token: oldToken })).status).toBe(200);
    await ada.getByRole('button', { name: 'Rotate token' }).click();
    await ada.getByRole('button', { name: 'Yes, rotate' }).click();
    await ada.getByText('New token created').waitFor(T);
    const newToken = (await ada.getByTestId('access-token').textContent())!;
    expect(newToken).not.toBe(oldToken);
    expect((await h.api('GET', '/api/v1/profile', { token: oldToken })).status).toBe(401);
    expect((await h.api('GET', '/api/v1/profile', { token: newToken })).body.email).toBe('ada@example.com');
    // Her dashboard reconnects with the rotated credentials and stays live.
    await ada.getByTestId('connection-banner').waitFor({ state: 'hidden', timeout: 45_000 });

    // Expected noise only: Ada's refused sockets while cut, and the 401 of her profile check before she joined.
    expect(problems.filter((p) => !/WebSocket|cable|status of 401/i.test(p))).toEqual([]);
  });
});

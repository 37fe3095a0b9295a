import crypto from 'node:crypto';
import http from 'node:http';
import vm from 'node:vm';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/harness.js';
import { waitFor } from '../support/wait.js';
import { axeScan, buildDashboard, hasChromium, launchChromium, newPage as openPage, shoot, T } from '../support/browser.js';

/**
 * Settings → Inboxes in headless Chromium: an administrator adds an API inbox with a callback to a
 * local receiver, gives it an agent, edits it, reads and changes its configuration (identifier,
 * identity verification, secret rotation), and follows a failed callback delivery in the log to a
 * successful redelivery. The verification snippet the page shows is run against a delivery the
 * server really sent. An agent then sees the same inbox without the administrators' controls.
 */

type Captured = { headers: http.IncomingHttpHeaders; body: Buffer; answered: number };

/** A callback receiver: records every request; answers 500 (with an HTML body) while `failing`. */
function startReceiver() {
  const requests: Captured[] = [];
  const state = { failing: false };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answered = state.failing ? 500 : 200;
      requests.push({ headers: req.headers, body: Buffer.concat(chunks), answered });
      if (state.failing) res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Receiver down</h1><script>alert(1)</script>');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  return new Promise<{ url: string; requests: Captured[]; state: typeof state; close: () => Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/callback`, requests, state, close: () => new Promise((r) => server.close(() => r())) });
    }),
  );
}

/**
 * Runs a snippet's text as its reader would (CommonJS, node:crypto), with node:http replaced by a
 * stand-in that hands the snippet's request handler one captured request; returns the status it answers.
 */
function runSnippet(code: string, secret: string, request: { headers: http.IncomingHttpHeaders; body: Buffer }): number {
  let handler: ((req: EventEmitter & { headers: http.IncomingHttpHeaders }, res: unknown) => void) | null = null;
  const fakeHttp = { createServer: (h: typeof handler) => ((handler = h), { listen: () => undefined }) };
  const sandboxRequire = (name: string) => {
    if (name === 'node:crypto') return crypto;
    if (name === 'node:http') return fakeHttp;
    throw new Error(`the snippet requires ${name}`);
  };
  vm.runInNewContext(code, { require: sandboxRequire, process: { env: { CHANNELX_WEBHOOK_SECRET: secret } }, Buffer, console: { log: () => undefined } });
  expect(handler).not.toBeNull();
  let status = 0;
  const res = {
    writeHead(code: number) {
      status = code;
      return res;
    },
    end: () => undefined,
  };
  const req = Object.assign(new EventEmitter(), { headers: request.headers });
  handler!(req, res);
  req.emit('data', request.body);
  req.emit('end');
  return status;
}

(hasChromium ? describe : describe.skip)('Settings → Inboxes in headless Chromium', () => {
  let h: TestServer;
  let browser: Browser;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const problems: string[] = [];
  let accountId: number;
  let admin: { token: string; email: string };
  let agentId: number;
  let inboxId: number;
  const agentEmail = 'ada@example.com';

  beforeAll(async () => {
    receiver = await startReceiver();
    // One retry an hour after a failure: a failed attempt stays "retrying" until redelivered.
    h = await startTestServer('sqlite', { DASHBOARD_DIR: await buildDashboard(), WEBHOOK_RETRY_SCHEDULE: '3600' });
    browser = await launchChromium();
    ({ accountId, admin } = await h.account({ name: 'Acme Support' }));
    const created = await h.api('POST', `/api/v1/accounts/${accountId}/agents`, {
      token: admin.token,
      body: { name: 'Ada Lovelace', email: agentEmail, role: 'agent', password: 'analytical engine' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    agentId = created.body.id;
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await receiver?.close();
  });

  async function signIn(page: Page, email: string, password: string) {
    await page.goto(`${h.url}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor(T);
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/app/conversations', T);
  }

  const api = (method: string, path: string, body?: unknown) => h.api(method, `/api/v1/accounts/${accountId}${path}`, { token: admin.token, body });
  const inboxTab = (page: Page, name: string) => page.getByRole('navigation', { name: 'Inbox sections' }).getByRole('link', { name });

  it('an administrator adds an API inbox with an agent, edits it, configures it and redelivers a failed callback', async () => {
    const page = await openPage(browser, problems);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.url });
    await signIn(page, admin.email, 'password123');

    // Settings → Inboxes: nothing yet.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Inboxes' }).waitFor(T);
    await page.getByText('No inboxes yet — add an API inbox to start receiving conversations').waitFor(T);
    expect(await axeScan(page)).toEqual([]);
    await shoot(page, 'inboxes-01-empty');

    // Add inbox → API.
    await page.getByRole('link', { name: 'Add inbox' }).first().click();
    await page.waitForURL('**/app/settings/inboxes/new', T);
    await page.getByRole('heading', { name: 'Choose a channel' }).waitFor(T);
    expect(await axeScan(page)).toEqual([]);
    await shoot(page, 'inboxes-02-channel');
    await page.getByRole('button', { name: /^API/ }).click();

    // A callback URL the server refuses: its message shows next to the field.
    await page.getByLabel('Channel name').fill('Website API');
    await page.getByLabel('Callback URL (optional)').fill('ftp://example.com/hook');
    await page.getByRole('button', { name: 'Create inbox' }).click();
    const urlError = page.locator('.field-error');
    await urlError.waitFor(T);
    expect(await urlError.textContent()).toMatch(/http\(s\) URL/);
    expect(await page.getByLabel('Callback URL (optional)').getAttribute('aria-invalid')).toBe('true');
    expect(await axeScan(page)).toEqual([]);
    await shoot(page, 'inboxes-03-details-error');
    expect((await api('GET', '/inboxes')).body.payload).toEqual([]);

    await page.getByLabel('Callback URL (optional)').fill(receiver.url);
    await page.getByRole('button', { name: 'Create inbox' }).click();

    // Add agents: Ada.
    await page.getByRole('heading', { name: 'Add agents to “Website API”' }).waitFor(T);
    await page.getByRole('checkbox', { name: /Ada Lovelace/ }).check();
    expect(await axeScan(page)).toEqual([]);
    await shoot(page, 'inboxes-04-add-agents');
    await page.getByRole('button', { name: 'Add 1 agent' }).click();
    await page.waitForURL(/\/app\/settings\/inboxes\/\d+$/, T);
    inboxId = Number(new URL(page.url()).pathname.split('/').pop());
    const created = await api('GET', `/inboxes/${inboxId}`);
    expect(created.body).toMatchObject({ name: 'Website API', webhook_url: receiver.url, channel_type: 'Channel::Api' });
    expect((await api('GET', `/inbox_members/${inboxId}`)).body.payload.map((a: { id: number }) => a.id)).toEqual([agentId]);

    // Tab Settings: rename.
    await page.getByRole('heading', { name: /Website API/ }).waitFor(T);
    await page.getByLabel('Channel name').fill('Support API');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.').waitFor(T);
    await page.getByRole('heading', { level: 1, name: /Support API/ }).waitFor(T);
    expect((await api('GET', `/inboxes/${inboxId}`)).body.name).toBe('Support API');
    expect(await axeScan(page)).toEqual([]);
    await shoot(page, 'inboxes-05-settings');
    // The danger zone asks before it deletes.
    await page.getByRole('button', { name: 'Delete inbox' }).click();
    await page.getByRole('group', { name: 'Confirm deletion' }).waitFor(T);
    await shoot(page, 'inboxes-05b-delete-confirm');
    await page.getByRole('button', { name: 'Cancel' }).click();

    // The list shows it with its agent count.
    await page.getByRole('link', { name: '← Inboxes' }).click();
    const row = page.getByRole('row', { name: /Support API/ });
    await row.waitFor(T);
    await row.getByRole('cell', { name: '1', exact: true }).waitFor(T);
    expect(await axeScan(page)).toEqual([]);
    await shoot(page, 'inboxes-06-list');
    await row.getByRole('link', { name: 'Support API' }).click();

    // Tab Agents: remove Ada, then add her back; each save says what changed.
    await inboxTab(page, 'Agents').click();
    await page.waitForURL(`**/app/settings/inboxes/${inboxId}/agents`, T);
    const ada = page.getByRole('checkbox', { name: /Ada Lovelace/ });
    await ada.waitFor(T);
    expect(await ada.isChecked()).toBe(true);
    await ada.uncheck();
    await page.getByRole('button', { name: 'Save agents' }).click();
    await page.getByText('Removed Ada Lovelace.').waitFor(T);
    expect((await api('GET', `/inbox_members/${inboxId}`)).body.payload).toEqual([]);
    await ada.check();
    await page.getByRole('button', { name: 'Save agents' }).click();
    await page.getByText('Added Ada Lovelace.').waitFor(T);
    expect((await api('GET', `/inbox_members/${inboxId}`)).body.payload.map((a: { id: number }) => a.id)).toEqual([agentId]);
    expect(await axeScan(page)).toEqual([]);
    await shoot(page, 'inboxes-07-agents');

    // Tab Configuration: the identifier as the API has it, copied to the clipboard.
    await inboxTab(page, 'Configuration').click();
    await page.waitForURL(`**/app/settings/inboxes/${inboxId}/configuration`, T);
    const before = (await api('GET', `/inboxes/${inboxId}`)).body;
    await page.getByTestId('inbox-identifier').waitFor(T);
    expect(await page.getByTestId('inbox-identifier').textContent()).toBe(before.inbox_identifier);
    await page.getByRole('button', { name: 'Copy inbox identifier' }).click();
    await page.getByText('Copied', { exact: true }).first().waitFor(T);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(before.inbox_identifier);

    // The HMAC token is masked until revealed.
    expect(await page.getByTestId('hmac-token').textContent()).toMatch(/^•+$/);
    await page.getByRole('button', { name: 'Reveal hmac token' }).click();
    expect(await page.getByTestId('hmac-token').textContent()).toBe(before.hmac_token);

    // Identity verification: on, persisted, still on after a reload; then off again.
    const enforce = page.getByRole('switch', { name: /Enforce user identity verification/ });
    expect(await enforce.isChecked()).toBe(false);
    await enforce.check();
    await page.getByText('Saved: identity verification is now required.').waitFor(T);
    expect((await api('GET', `/inboxes/${inboxId}`)).body.hmac_mandatory).toBe(true);
    await page.reload();
    await enforce.waitFor(T);
    expect(await enforce.isChecked()).toBe(true);
    await enforce.uncheck();
    await page.getByText('Saved: identity verification is now optional.').waitFor(T);
    expect((await api('GET', `/inboxes/${inboxId}`)).body.hmac_mandatory).toBe(false);

    // The webhook secret: masked, revealed, rotated after a confirmation; the API agrees.
    const secret = page.getByTestId('webhook-secret');
    expect(await secret.textContent()).toMatch(/^•+$/);
    await page.getByRole('button', { name: 'Reveal webhook secret' }).click();
    expect(await secret.textContent()).toBe(before.secret);
    await page.getByRole('button', { name: 'Hide webhook secret' }).click();
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('group', { name: 'Confirm rotation' }).waitFor(T);
    await page.getByRole('button', { name: 'Yes, rotate secret' }).click();
    await page.getByText('New secret created').waitFor(T);
    const newSecret = (await secret.textContent())!;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(before.secret);
    expect((await api('GET', `/inboxes/${inboxId}`)).body.secret).toBe(newSecret);
    expect(await axeScan(page)).toEqual([]);
    await page.locator('main.content').evaluate((el) => el.scrollTo(0, 0));
    await shoot(page, 'inboxes-08-configuration');

    // The verification snippets, as the page shows them.
    const snippet = page.getByTestId('verify-snippet');
    const channelxCode = (await snippet.textContent())!;
    expect(channelxCode).toContain("headers['x-channelx-signature']");
    await page.getByRole('button', { name: 'Standard Webhooks' }).click();
    await page.locator('[data-testid="verify-snippet"][data-kind="standard"]').waitFor(T);
    const standardCode = (await snippet.textContent())!;
    expect(standardCode).toContain("headers['webhook-signature']");
    await page.getByRole('button', { name: 'Copy code of the verification snippet' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(standardCode);
    await shoot(page, 'inboxes-09-snippet');

    // A conversation with an agent reply while the receiver is down: the deliveries fail with 500.
    receiver.state.failing = true;
    const contact = await api('POST', '/contacts', { name: 'Visitor', inbox_id: inboxId });
    expect(contact.status, JSON.stringify(contact.body)).toBe(200);
    const conv = await api('POST', '/conversations', { source_id: contact.body.payload.contact_inbox.source_id, inbox_id: inboxId });
    expect(conv.status, JSON.stringify(conv.body)).toBe(200);
    const reply = await api('POST', `/conversations/${conv.body.id}/messages`, { content: 'Hello from support', message_type: 'outgoing' });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const isMessageCreated = (r: Captured) => r.headers['x-channelx-event'] === 'message_created';
    await waitFor(() => receiver.requests.some((r) => isMessageCreated(r) && r.answered === 500), 'a failed message_created callback', 30_000);

    // Tab Deliveries: the failed attempt with its code and the response as text.
    await inboxTab(page, 'Deliveries').click();
    await page.waitForURL(`**/app/settings/inboxes/${inboxId}/deliveries`, T);
    const failedRow = page.locator('tr[data-testid="delivery-row"]', { hasText: 'message_created' });
    await failedRow.waitFor(T);
    await failedRow.getByText('Retrying').waitFor(T);
    await failedRow.getByText('HTTP 500').waitFor(T);
    const expand = failedRow.getByRole('button', { name: /^Attempts of message_created/ });
    expect(await expand.getAttribute('aria-expanded')).toBe('false');
    await expand.click();
    expect(await expand.getAttribute('aria-expanded')).toBe('true');
    const attempt = page.getByTestId('attempt').first();
    await attempt.waitFor(T);
    expect(await attempt.textContent()).toMatch(/Attempt 1/);
    expect(await attempt.textContent()).toMatch(/HTTP 500/);
    // The HTML the receiver answered is shown as text, never rendered.
    expect(await attempt.locator('pre').textContent()).toContain('<script>alert(1)</script>');
    expect(await page.locator('.attempt h1').count()).toBe(0);
    expect(await axeScan(page)).toEqual([]);
    await shoot(page, 'inboxes-10-deliveries-failed');

    // The receiver recovers; Redeliver sends it again and the row turns delivered.
    receiver.state.failing = false;
    const deliveryId = (await failedRow.getAttribute('data-delivery-id'))!;
    await failedRow.getByRole('button', { name: /^Redeliver message_created/ }).click();
    await failedRow.getByText('Delivered (HTTP 200).').waitFor({ timeout: 30_000 });
    expect(await failedRow.getAttribute('data-status')).toBe('succeeded');
    const delivered = receiver.requests.find((r) => r.headers['x-channelx-delivery'] === deliveryId && r.answered === 200);
    expect(delivered).toBeDefined();
    const attempts = page.getByTestId('attempt');
    expect(await attempts.count()).toBe(2);
    expect(await attempts.first().textContent()).toMatch(/Attempt 2.*HTTP 200/);
    await page.setViewportSize({ width: 1024, height: 720 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await shoot(page, 'inboxes-11-deliveries-redelivered-1024');
    await page.setViewportSize({ width: 1280, height: 800 });

    // The snippets verify the delivery the server really sent (signed with the new secret) and refuse a forgery.
    const sent = { headers: delivered!.headers, body: delivered!.body };
    const forged = { headers: delivered!.headers, body: Buffer.from(delivered!.body.toString('utf8').replace('Hello from support', 'Hello from mallory')) };
    expect(forged.body.equals(sent.body)).toBe(false);
    expect(runSnippet(channelxCode, newSecret, sent)).toBe(200);
    expect(runSnippet(channelxCode, newSecret, forged)).toBe(401);
    expect(runSnippet(channelxCode, before.secret, sent)).toBe(401); // X-ChannelX-Signature: the new secret only
    expect(runSnippet(standardCode, newSecret, sent)).toBe(200);
    expect(runSnippet(standardCode, newSecret, forged)).toBe(401);
    expect(runSnippet(standardCode, before.secret, sent)).toBe(200); // webhook-signature: the old one too, during the overlap
    expect(runSnippet(standardCode, 'whsec_' + Buffer.from('not the secret').toString('base64'), sent)).toBe(401);

    // Expected failed loads: the 401 before signing in, the 422 of the refused callback URL. Nothing else went wrong.
    expect(problems.filter((p) => !/status of (401|422)/.test(p))).toEqual([]);
    await page.context().close();
  }, 240_000);

  it("an agent sees the member inbox without the administrators' controls; copy falls back to selecting", async () => {
    expect(inboxId).toBeGreaterThan(0);
    const page = await openPage(browser, problems);
    await signIn(page, agentEmail, 'analytical engine');
    await page.goto(`${h.url}/app/settings/inboxes`);
    const row = page.getByRole('row', { name: /Support API/ });
    await row.waitFor(T);
    expect(await page.getByRole('link', { name: 'Add inbox' }).count()).toBe(0);
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).count()).toBe(0);
    expect(await axeScan(page)).toEqual([]);
    await shoot(page, 'inboxes-12-agent-list');

    await row.getByRole('link', { name: 'Support API' }).click();
    await page.getByRole('heading', { level: 1, name: /Support API/ }).waitFor(T);
    expect(await page.getByText('Only administrators can change this inbox.').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Save changes' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Delete inbox' }).count()).toBe(0);
    expect(await inboxTab(page, 'Deliveries').count()).toBe(0);
    await shoot(page, 'inboxes-13-agent-settings');

    await inboxTab(page, 'Agents').click();
    await page.getByRole('list', { name: 'Agents of this inbox' }).getByText('Ada Lovelace').waitFor(T);
    expect(await page.getByRole('checkbox').count()).toBe(0);

    await inboxTab(page, 'Configuration').click();
    await page.getByTestId('inbox-identifier').waitFor(T);
    const identifier = (await api('GET', `/inboxes/${inboxId}`)).body.inbox_identifier;
    expect(await page.getByTestId('inbox-identifier').textContent()).toBe(identifier);
    expect(await page.getByTestId('webhook-secret').count()).toBe(0);
    expect(await page.getByTestId('hmac-token').count()).toBe(0);
    await page.getByText('shown to administrators only').waitFor(T);
    // Without a clipboard the value is selected for a manual copy.
    await page.evaluate(() => Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true }));
    await page.getByRole('button', { name: 'Copy inbox identifier' }).click();
    await page.getByText(/Copying is blocked here/).waitFor(T);
    await waitFor(async () => (await page.evaluate(() => window.getSelection()?.toString())) === identifier, 'the identifier selected', 10_000);
    expect(await axeScan(page)).toEqual([]);
    await shoot(page, 'inboxes-14-agent-configuration');

    // An administrator's page by URL: plain words, no form; the deliveries tab falls back to Settings.
    await page.goto(`${h.url}/app/settings/inboxes/new`);
    await page.getByText('Only administrators of this account can add inboxes.').waitFor(T);
    await page.goto(`${h.url}/app/settings/inboxes/${inboxId}/deliveries`);
    await page.waitForURL(`**/app/settings/inboxes/${inboxId}`, T);
    await page.getByText('Only administrators can change this inbox.').waitFor(T);

    expect(problems.filter((p) => !/status of (401|422)/.test(p))).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('an administrator deletes the inbox after confirming; the list says so and is empty again', async () => {
    expect(inboxId).toBeGreaterThan(0);
    const page = await openPage(browser, problems);
    await signIn(page, admin.email, 'password123');
    await page.goto(`${h.url}/app/settings/inboxes/${inboxId}`);
    await page.getByRole('button', { name: 'Delete inbox' }).click();
    await page.getByRole('button', { name: 'Yes, delete inbox' }).click();
    await page.waitForURL('**/app/settings/inboxes', T);
    await page.getByText('Inbox “Support API” deleted.').waitFor(T);
    await page.getByText('No inboxes yet').waitFor(T);
    expect((await api('GET', `/inboxes/${inboxId}`)).status).toBe(404);
    await shoot(page, 'inboxes-15-deleted');
    expect(problems.filter((p) => !/status of (401|422)/.test(p))).toEqual([]);
    await page.context().close();
  }, 120_000);
});

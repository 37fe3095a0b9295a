import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/harness.js';
import { axeScan, buildDashboard, hasChromium, launchChromium, newPage as openPage, shoot, T } from '../support/browser.js';

/**
 * Settings → Agents, Settings → Webhooks and Contacts in headless Chromium (see
 * test/support/browser.ts): an administrator invites, re-roles and removes agents, adds a webhook
 * and rotates its secret while a local receiver takes the deliveries, and finds, edits and opens a
 * contact; an agent sees the same lists without the administrators' buttons.
 */

const LONG = { timeout: 30_000 };

/** A local endpoint that answers 200 to every POST and keeps the event names it received. */
function receiver() {
  const events: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        events.push(String(JSON.parse(body).event));
      } catch {
        events.push('?');
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  return {
    events,
    start: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function signIn(page: Page, url: string, email: string, password: string) {
  await page.goto(`${url}/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor(T);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/app/conversations', T);
}

/** Polls until `check` passes (playwright-free waits for API state). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

(hasChromium ? describe : describe.skip)('dashboard administration in headless Chromium', () => {
  let h: TestServer;
  let browser: Browser;
  const problems: string[] = [];
  const hook = receiver();
  let hookUrl: string;
  let accountId: number;
  let admin: { id: number; token: string; email: string };

  beforeAll(async () => {
    hookUrl = await hook.start();
    h = await startTestServer('sqlite', { DASHBOARD_DIR: await buildDashboard(), WEBHOOK_RETRY_SCHEDULE: '1,1' });
    browser = await launchChromium();
    ({ accountId, admin } = await h.account({ name: 'Admin Desk' }));
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await hook.close();
  });

  const api = (method: string, path: string, body?: unknown) => h.api(method, `/api/v1/accounts/${accountId}${path}`, { token: admin.token, body });
  const agentsByEmail = async () => new Map(((await api('GET', '/agents')).body as { email: string; role: string; id: number }[]).map((a) => [a.email, a]));

  it('agents: invite (pending, with the link), an inline error, role changes, remove with a confirmation dialog', async () => {
    const page = await openPage(browser, problems);
    await signIn(page, h.url, admin.email, 'password123');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Settings' }).click();
    await nav.getByRole('link', { name: 'Agents' }).click();
    await page.getByRole('heading', { name: /^Agents/ }).waitFor(T);
    expect(new URL(page.url()).pathname).toBe('/app/settings/agents');

    // You cannot remove yourself: said in your row, no Remove button.
    const mine = page.getByTestId(`agent-${admin.email}`);
    await mine.waitFor(T);
    expect(await mine.getByText('You cannot remove yourself').count()).toBe(1);
    expect(await mine.getByRole('button').count()).toBe(0);

    // Invite a new agent: the pending row and the one-time link.
    await page.getByRole('button', { name: 'Invite agent' }).click();
    await page.getByRole('heading', { name: 'Invite an agent' }).waitFor(T);
    await shoot(page, 'admin-agents-invite-form');
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('E-mail').fill('ada@example.com');
    await page.getByLabel('Role', { exact: true }).selectOption('agent');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByRole('heading', { name: 'Ada Lovelace is invited' }).waitFor(T);
    const link = (await page.getByTestId('invitation-link').textContent())!;
    expect(link).toMatch(/^http:\/\/.+\/app\/accept-invitation\?token=.+/);
    const ada = page.getByTestId('agent-ada@example.com');
    await ada.getByText('Invitation pending').waitFor(T);
    expect((await agentsByEmail()).get('ada@example.com')?.role).toBe('agent');
    await shoot(page, 'admin-agents-invited');

    // The same e-mail again: the server's error, inline in the form.
    await page.getByRole('button', { name: 'Invite agent' }).click();
    await page.getByLabel('Name').fill('Ada Again');
    await page.getByLabel('E-mail').fill('ada@example.com');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByRole('alert').filter({ hasText: 'Email has already been taken' }).waitFor(T);
    expect(await page.getByLabel('E-mail').getAttribute('aria-invalid')).toBe('true');
    await shoot(page, 'admin-agents-invite-error');
    await page.getByRole('button', { name: 'Cancel' }).click();

    // Role: administrator and back, as the API sees it.
    await page.getByLabel('Role of Ada Lovelace').selectOption('administrator');
    await page.getByText('Ada Lovelace is now an administrator.').waitFor(T);
    expect((await agentsByEmail()).get('ada@example.com')?.role).toBe('administrator');
    await page.getByLabel('Role of Ada Lovelace').selectOption('agent');
    await page.getByText('Ada Lovelace is now an agent.').waitFor(T);
    expect((await agentsByEmail()).get('ada@example.com')?.role).toBe('agent');

    // Someone who already uses ChannelX is invited, not added: pending, no link; withdrawing asks first.
    const other = await h.account({ name: 'Elsewhere' });
    await page.getByRole('button', { name: 'Invite agent' }).click();
    await page.getByLabel('Name').fill('Existing User');
    await page.getByLabel('E-mail').fill(other.admin.email);
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByText(`${other.admin.email} already has a ChannelX account`).waitFor(T);
    expect(await page.getByTestId('invitation-link').count()).toBe(0);
    const existing = page.getByTestId(`agent-${other.admin.email}`);
    await existing.getByText('Invitation pending').waitFor(T);
    await existing.getByRole('button', { name: /^Withdraw invitation of/ }).click();
    const withdraw = page.getByRole('dialog', { name: `Withdraw the invitation of ${other.admin.email}?` });
    await withdraw.getByRole('button', { name: 'Withdraw invitation' }).click();
    await page.getByText(`The invitation of ${other.admin.email} was withdrawn.`).waitFor(T);
    expect((await agentsByEmail()).has(other.admin.email)).toBe(false);

    // Remove an agent: a modal dialog with focus inside; Escape closes it and focus returns.
    const bob = await api('POST', '/agents', { name: 'Bob Builder', email: 'bob@example.com', password: 'password123', role: 'agent' });
    expect(bob.status).toBe(200);
    await page.reload();
    const removeBob = page.getByRole('button', { name: 'Remove Bob Builder' });
    await removeBob.click();
    const dialog = page.getByRole('dialog', { name: 'Remove Bob Builder?' });
    await dialog.waitFor(T);
    expect(await dialog.getAttribute('aria-modal')).toBe('true');
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
    await shoot(page, 'admin-agents-remove-dialog');
    expect(await axeScan(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', ...T });
    expect(await removeBob.evaluate((b) => b === document.activeElement)).toBe(true);
    await removeBob.click();
    await dialog.getByRole('button', { name: 'Remove agent' }).click();
    await page.getByText('Bob Builder was removed from the account.').waitFor(T);
    expect(await page.getByTestId('agent-bob@example.com').count()).toBe(0);
    expect((await agentsByEmail()).has('bob@example.com')).toBe(false);

    await shoot(page, 'admin-agents');
    expect(await axeScan(page)).toEqual([]);
    await page.setViewportSize({ width: 1024, height: 720 });
    expect(await fitsWidth(page)).toBe(true);
    await shoot(page, 'admin-agents-1024');
    await page.context().close();
  }, 120_000);

  it('webhooks: add with two events, rotate the secret, see a delivery in the log, delete', async () => {
    const page = await openPage(browser, problems);
    await signIn(page, h.url, admin.email, 'password123');
    await page.goto(`${h.url}/app/settings/webhooks`);
    await page.getByText('No webhooks yet.').waitFor(T);
    await shoot(page, 'admin-webhooks-empty');
    expect(await axeScan(page)).toEqual([]);

    await page.getByRole('button', { name: 'Add webhook' }).first().click();
    await page.getByRole('heading', { name: 'Add a webhook' }).waitFor(T);
    await page.getByLabel('Endpoint URL').fill(hookUrl);
    await page.getByLabel('Name (optional)').fill('Local receiver');
    // None chosen: said before anything is sent.
    await page.getByRole('button', { name: 'Add webhook' }).last().click();
    await page.getByRole('alert').filter({ hasText: 'Choose at least one event' }).waitFor(T);
    await page.getByRole('checkbox', { name: /Contact created/ }).check();
    await page.getByRole('checkbox', { name: /Message created/ }).check();
    await shoot(page, 'admin-webhooks-add');
    await page.getByRole('button', { name: 'Add webhook' }).last().click();
    await page.waitForURL(/\/app\/settings\/webhooks\/\d+$/, T);
    await page.getByRole('heading', { name: 'Local receiver' }).waitFor(T);

    const list = async () => (await api('GET', '/webhooks')).body.payload.webhooks as { id: number; url: string; secret: string; subscriptions: string[] }[];
    const [created] = await list();
    expect(created!.url).toBe(hookUrl);
    expect([...created!.subscriptions].sort()).toEqual(['contact_created', 'message_created']);

    // The secret: masked, revealed, rotated (the new one shown at once and the API agrees).
    const secret = page.getByTestId('webhook-secret');
    expect(await secret.textContent()).toMatch(/^•+$/);
    await page.getByRole('button', { name: 'Reveal signing secret' }).click();
    expect(await secret.textContent()).toBe(created!.secret);
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the signing secret?' });
    await dialog.waitFor(T);
    await dialog.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByText('New secret created.').waitFor(T);
    const rotated = (await list())[0]!.secret;
    expect(rotated).not.toBe(created!.secret);
    expect(await secret.textContent()).toBe(rotated);

    // One delivery: a contact created through the API reaches the receiver and the log shows it.
    expect((await api('POST', '/contacts', { name: 'Webhook Probe', email: 'probe@example.com' })).status).toBe(200);
    await eventually(async () => hook.events.includes('contact_created'), 'the contact_created delivery');
    const log = page.getByRole('region', { name: 'Delivery log' });
    await log.waitFor(T);
    const row = log.getByTestId('delivery-row').filter({ hasText: 'contact_created' });
    for (let i = 0; i < 20 && !(await row.count()); i++) {
      await log.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(500);
    }
    await row.first().waitFor(T);
    await shoot(page, 'admin-webhook-detail');
    expect(await axeScan(page)).toEqual([]);
    await page.setViewportSize({ width: 1024, height: 720 });
    expect(await fitsWidth(page)).toBe(true);
    await page.setViewportSize({ width: 1280, height: 800 });

    // Edit: a third event, saved.
    await page.getByRole('checkbox', { name: /Contact updated/ }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.').waitFor(T);
    expect([...(await list())[0]!.subscriptions].sort()).toEqual(['contact_created', 'contact_updated', 'message_created']);

    // The list; deleting asks first.
    await page.getByRole('link', { name: '← Webhooks' }).click();
    await page.getByTestId('webhook-row').first().waitFor(T);
    await shoot(page, 'admin-webhooks');
    expect(await axeScan(page)).toEqual([]);
    await page.getByRole('button', { name: 'Delete Local receiver' }).click();
    const del = page.getByRole('dialog', { name: 'Delete this webhook?' });
    await del.waitFor(T);
    await shoot(page, 'admin-webhooks-delete-dialog');
    await del.getByRole('button', { name: 'Delete webhook' }).click();
    await page.getByText('No webhooks yet.').waitFor(T);
    expect(await list()).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('contacts: list, search, empty results, detail with attributes and conversations, edit with an inline error, delete', async () => {
    const inbox = await h.inbox(accountId, { name: 'Website API', members: [admin.id] });
    const mk = async (body: Record<string, unknown>) => {
      const r = await api('POST', '/contacts', body);
      expect(r.status).toBe(200);
      return r.body.payload.contact as { id: number };
    };
    await mk({ name: 'Marie Curie', email: 'marie@example.com' });
    const pierre = await mk({ name: 'Pierre Curie', phone_number: '+33123456789' });
    const rosalind = await api('POST', '/contacts', { name: 'Rosalind Franklin', identifier: 'rf-51', custom_attributes: { plan: 'pro', seats: 5 }, inbox_id: inbox.id });
    expect(rosalind.status).toBe(200);
    const rosalindId = rosalind.body.payload.contact.id as number;
    const conv = await api('POST', '/conversations', {
      inbox_id: inbox.id,
      contact_id: rosalindId,
      source_id: rosalind.body.payload.contact_inbox.source_id,
      message: { content: 'Photo 51 is <b>ready</b>' },
    });
    expect(conv.status).toBe(200);
    const displayId = conv.body.id as number;

    const page = await openPage(browser, problems);
    await signIn(page, h.url, admin.email, 'password123');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contacts' }).click();
    await page.getByRole('heading', { name: /^Contacts/ }).waitFor(T);
    await page.getByRole('link', { name: 'Rosalind Franklin' }).waitFor(T);
    expect(await page.getByTestId('contact-row').count()).toBeGreaterThanOrEqual(3);
    await shoot(page, 'admin-contacts');
    expect(await axeScan(page)).toEqual([]);
    await page.setViewportSize({ width: 1024, height: 720 });
    expect(await fitsWidth(page)).toBe(true);
    await shoot(page, 'admin-contacts-1024');
    await page.setViewportSize({ width: 1280, height: 800 });

    // Search finds one; the query is in the URL; no match says so.
    const box = page.getByRole('searchbox', { name: 'Search contacts' });
    await box.fill('rosalind');
    await page.waitForURL(/\?q=rosalind/, T);
    await expect.poll(() => page.getByTestId('contact-row').count(), LONG).toBe(1);
    expect(await page.getByTestId('contact-row').textContent()).toContain('rf-51');
    await shoot(page, 'admin-contacts-search');
    await box.fill('nobody-like-this');
    await page.getByText('No contacts match “nobody-like-this”.').waitFor(T);
    await shoot(page, 'admin-contacts-no-results');
    expect(await axeScan(page)).toEqual([]);
    await page.getByRole('button', { name: 'Clear the search' }).click();
    await box.fill('Franklin');
    await expect.poll(() => page.getByTestId('contact-row').count(), LONG).toBe(1);

    // The detail: fields, custom attributes, the conversation (its message as text) linking to it.
    await page.getByRole('link', { name: 'Rosalind Franklin' }).click();
    await page.waitForURL(`**/app/contacts/${rosalindId}`, T);
    await page.getByRole('heading', { name: 'Rosalind Franklin' }).waitFor(T);
    const attrs = page.getByTestId('custom-attributes');
    await attrs.waitFor(T);
    expect(await attrs.textContent()).toContain('plan');
    expect(await attrs.textContent()).toContain('pro');
    const convLink = page.getByTestId('contact-conversation');
    await convLink.waitFor(T);
    expect(await convLink.getAttribute('href')).toBe(`/app/conversations/${displayId}`);
    expect(await convLink.textContent()).toContain('Photo 51 is <b>ready</b>');
    await shoot(page, 'admin-contact-detail');
    expect(await axeScan(page)).toEqual([]);

    // Edit: a taken e-mail is refused inline; then the new name is saved and the API agrees.
    await page.getByRole('button', { name: 'Edit contact' }).click();
    const form = page.getByRole('form', { name: 'Edit contact' });
    await form.getByLabel('E-mail').fill('marie@example.com');
    await form.getByRole('button', { name: 'Save contact' }).click();
    await form.getByRole('alert').waitFor(T);
    expect(await form.getByRole('alert').textContent()).toMatch(/taken|exists|already/i);
    await shoot(page, 'admin-contact-edit-error');
    await form.getByLabel('E-mail').fill('');
    await form.getByLabel('Name').fill('Rosalind E. Franklin');
    await form.getByRole('button', { name: 'Save contact' }).click();
    await page.getByRole('heading', { name: 'Rosalind E. Franklin' }).waitFor(T);
    await page.getByText('Saved.').waitFor(T);
    expect((await api('GET', `/contacts/${rosalindId}`)).body.payload.name).toBe('Rosalind E. Franklin');

    // Labels: an account label is offered with its colour; free text works too; × removes one.
    expect((await api('POST', '/labels', { title: 'vip', color: '#d92d20' })).status).toBe(200);
    await page.reload();
    const labelsCard = page.getByRole('region', { name: 'Labels' });
    await labelsCard.getByRole('button', { name: 'Add label vip' }).click();
    await labelsCard.getByText('Labels saved.').waitFor(T);
    await labelsCard.getByLabel('Add a label').fill('beta-tester');
    await labelsCard.getByLabel('Add a label').press('Enter');
    await labelsCard.getByRole('button', { name: 'Remove label beta-tester' }).waitFor(T);
    await expect.poll(async () => (await api('GET', `/contacts/${rosalindId}/labels`)).body.payload, LONG).toEqual(['vip', 'beta-tester']);
    expect(await labelsCard.locator('.cv-label-dot').count()).toBe(1); // vip's colour; beta-tester is no account label
    await shoot(page, 'admin-contact-labels');
    expect(await axeScan(page)).toEqual([]);
    await labelsCard.getByRole('button', { name: 'Remove label vip' }).click();
    await expect.poll(async () => (await api('GET', `/contacts/${rosalindId}/labels`)).body.payload, LONG).toEqual(['beta-tester']);
    await page.reload();
    await labelsCard.getByRole('button', { name: 'Remove label beta-tester' }).waitFor(T);
    expect(await labelsCard.getByRole('button', { name: 'Remove label vip' }).count()).toBe(0);

    // The conversation link opens the conversation.
    await convLink.click();
    await page.waitForURL(`**/app/conversations/${displayId}`, T);

    // Delete another contact, after a confirmation.
    await page.goto(`${h.url}/app/contacts/${pierre.id}`);
    await page.getByRole('heading', { name: 'Pierre Curie' }).waitFor(T);
    await page.getByText('No conversations with this contact').waitFor(T);
    await page.getByRole('button', { name: 'Delete contact' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Pierre Curie?' });
    await dialog.waitFor(T);
    await dialog.getByRole('button', { name: 'Delete contact' }).click();
    await page.waitForURL(/\/app\/contacts$/, T);
    expect((await api('GET', `/contacts/${pierre.id}`)).status).toBe(404);

    await page.goto(`${h.url}/app/contacts/999999`);
    await page.getByRole('heading', { name: 'Contact not found' }).waitFor(T);
    await page.context().close();
  }, 120_000);

  it('an agent sees the lists without the administrators’ buttons', async () => {
    const created = await api('POST', '/agents', { name: 'Grace Agent', email: 'grace.agent@example.com', password: 'password123', role: 'agent' });
    expect(created.status).toBe(200);
    const page = await openPage(browser, problems);
    await signIn(page, h.url, 'grace.agent@example.com', 'password123');

    await page.goto(`${h.url}/app/settings/agents`);
    await page.getByRole('heading', { name: /^Agents/ }).waitFor(T);
    await page.getByTestId(`agent-${admin.email}`).waitFor(T);
    expect(await page.getByText('Only administrators can invite, change or remove agents.').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Invite agent' }).count()).toBe(0);
    expect(await page.getByRole('combobox').count()).toBe(0);
    expect(await page.getByRole('button', { name: /^(Remove|Withdraw)/ }).count()).toBe(0);
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).count()).toBe(0);
    await shoot(page, 'admin-agents-as-agent');
    expect(await axeScan(page)).toEqual([]);

    await page.goto(`${h.url}/app/settings/webhooks`);
    await page.getByText('Only administrators of the account manage its webhooks.').waitFor(T);
    expect(await page.getByRole('button', { name: 'Add webhook' }).count()).toBe(0);

    // Contacts: agents edit, only administrators delete.
    const marie = (await api('GET', '/contacts/search?q=marie')).body.payload[0] as { id: number };
    await page.goto(`${h.url}/app/contacts/${marie.id}`);
    await page.getByRole('heading', { name: 'Marie Curie' }).waitFor(T);
    expect(await page.getByRole('button', { name: 'Edit contact' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Delete contact' }).count()).toBe(0);
    await shoot(page, 'admin-contact-as-agent');
    expect(await axeScan(page)).toEqual([]);
    await page.context().close();

    // Nothing went wrong in any page but the expected failed loads (signed out, the missing contact, the refused e-mails).
    expect(problems.filter((p) => !/status of (401|404|422)/.test(p))).toEqual([]);
  }, 120_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { NO_RATE_LIMITS, startTestServer, type TestServer } from '../support/harness.js';
import { axeScan, buildDashboard, hasChromium, launchChromium, newPage as openPage, shoot, T } from '../support/browser.js';
import { waitFor } from '../support/wait.js';

/**
 * Teams, labels and canned responses in headless Chromium: an administrator sets them up in
 * Settings, then uses them on a conversation (team assignment, a coloured account label, a canned
 * response picked with the keyboard after `/` in the composer); the sidebar counts the label and
 * filters by it, the list filters by team; an agent sees the settings lists without write buttons.
 * Then the administrator edits, renames and deletes: a renamed label follows on the conversation
 * that carries it, a deleted one stays on it; a canned response edited and one deleted; a team
 * renamed (lowercased) and a member removed — each checked on screen and through the API.
 */

const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

(hasChromium ? describe : describe.skip)('teams, labels and canned responses in headless Chromium', () => {
  let h: TestServer;
  let browser: Browser;
  const problems: string[] = [];
  let accountId: number;
  let base: string;
  let admin: { id: number; token: string; email: string };
  let agent: { id: number; email: string };
  let inbox: { id: number; identifier: string };

  beforeAll(async () => {
    h = await startTestServer('sqlite', { DASHBOARD_DIR: await buildDashboard(), ...NO_RATE_LIMITS });
    browser = await launchChromium();
    ({ accountId, admin } = await h.account({ name: 'Tidy Desk' }));
    base = `/api/v1/accounts/${accountId}`;
    const created = await h.inbox(accountId, { name: 'Website API' });
    inbox = { id: created.id, identifier: created.identifier };
    const g = await h.api('POST', `${base}/agents`, { token: admin.token, body: { name: 'Grace Hopper', email: 'grace@example.com', password: 'password123', role: 'agent' } });
    expect(g.status, g.text).toBe(200);
    agent = { id: g.body.id, email: 'grace@example.com' };
    const m = await h.api('POST', `${base}/inbox_members`, { token: admin.token, body: { inbox_id: inbox.id, user_ids: [agent.id] } });
    expect(m.status, m.text).toBe(200);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  const api = (method: string, path: string, body?: unknown) => h.api(method, `${base}${path}`, { token: admin.token, body });
  const pub = (path: string) => `/public/api/v1/inboxes/${inbox.identifier}${path}`;

  async function contactWithConversation(name: string, first: string) {
    const c = await h.api('POST', pub('/contacts'), { body: { name } });
    expect(c.status, c.text).toBe(200);
    const conv = await h.api('POST', pub(`/contacts/${c.body.source_id}/conversations`), { body: {} });
    expect(conv.status, conv.text).toBe(200);
    const msg = await h.api('POST', pub(`/contacts/${c.body.source_id}/conversations/${conv.body.id}/messages`), { body: { content: first } });
    expect(msg.status, msg.text).toBe(200);
    return conv.body.id as number;
  }

  async function signIn(page: Page, email: string, path: string) {
    await page.goto(`${h.url}${path}`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor(T);
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill('password123');
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('an administrator sets up a team, a label and canned responses, then uses them on a conversation and in the list', async () => {
    const page = await openPage(browser, problems, { width: 1280, height: 720 });
    await signIn(page, admin.email, '/app/settings/teams');
    await page.getByRole('heading', { name: /^Teams/ }).waitFor(T);
    await page.getByText('No teams yet.').waitFor(T);
    await shoot(page, 'teams-empty');

    /* ---------- Settings → Teams ---------- */
    await page.getByRole('button', { name: 'Create team' }).first().click();
    await page.getByLabel('Team name').fill('Billing');
    await page.getByLabel('Description').fill('Invoices and refunds');
    await shoot(page, 'teams-create');
    await page.getByRole('button', { name: 'Create team' }).last().click();
    const panel = page.getByTestId('team-panel');
    await panel.getByRole('heading', { name: 'billing', exact: true }).waitFor(T);
    await panel.getByText('No members yet.').waitFor(T);
    const teams = (await api('GET', '/teams')).body as { id: number; name: string; description: string; allow_auto_assign: boolean }[];
    expect(teams).toHaveLength(1);
    expect(teams[0]).toMatchObject({ name: 'billing', description: 'Invoices and refunds', allow_auto_assign: true });
    const teamId = teams[0]!.id;

    await panel.getByLabel('Add a member').selectOption({ label: 'Grace Hopper (grace@example.com)' });
    await panel.getByRole('button', { name: 'Add member' }).click();
    await panel.getByText('Grace Hopper added to billing.').waitFor(T);
    await panel.getByRole('list', { name: 'Members of billing' }).getByText('Grace Hopper').waitFor(T);
    expect(((await api('GET', `/teams/${teamId}/team_members`)).body as { id: number }[]).map((m) => m.id)).toEqual([agent.id]);

    // Edit: auto-assignment off, as the API then says.
    await panel.getByText('Allow auto-assignment').click();
    await panel.getByRole('button', { name: 'Save team' }).click();
    await page.getByText('Team billing saved.').waitFor(T);
    expect((await api('GET', '/teams')).body[0].allow_auto_assign).toBe(false);
    await shoot(page, 'teams-manage');
    expect(await axeScan(page)).toEqual([]);

    // A second team, deleted through the confirmation dialog.
    await page.getByRole('button', { name: 'Create team' }).first().click();
    await page.getByLabel('Team name').fill('Temporary');
    await page.getByRole('button', { name: 'Create team' }).last().click();
    await page.getByTestId('team-temporary').waitFor(T);
    await page.getByRole('button', { name: 'Delete team temporary' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete the team temporary?' });
    await dialog.waitFor(T);
    await dialog.getByRole('button', { name: 'Delete team' }).click();
    await page.getByText('Team temporary deleted.').waitFor(T);
    expect(((await api('GET', '/teams')).body as { name: string }[]).map((t) => t.name)).toEqual(['billing']);
    expect(await fitsWidth(page)).toBe(true);
    await shoot(page, 'teams');

    /* ---------- Settings → Labels ---------- */
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Labels' }).click();
    await page.getByRole('heading', { name: /^Labels/ }).waitFor(T);
    await page.getByText('No labels yet.').waitFor(T);
    await page.getByRole('button', { name: 'Add label' }).first().click();
    await page.getByLabel('Title').fill('VIP');
    await page.getByLabel('Description').fill('Customers on the premium plan');
    await page.getByLabel('Colour', { exact: true }).fill('#E11D48');
    expect(await page.getByLabel('Show in the sidebar').isChecked()).toBe(true);
    await shoot(page, 'labels-add');
    expect(await axeScan(page)).toEqual([]);
    await page.getByRole('button', { name: 'Add label' }).last().click();
    await page.getByTestId('label-vip').waitFor(T);
    const labels = (await api('GET', '/labels')).body.payload as { title: string; color: string; show_on_sidebar: boolean }[];
    expect(labels).toEqual([expect.objectContaining({ title: 'vip', color: expect.stringMatching(/^#e11d48$/i), show_on_sidebar: true, description: 'Customers on the premium plan' })]);
    // A bad title: the server's 422 next to the field.
    await page.getByRole('button', { name: 'Add label' }).first().click();
    await page.getByLabel('Title').fill('two words');
    await page.getByRole('button', { name: 'Add label' }).last().click();
    await page.getByRole('alert').first().waitFor(T);
    expect(await page.getByLabel('Title').getAttribute('aria-invalid')).toBe('true');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await shoot(page, 'labels');
    expect(await axeScan(page)).toEqual([]);

    /* ---------- Settings → Canned responses ---------- */
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Canned responses' }).click();
    await page.getByRole('heading', { name: /^Canned responses/ }).waitFor(T);
    await page.getByText('No canned responses yet.').waitFor(T);
    for (const [code, content] of [
      ['thanks', 'Thank you for your patience! We are looking into it now.'],
      ['refund', 'Your refund is on its way and should arrive within 5 working days.'],
    ]) {
      await page.getByRole('button', { name: 'Add canned response' }).first().click();
      await page.getByLabel('Short code').fill(code!);
      await page.getByLabel('Content').fill(content!);
      await page.getByRole('button', { name: 'Add canned response' }).last().click();
      await page.getByTestId(`canned-${code}`).waitFor(T);
    }
    expect(((await api('GET', '/canned_responses')).body as { short_code: string }[]).map((c) => c.short_code).sort()).toEqual(['refund', 'thanks']);
    await page.getByLabel('Search canned responses').fill('refund');
    await page.getByTestId('canned-thanks').waitFor({ state: 'detached', ...T });
    expect(await page.getByTestId('canned-refund').count()).toBe(1);
    await page.getByLabel('Search canned responses').fill('');
    await shoot(page, 'canned-responses');
    expect(await axeScan(page)).toEqual([]);
    await page.setViewportSize({ width: 1024, height: 720 });
    expect(await fitsWidth(page)).toBe(true);
    await shoot(page, 'canned-responses-1024');
    await page.setViewportSize({ width: 1280, height: 720 });

    /* ---------- the conversation view ---------- */
    const tagged = await contactWithConversation('Ada Byron', 'My invoice is wrong.');
    const other = await contactWithConversation('Charles Babbage', 'Where is my parcel?');
    await page.goto(`${h.url}/app/conversations/${tagged}`);
    const view = page.locator(`[data-testid="conversation-view"][data-conversation-id="${tagged}"]`);
    await view.getByText('My invoice is wrong.').waitFor(T);

    // Team, next to Assign.
    await view.getByRole('button', { name: 'Team', exact: true }).click();
    await page.getByTestId('team-menu').getByRole('menuitemradio', { name: 'billing' }).click();
    await view.getByRole('button', { name: 'Team: billing' }).waitFor(T);
    await waitFor(async () => (await api('GET', `/conversations/${tagged}`)).body.meta.team?.id === teamId, 'the team on the conversation');

    // The label picker offers the account's label with its colour.
    await view.getByRole('button', { name: 'Labels', exact: true }).click();
    const offer = page.getByRole('button', { name: 'Add label vip' });
    await offer.waitFor(T);
    expect(await offer.locator('.cv-label-dot').evaluate((d) => getComputedStyle(d).backgroundColor)).toBe('rgb(225, 29, 72)');
    await shoot(page, 'conversation-label-picker');
    await offer.click();
    await waitFor(async () => ((await api('GET', `/conversations/${tagged}`)).body.labels as string[]).includes('vip'), 'the label on the conversation');
    await page.keyboard.press('Escape');
    await view.getByRole('list', { name: 'Labels' }).getByText('vip').waitFor(T);
    // The sidebar's count follows live.
    const liveLabel = page.getByTestId('sidebar-labels').getByRole('link', { name: /vip/ });
    await waitFor(async () => /vip\s*1/.test(((await liveLabel.textContent()) ?? '').replace(/,.*/, '')), 'the live label count');

    // `/` in the composer: the canned responses, filtered as you type, chosen with the keyboard.
    const reply = page.getByRole('textbox', { name: 'Reply' });
    await reply.click();
    await reply.pressSequentially('Hello! /');
    const combo = page.getByRole('combobox', { name: 'Reply' });
    await combo.waitFor(T);
    const listbox = page.getByRole('listbox');
    await listbox.waitFor(T);
    expect(await listbox.getByRole('option').count()).toBe(2);
    await combo.pressSequentially('t');
    // "t" matches both (refund's content has "t"); the short code match comes first.
    expect(await listbox.getByRole('option').first().textContent()).toContain('/thanks');
    await combo.pressSequentially('ha');
    await waitFor(async () => (await listbox.getByRole('option').count()) === 1, 'the filtered list');
    await combo.press('Backspace');
    await combo.press('Backspace');
    await combo.press('Backspace');
    await waitFor(async () => (await listbox.getByRole('option').count()) === 2, 'the list again');
    await combo.press('ArrowDown');
    expect(await listbox.getByRole('option', { selected: true }).textContent()).toContain('/thanks');
    expect(await combo.getAttribute('aria-activedescendant')).toBe(await listbox.getByRole('option', { selected: true }).getAttribute('id'));
    await combo.press('ArrowUp');
    expect(await listbox.getByRole('option', { selected: true }).textContent()).toContain('/refund');
    await combo.press('ArrowDown');
    await shoot(page, 'composer-canned');
    expect(await axeScan(page)).toEqual([]);
    // Esc closes it (and typing on keeps it closed, Esc stays in the field); a new `/` opens it again.
    await combo.press('Escape');
    await listbox.waitFor({ state: 'detached', ...T });
    await reply.pressSequentially('x');
    expect(await listbox.count()).toBe(0);
    expect(await reply.evaluate((el) => el === document.activeElement)).toBe(true);
    await reply.press('Backspace');
    await reply.press('Backspace');
    await reply.pressSequentially('/tha');
    await listbox.waitFor(T);
    expect(await listbox.getByRole('option').count()).toBe(1);
    await page.getByRole('combobox', { name: 'Reply' }).press('Enter');
    await listbox.waitFor({ state: 'detached', ...T });
    const text = 'Hello! Thank you for your patience! We are looking into it now.';
    expect(await reply.inputValue()).toBe(text);
    await reply.press('Enter');
    await page.locator('[data-testid="message"][data-status="sent"]', { hasText: 'We are looking into it now.' }).waitFor(T);
    // The palette's "Insert a canned response" opens the same menu.
    await page.keyboard.press('Control+k');
    await page.getByRole('dialog', { name: /command/i }).getByRole('combobox').fill('insert a canned');
    await page.keyboard.press('Enter');
    await page.getByRole('listbox').filter({ has: page.getByRole('option', { name: /\/thanks/ }) }).waitFor(T);
    await page.keyboard.press('Escape');
    await reply.fill('');
    const messages = (await api('GET', `/conversations/${tagged}/messages`)).body.payload as { content: string; message_type: number }[];
    expect(messages.some((m) => m.content === text && m.message_type === 1)).toBe(true);
    await shoot(page, 'conversation-team-label');
    expect(await axeScan(page)).toEqual([]);

    /* ---------- the list: the sidebar's labels and the team filter ---------- */
    await page.goto(`${h.url}/app/conversations`);
    const sidebarLabel = page.getByTestId('sidebar-labels').getByRole('link', { name: /vip/ });
    await sidebarLabel.waitFor(T);
    await waitFor(async () => /vip\s*1/.test(((await sidebarLabel.textContent()) ?? '').replace(/,.*/, '')), 'the label count');
    await page.getByText('Charles Babbage').first().waitFor(T);
    await sidebarLabel.click();
    await page.waitForURL(/label=vip/, T);
    await page.getByTestId('label-filter').waitFor(T);
    await waitFor(async () => (await page.getByText('Charles Babbage').count()) === 0, 'the label filter');
    await page.getByText('Ada Byron').first().waitFor(T);
    expect(await sidebarLabel.getAttribute('aria-current')).toBe('page');
    await shoot(page, 'conversations-label-filter');
    expect(await axeScan(page)).toEqual([]);
    // The row's label chip carries the label's colour.
    expect(await page.locator('.cx-label', { hasText: 'vip' }).first().locator('.cx-label-dot').evaluate((d) => getComputedStyle(d).backgroundColor)).toBe('rgb(225, 29, 72)');
    await page.getByRole('button', { name: 'Clear the label filter vip' }).click();
    await page.getByText('Charles Babbage').first().waitFor(T);

    // Teams in the sidebar filter the list.
    await page.getByTestId('sidebar-teams').getByRole('link', { name: 'billing' }).click();
    await page.waitForURL(new RegExp(`team=${teamId}`), T);
    await waitFor(async () => (await page.getByText('Charles Babbage').count()) === 0, 'the team filter');
    await page.getByText('Ada Byron').first().waitFor(T);
    await shoot(page, 'conversations-team-filter');
    await page.getByTestId('sidebar-teams').getByRole('link', { name: 'billing' }).click();
    await page.getByText('Charles Babbage').first().waitFor(T);

    // At 1024 px the sidebar gives way: its labels and teams are selects above the list.
    await page.setViewportSize({ width: 1024, height: 720 });
    await page.getByLabel('Team', { exact: true }).selectOption({ label: 'billing' });
    await page.waitForURL(new RegExp(`team=${teamId}`), T);
    await waitFor(async () => (await page.getByText('Charles Babbage').count()) === 0, 'the team filter at 1024');
    await page.getByLabel('Team', { exact: true }).selectOption({ label: 'All teams' });
    await page.getByLabel('Label', { exact: true }).selectOption({ label: 'vip' });
    await page.waitForURL(/label=vip/, T);
    await waitFor(async () => (await page.getByText('Charles Babbage').count()) === 0, 'the label filter at 1024');
    expect(await fitsWidth(page)).toBe(true);
    await shoot(page, 'conversations-filters-1024');
    expect(await axeScan(page)).toEqual([]);
    void other;
    expect(problems.filter((p) => !/status of (401|404|422)/.test(p))).toEqual([]);
    await page.context().close();
  }, 240_000);

  it('an agent sees the teams, labels and canned responses without the administrator buttons (and may add a canned response)', async () => {
    const page = await openPage(browser, problems, { width: 1280, height: 720 });
    await signIn(page, agent.email, '/app/settings/teams');
    await page.getByRole('heading', { name: /^Teams/ }).waitFor(T);
    await page.getByTestId('team-billing').waitFor(T);
    await page.getByText('Only administrators can create, change or delete teams.').waitFor(T);
    expect(await page.getByRole('button', { name: /Create team|Delete/ }).count()).toBe(0);
    await page.getByRole('button', { name: 'Members of team billing' }).click();
    await page.getByTestId('team-panel').getByRole('list', { name: 'Members of billing' }).getByText('Grace Hopper').waitFor(T);
    expect(await page.getByTestId('team-panel').getByRole('button', { name: /Remove|Save|Add member|Delete/ }).count()).toBe(0);
    expect(await page.getByTestId('team-panel').getByRole('textbox').count()).toBe(0);
    await shoot(page, 'teams-agent');
    expect(await axeScan(page)).toEqual([]);

    await page.goto(`${h.url}/app/settings/labels`);
    await page.getByTestId('label-vip').waitFor(T);
    expect(await page.getByRole('button', { name: /Add label|Edit|Delete/ }).count()).toBe(0);
    await shoot(page, 'labels-agent');
    expect(await axeScan(page)).toEqual([]);

    await page.goto(`${h.url}/app/settings/canned-responses`);
    await page.getByTestId('canned-thanks').waitFor(T);
    // Agents may add a canned response (the API lets them); editing and deleting stay with administrators.
    expect(await page.getByRole('button', { name: /Edit|Delete/ }).count()).toBe(0);
    await page.getByRole('button', { name: 'Add canned response' }).first().click();
    await page.getByLabel('Short code').fill('hello');
    await page.getByLabel('Content').fill('Hi, Grace here. How can I help?');
    await page.getByRole('button', { name: 'Add canned response' }).last().click();
    await page.getByTestId('canned-hello').waitFor(T);
    expect(await page.getByRole('button', { name: /Edit|Delete/ }).count()).toBe(0);
    await shoot(page, 'canned-responses-agent');
    expect(await axeScan(page)).toEqual([]);
    expect(problems.filter((p) => !/status of (401|404|422)/.test(p))).toEqual([]);
    await page.context().close();
  }, 120_000);

  it('an administrator edits, renames and deletes labels, canned responses and teams, and removes a team member', async () => {
    // What there is to change, made through the API (creating through the UI is the first test's).
    for (const label of [
      { title: 'urgent', description: 'Answer today', color: '#2563EB' },
      { title: 'spam', description: 'Not a customer', color: '#6B7280' },
    ]) {
      const r = await api('POST', '/labels', { label });
      expect(r.status, r.text).toBe(200);
    }
    const carried = await contactWithConversation('Mary Somerville', 'The export fails every night.');
    const set = await api('POST', `/conversations/${carried}/labels`, { labels: ['urgent', 'spam'] });
    expect(set.status, set.text).toBe(200);
    const cannedIds: Record<string, number> = {};
    for (const [code, content] of [
      ['bye', 'Goodbye!'],
      ['oops', 'Sorry, wrong conversation.'],
    ]) {
      const r = await api('POST', '/canned_responses', { canned_response: { short_code: code, content } });
      expect(r.status, r.text).toBe(200);
      cannedIds[code!] = r.body.id;
    }
    const t = await api('POST', '/teams', { team: { name: 'Support', description: 'First line' } });
    expect(t.status, t.text).toBe(200);
    const teamId = t.body.id as number;
    const tm = await api('POST', `/teams/${teamId}/team_members`, { user_ids: [agent.id] });
    expect(tm.status, tm.text).toBe(200);
    const labelsNow = async () => (await api('GET', '/labels')).body.payload as { title: string; description: string; color: string }[];

    const page = await openPage(browser, problems, { width: 1280, height: 720 });
    await signIn(page, admin.email, '/app/settings/labels');
    await page.getByRole('heading', { name: /^Labels/ }).waitFor(T);

    /* ---------- a label: new description and colour ---------- */
    await page.getByRole('button', { name: 'Edit label urgent' }).click();
    const labelForm = page.getByRole('form', { name: 'Edit label urgent' });
    await labelForm.waitFor(T);
    expect(await labelForm.getByLabel('Title').inputValue()).toBe('urgent');
    expect(await labelForm.getByLabel('Description').inputValue()).toBe('Answer today');
    await labelForm.getByLabel('Description').fill('Answer within the hour');
    await labelForm.getByLabel('Colour', { exact: true }).fill('#F59E0B');
    await shoot(page, 'labels-edit');
    expect(await axeScan(page)).toEqual([]);
    await labelForm.getByRole('button', { name: 'Save label' }).click();
    await page.getByText('Label urgent saved.').waitFor(T);
    await labelForm.waitFor({ state: 'detached', ...T });
    const urgentRow = page.getByTestId('label-urgent');
    await urgentRow.getByText('Answer within the hour').waitFor(T);
    expect((await urgentRow.locator('.adm-sub').textContent())?.toLowerCase()).toBe('#f59e0b');
    expect(await urgentRow.locator('.lbl-dot').evaluate((d) => getComputedStyle(d).backgroundColor)).toBe('rgb(245, 158, 11)');
    expect((await labelsNow()).find((l) => l.title === 'urgent')).toMatchObject({ description: 'Answer within the hour', color: expect.stringMatching(/^#f59e0b$/i) });

    /* ---------- the same label renamed: the conversation carrying it follows ---------- */
    await page.getByRole('button', { name: 'Edit label urgent' }).click();
    await labelForm.getByLabel('Title').fill('Escalated');
    await labelForm.getByRole('button', { name: 'Save label' }).click();
    await page.getByText('Label escalated saved.').waitFor(T);
    await page.getByTestId('label-escalated').getByText('Answer within the hour').waitFor(T);
    expect(await page.getByTestId('label-urgent').count()).toBe(0);
    expect((await labelsNow()).map((l) => l.title)).toEqual(expect.arrayContaining(['escalated', 'spam']));
    expect((await labelsNow()).map((l) => l.title)).not.toContain('urgent');
    expect(((await api('GET', `/conversations/${carried}/labels`)).body.payload as string[]).sort()).toEqual(['escalated', 'spam']);
    await shoot(page, 'labels-edited');

    /* ---------- a label deleted through the dialog; the conversation keeps its title ---------- */
    // Its edit form open meanwhile: the deletion closes it (it could only fail to save).
    await page.getByRole('button', { name: 'Edit label spam' }).click();
    await page.getByRole('form', { name: 'Edit label spam' }).waitFor(T);
    await page.getByRole('button', { name: 'Delete label spam' }).click();
    const labelDialog = page.getByRole('dialog', { name: 'Delete the label spam?' });
    await labelDialog.waitFor(T);
    await shoot(page, 'labels-delete');
    await labelDialog.getByRole('button', { name: 'Delete label' }).click();
    await labelDialog.waitFor({ state: 'detached', ...T });
    await page.getByText('Label spam deleted.').waitFor(T);
    await page.getByRole('form', { name: 'Edit label spam' }).waitFor({ state: 'detached', ...T });
    expect(await page.getByTestId('label-spam').count()).toBe(0);
    expect((await labelsNow()).map((l) => l.title)).not.toContain('spam');
    expect(((await api('GET', `/conversations/${carried}/labels`)).body.payload as string[]).sort()).toEqual(['escalated', 'spam']);
    expect(await fitsWidth(page)).toBe(true);
    await shoot(page, 'labels-after-delete');
    expect(await axeScan(page)).toEqual([]);

    // The conversation view shows the new title.
    await page.goto(`${h.url}/app/conversations/${carried}`);
    const view = page.locator(`[data-testid="conversation-view"][data-conversation-id="${carried}"]`);
    await view.getByText('The export fails every night.').waitFor(T);
    await view.getByRole('list', { name: 'Labels' }).getByText('escalated', { exact: true }).waitFor(T);
    expect(await view.getByRole('list', { name: 'Labels' }).getByText('urgent', { exact: true }).count()).toBe(0);

    /* ---------- canned responses: one edited, one deleted ---------- */
    await page.goto(`${h.url}/app/settings/canned-responses`);
    await page.getByRole('heading', { name: /^Canned responses/ }).waitFor(T);
    await page.getByRole('button', { name: 'Edit canned response bye' }).click();
    const cannedForm = page.getByRole('form', { name: 'Edit /bye' });
    await cannedForm.waitFor(T);
    expect(await cannedForm.getByLabel('Content').inputValue()).toBe('Goodbye!');
    await cannedForm.getByLabel('Content').fill('Glad we could help. Have a good day!');
    await shoot(page, 'canned-edit');
    expect(await axeScan(page)).toEqual([]);
    await cannedForm.getByRole('button', { name: 'Save canned response' }).click();
    await page.getByText('Canned response /bye saved.').waitFor(T);
    await cannedForm.waitFor({ state: 'detached', ...T });
    await page.getByTestId('canned-bye').getByText('Glad we could help. Have a good day!').waitFor(T);
    expect((await api('GET', `/canned_responses`)).body.find((c: { id: number }) => c.id === cannedIds.bye)).toMatchObject({ short_code: 'bye', content: 'Glad we could help. Have a good day!' });

    await page.getByRole('button', { name: 'Edit canned response oops' }).click();
    await page.getByRole('form', { name: 'Edit /oops' }).waitFor(T);
    await page.getByRole('button', { name: 'Delete canned response oops' }).click();
    const cannedDialog = page.getByRole('dialog', { name: 'Delete the canned response /oops?' });
    await cannedDialog.waitFor(T);
    await cannedDialog.getByRole('button', { name: 'Delete canned response' }).click();
    await cannedDialog.waitFor({ state: 'detached', ...T });
    await page.getByText('Canned response /oops deleted.').waitFor(T);
    await page.getByRole('form', { name: 'Edit /oops' }).waitFor({ state: 'detached', ...T });
    expect(await page.getByTestId('canned-oops').count()).toBe(0);
    const codes = ((await api('GET', '/canned_responses')).body as { short_code: string }[]).map((c) => c.short_code);
    expect(codes).toContain('bye');
    expect(codes).not.toContain('oops');
    await shoot(page, 'canned-after-edit-delete');
    expect(await axeScan(page)).toEqual([]);

    /* ---------- a team renamed, a member removed ---------- */
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Teams' }).click();
    await page.getByRole('heading', { name: /^Teams/ }).waitFor(T);
    await page.getByRole('button', { name: 'Manage team support' }).click();
    const panel = page.getByTestId('team-panel');
    await panel.getByRole('heading', { name: 'support', exact: true }).waitFor(T);
    await panel.getByRole('list', { name: 'Members of support' }).getByText('Grace Hopper').waitFor(T);
    await panel.getByLabel('Team name').fill('Front Desk');
    await shoot(page, 'teams-rename');
    await panel.getByRole('button', { name: 'Save team' }).click();
    await page.getByText('Team front desk saved.').waitFor(T);
    await panel.getByRole('heading', { name: 'front desk', exact: true }).waitFor(T);
    await page.getByTestId('team-front desk').waitFor(T);
    // The form, still open, shows the name as stored.
    expect(await panel.getByLabel('Team name').inputValue()).toBe('front desk');
    expect(await page.getByTestId('team-support').count()).toBe(0);
    expect((await api('GET', `/teams/${teamId}`)).body).toMatchObject({ name: 'front desk', description: 'First line' });

    const members = panel.getByRole('list', { name: 'Members of front desk' });
    await members.getByText('Grace Hopper').waitFor(T);
    await panel.getByRole('button', { name: 'Remove Grace Hopper from front desk' }).click();
    await panel.getByText('Grace Hopper removed from front desk.').waitFor(T);
    await panel.getByText('No members yet.').waitFor(T);
    expect(await members.count()).toBe(0);
    // The removed agent is offered again.
    await panel.getByLabel('Add a member').locator('option', { hasText: 'Grace Hopper (grace@example.com)' }).waitFor({ state: 'attached', ...T });
    expect((await api('GET', `/teams/${teamId}/team_members`)).body).toEqual([]);
    expect(await fitsWidth(page)).toBe(true);
    await shoot(page, 'teams-after-rename-remove');
    expect(await axeScan(page)).toEqual([]);
    expect(problems.filter((p) => !/status of (401|404|422)/.test(p))).toEqual([]);
    await page.context().close();
  }, 240_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/harness.js';
import { buildDashboard, cookieOf, hasChromium, launchChromium, newPage as openPage, shoot, T } from '../support/browser.js';

/**
 * The dashboard's account pages as a new user meets them, in headless Chromium (see
 * test/support/browser.ts): served by the test server itself (DASHBOARD_DIR, so its CSP applies),
 * walked from first-run setup to the access token and invitations.
 */

(hasChromium ? describe : describe.skip)('the dashboard in headless Chromium', () => {
  let h: TestServer;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    h = await startTestServer('sqlite', { DASHBOARD_DIR: await buildDashboard() });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  const newPage = () => openPage(browser, problems);

  it('first run → shell → sign out → sign in → rotate the access token', async () => {
    const page = await newPage();
    await page.goto(`${h.url}/`);

    // First run: the account and its administrator.
    await page.getByRole('heading', { name: 'Set up ChannelX' }).waitFor(T);
    await shoot(page, '01-setup');
    await page.getByLabel('Account name').fill('Acme Support');
    await page.getByLabel('Your name').fill('Grace Hopper');
    await page.getByLabel('E-mail').fill('grace@example.com');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    // The browser's own validation (minlength) keeps the form on the page.
    expect(await page.getByLabel('Password').evaluate((el: HTMLInputElement) => el.validity.tooShort)).toBe(true);
    await page.getByLabel('Password').fill('correct horse');
    await page.getByRole('button', { name: 'Create account' }).click();

    // Signed in: the shell shows the account and opens the conversations; the profile is one link away.
    await page.waitForURL('**/app/conversations', T);
    expect(await page.getByTestId('account-name').textContent()).toBe('Acme Support');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Profile' }).click();
    await page.getByRole('heading', { name: 'Profile' }).waitFor(T);
    expect(new URL(page.url()).pathname).toBe('/app/profile');
    await shoot(page, '02-profile');
    // Usable at 1024 px: nothing overflows sideways.
    await page.setViewportSize({ width: 1024, height: 720 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await shoot(page, '02-profile-1024');
    await page.setViewportSize({ width: 1280, height: 800 });

    // Sign out from the user menu.
    await page.getByRole('button', { name: /Grace Hopper/ }).click();
    await page.getByRole('menu', { name: 'User menu' }).waitFor(T);
    await shoot(page, '03-user-menu');
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor(T);
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor(T);

    // A wrong password says so; the right one lands in the shell.
    await page.getByLabel('E-mail').fill('grace@example.com');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor(T);
    expect(await page.getByRole('alert').textContent()).toMatch(/Invalid login credentials/);
    await shoot(page, '04-sign-in-error');
    await page.getByLabel('Password').fill('correct horse');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Signing in keeps the page the user was on.
    await page.getByRole('heading', { name: 'Profile' }).waitFor(T);
    expect(new URL(page.url()).pathname).toBe('/app/profile');

    // The access token: masked, revealed, rotated; the old one is refused, the new one works.
    const token = page.getByTestId('access-token');
    expect(await token.textContent()).toMatch(/^•+$/);
    await page.getByRole('button', { name: 'Reveal' }).click();
    const oldToken = (await token.textContent())!;
    expect(oldToken).not.toMatch(/•/);
    expect((await h.api('GET', '/api/v1/profile', { token: oldToken })).status).toBe(200);
    await page.getByRole('button', { name: 'Rotate token' }).click();
    await shoot(page, '05-token-confirm');
    await page.getByRole('button', { name: 'Yes, rotate' }).click();
    await page.getByText('New token created').waitFor(T);
    const newToken = (await token.textContent())!;
    expect(newToken).not.toBe(oldToken);
    expect(newToken).not.toMatch(/•/);
    await shoot(page, '06-token-rotated');
    expect((await h.api('GET', '/api/v1/profile', { token: oldToken })).status).toBe(401);
    const me = await h.api('GET', '/api/v1/profile', { token: newToken });
    expect(me.status).toBe(200);
    expect(me.body.name).toBe('Grace Hopper');

    // The name form saves through the cookie session (an Origin-checked write).
    await page.getByLabel('Display name').fill('Grace');
    const nameCard = page.getByRole('region', { name: 'Your name' });
    await nameCard.getByRole('button', { name: 'Save' }).click();
    await nameCard.getByText('Saved.').waitFor(T);
    expect(await page.getByRole('button', { name: /Grace/ }).textContent()).toMatch(/Grace/);

    // The page's expected 401s (signed out, wrong password) are failed loads; nothing else went wrong.
    expect(problems.filter((p) => !/status of 401/.test(p))).toEqual([]);
    await page.context().close();
  });

  it('an invitation link: the invited agent sets name and password and lands signed in; a used link says so; account invitations in the profile', async () => {
    const { accountId, admin } = await h.account({ name: 'Beta Team' });
    const created = await h.api('POST', `/api/v1/accounts/${accountId}/agents`, { token: admin.token, body: { name: 'Alan', email: 'alan@example.com', role: 'agent' } });
    expect(created.status).toBe(200);
    const link = new URL(created.body.invitation_url as string);
    expect(link.pathname).toBe('/app/accept-invitation');

    const page = await newPage();
    await page.goto(`${h.url}${link.pathname}${link.search}`);
    await page.getByRole('heading', { name: 'Join Beta Team' }).waitFor(T);
    expect(await page.getByLabel('Your name').inputValue()).toBe('Alan');
    await shoot(page, '07-accept-invitation');
    await page.getByLabel('Your name').fill('Alan Turing');
    await page.getByLabel('Password', { exact: true }).fill('enigma machine');
    await page.getByLabel('Confirm password').fill('enigma machine');
    await page.getByRole('button', { name: 'Join and sign in' }).click();
    // Lands in the inbox.
    await page.waitForURL('**/app/conversations', T);
    await page.getByTestId('account-name').waitFor(T);
    expect(await page.getByTestId('account-name').textContent()).toBe('Beta Team');
    expect(await page.getByRole('button', { name: /Alan Turing/ }).count()).toBe(1);

    // The same link again, in a fresh browser: it says plainly that it no longer works.
    const other = await newPage();
    await other.goto(`${h.url}${link.pathname}${link.search}`);
    await other.getByRole('heading', { name: 'This invitation link no longer works' }).waitFor(T);
    await shoot(other, '08-invitation-used');
    await other.context().close();

    // Another account invites Alan, an existing user: the invitation waits in his profile.
    const gamma = await h.account({ name: 'Gamma Desk' });
    const invited = await h.api('POST', `/api/v1/accounts/${gamma.accountId}/agents`, { token: gamma.admin.token, body: { name: 'Alan', email: 'alan@example.com', role: 'agent' } });
    expect(invited.status).toBe(200);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Profile' }).click();
    await nav.getByRole('link', { name: 'Invitations' }).click();
    await page.getByRole('region', { name: 'Invitation to Gamma Desk' }).waitFor(T);
    await shoot(page, '09-profile-invitations');
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByText('No pending invitations').waitFor(T);
    const alan = await h.api('GET', '/api/v1/profile', { token: (await h.api('GET', '/api/v1/profile', { cookie: await cookieOf(page) })).body.access_token });
    expect(alan.body.accounts.map((a: { name: string }) => a.name).sort()).toEqual(['Beta Team', 'Gamma Desk']);

    // The page's expected 401s (signed out) and 404s (the used link) are failed loads; nothing else went wrong.
    expect(problems.filter((p) => !/status of (401|404)/.test(p))).toEqual([]);
    await page.context().close();
  });
});

import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { sessionCookie, signIn } from './helpers.js';

/** First-run setup from the dashboard: GET/POST /auth/setup, only while no user exists. */
describeEachDb('first-run setup (/auth/setup)', (dialect) => {
  let h: TestServer;
  beforeEach(async () => {
    h = await startTestServer(dialect);
  });
  afterEach(async () => {
    await h?.close();
  });

  const body = (over: Record<string, string> = {}) => ({ account: 'Acme Support', name: 'Grace Hopper', email: 'grace@example.com', password: 'correct horse', ...over });

  it('is required on a fresh server, creates the account and its administrator, and signs in', async () => {
    expect((await h.api('GET', '/auth/setup')).body).toEqual({ required: true });
    const r = await h.api('POST', '/auth/setup', { body: body(), headers: { origin: 'http://chat.example.com', host: 'chat.example.com' } });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ name: 'Grace Hopper', email: 'grace@example.com' });
    const cookie = sessionCookie(r);
    expect(cookie).toBeDefined();

    const profile = await h.api('GET', '/api/v1/profile', { cookie });
    expect(profile.status).toBe(200);
    expect(profile.body.accounts).toEqual([expect.objectContaining({ name: 'Acme Support', role: 'administrator' })]);
    expect((await h.api('GET', '/auth/setup')).body).toEqual({ required: false });
    expect((await signIn(h, 'grace@example.com', 'correct horse')).status).toBe(200);
  });

  it('is refused once any user exists (409), without touching the existing account', async () => {
    await h.account({ name: 'Existing' });
    expect((await h.api('GET', '/auth/setup')).body).toEqual({ required: false });
    const r = await h.api('POST', '/auth/setup', { body: body() });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatch(/already set up/);
    expect(sessionCookie(r)).toBeUndefined();
    expect((await signIn(h, 'grace@example.com', 'correct horse')).status).toBe(401);
  });

  it('creates exactly one administrator when requests race', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => h.api('POST', '/auth/setup', { body: body({ email: `racer${i}@example.com`, account: `Race ${i}` }) })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array(9).fill(409)]);
    const users = await h.server.ctx.database.db.selectFrom('users').select('id').execute();
    const accounts = await h.server.ctx.database.db.selectFrom('accounts').select('id').execute();
    expect(users).toHaveLength(1);
    expect(accounts).toHaveLength(1);
  });

  it('validates the input (422) and refuses a cross-site Origin (403)', async () => {
    const short = await h.api('POST', '/auth/setup', { body: body({ password: 'short' }) });
    expect(short.status).toBe(422);
    expect(short.body.attributes).toEqual(['password']);
    const email = await h.api('POST', '/auth/setup', { body: body({ email: 'not-an-email' }) });
    expect(email.status).toBe(422);
    const blank = await h.api('POST', '/auth/setup', { body: body({ name: '   ' }) });
    expect(blank.status).toBe(422);
    const missing = await h.api('POST', '/auth/setup', { body: { email: 'a@example.com', password: 'password123' } });
    expect(missing.status).toBe(422);
    const csrf = await h.api('POST', '/auth/setup', { body: body(), headers: { origin: 'https://evil.example' } });
    expect(csrf.status).toBe(403);
    expect((await h.api('GET', '/auth/setup')).body).toEqual({ required: true });
  });
});

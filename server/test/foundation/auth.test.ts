import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { freshIp, PASSWORD, sessionCookie, setCookieHeader, signIn } from './helpers.js';

describeEachDb('sign-in, sessions, tokens and profile', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect, { SIGN_IN_LIMIT_PER_IP: '3', SIGN_IN_LIMIT_PER_EMAIL: '6', TRUST_PROXY: 'true' });
  });
  afterAll(() => h.close());

  describe('POST /auth/sign_in', () => {
    it('signs in with the right password: HttpOnly SameSite=Lax cookie and {data: user}', async () => {
      const { accountId, admin } = await h.account();
      const r = await signIn(h, admin.email.toUpperCase());
      expect(r.status).toBe(200);
      expect(r.body.data).toMatchObject({
        id: admin.id,
        email: admin.email,
        uid: admin.email,
        provider: 'email',
        type: 'user',
        role: 'administrator',
        account_id: accountId,
        access_token: admin.token,
        pubsub_token: admin.pubsub_token,
        confirmed: true,
      });
      expect(r.body.data.accounts).toEqual([
        expect.objectContaining({ id: accountId, role: 'administrator', status: 'active', availability: 'online', auto_offline: true }),
      ]);
      expect(r.body.data).not.toHaveProperty('password_hash');
      const cookie = setCookieHeader(r);
      expect(cookie).toMatch(/^channelx_session=[^;]+;/);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);
      expect(cookie).toMatch(/Path=\//);
      expect(cookie).not.toMatch(/Secure/i);
    });

    it('refuses a wrong password and an unknown email with the same 401', async () => {
      const { admin } = await h.account();
      const wrong = await signIn(h, admin.email, 'not-the-password');
      const unknown = await signIn(h, 'nobody@example.com', PASSWORD);
      for (const r of [wrong, unknown]) {
        expect(r.status).toBe(401);
        expect(r.body.error).toBe('Invalid login credentials. Please try again.');
        expect(sessionCookie(r)).toBeUndefined();
      }
      // an invited user (no password yet) cannot sign in either
      const { accountId } = await h.account();
      const agent = await h.user(accountId);
      expect((await signIn(h, agent.email, '')).status).toBe(401);
    });

    it('rejects malformed sign-in bodies with 4xx', async () => {
      const r1 = await h.api('POST', '/auth/sign_in', { body: { email: 5 }, headers: { 'x-forwarded-for': freshIp() } });
      expect(r1.status).toBe(422);
      const r2 = await h.api('POST', '/auth/sign_in', { body: '{"email":', headers: { 'content-type': 'application/json' } });
      expect(r2.status).toBe(400);
    });

    it('rate-limits per IP: 429 with Retry-After', async () => {
      const ip = freshIp();
      for (let i = 0; i < 3; i++) expect((await signIn(h, `x${i}@example.com`, 'wrong-password', ip)).status).toBe(401);
      const r = await signIn(h, 'x9@example.com', 'wrong-password', ip);
      expect(r.status).toBe(429);
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      expect(r.body.error).toBeTypeOf('string');
      // the right password does not get through either while the IP is blocked
      const { admin } = await h.account();
      expect((await signIn(h, admin.email, PASSWORD, ip)).status).toBe(429);
    });

    it('rate-limits per email across IPs', async () => {
      const { admin } = await h.account();
      for (let i = 0; i < 6; i++) expect((await signIn(h, admin.email, 'wrong-password')).status).toBe(401);
      const r = await signIn(h, admin.email, PASSWORD);
      expect(r.status).toBe(429);
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      const other = await h.account();
      expect((await signIn(h, other.admin.email)).status).toBe(200);
    });
  });

  describe('session cookie', () => {
    it('authenticates API routes, and sign-out ends it', async () => {
      const { accountId, admin } = await h.account();
      const cookie = sessionCookie(await signIn(h, admin.email))!;
      expect((await h.api('GET', '/api/v1/profile', { cookie })).body.id).toBe(admin.id);
      expect((await h.api('GET', `/api/v1/accounts/${accountId}/agents`, { cookie })).status).toBe(200);
      expect((await h.api('GET', `/api/v1/accounts/${accountId}`, { cookie })).body.id).toBe(accountId);

      // A browser names the page's origin on every write (the cookie's CSRF check, test/kernel/browser-hardening.test.ts).
      const out = await h.api('DELETE', '/auth/sign_out', { cookie, headers: { origin: h.server.ctx.config.publicUrl } });
      expect(out.status).toBe(200);
      expect(out.body).toEqual({ success: true });
      expect(setCookieHeader(out)).toMatch(/channelx_session=;/);
      const after = await h.api('GET', '/api/v1/profile', { cookie });
      expect(after.status).toBe(401);
      expect(after.body).toEqual({ error: 'Invalid Access Token' });
      expect((await h.api('DELETE', '/auth/sign_out')).status).toBe(404);
    });

    it('rejects a forged cookie', async () => {
      const r = await h.api('GET', '/api/v1/profile', { cookie: 'channelx_session=forged-value' });
      expect(r.status).toBe(401);
    });
  });

  describe('access tokens', () => {
    it('reads api_access_token, HTTP_API_ACCESS_TOKEN, and decides over a Bearer header', async () => {
      const { admin } = await h.account();
      const other = await h.account();
      expect((await h.api('GET', '/api/v1/profile', { headers: { api_access_token: admin.token } })).body.id).toBe(admin.id);
      expect((await h.api('GET', '/api/v1/profile', { headers: { HTTP_API_ACCESS_TOKEN: admin.token } })).body.id).toBe(admin.id);
      expect((await h.api('GET', '/api/v1/profile', { headers: { authorization: `Bearer ${admin.token}` } })).body.id).toBe(admin.id);
      const both = await h.api('GET', '/api/v1/profile', {
        headers: { api_access_token: admin.token, authorization: `Bearer ${other.admin.token}` },
      });
      expect(both.body.id).toBe(admin.id);
      for (const headers of [{}, { api_access_token: 'nope' }, { authorization: 'Bearer nope' }] as Record<string, string>[]) {
        const r = await h.api('GET', '/api/v1/profile', { headers });
        expect(r.status).toBe(401);
        expect(r.body).toEqual({ error: 'Invalid Access Token' });
      }
    });

    it('rotates the token: the old one is refused at once', async () => {
      const { accountId, admin } = await h.account();
      const r = await h.api('POST', '/api/v1/profile/reset_access_token', { token: admin.token });
      expect(r.status).toBe(200);
      expect(r.body.access_token).toBeTypeOf('string');
      expect(r.body.access_token).not.toBe(admin.token);
      expect(r.body.id).toBe(admin.id);
      const old = await h.api('GET', `/api/v1/accounts/${accountId}/inboxes`, { token: admin.token });
      expect(old.status).toBe(401);
      expect(old.body).toEqual({ error: 'Invalid Access Token' });
      expect((await h.api('GET', `/api/v1/accounts/${accountId}/inboxes`, { token: r.body.access_token })).status).toBe(200);
      expect((await h.api('GET', '/api/v1/profile', { token: r.body.access_token })).body.access_token).toBe(r.body.access_token);
    });
  });

  describe('profile', () => {
    it('returns the user JSON of the reference', async () => {
      const { accountId, admin } = await h.account();
      const r = await h.api('GET', '/api/v1/profile', { token: admin.token });
      expect(r.status).toBe(200);
      const keys = [
        'access_token', 'account_id', 'available_name', 'avatar_url', 'confirmed', 'display_name', 'message_signature', 'email', 'id',
        'inviter_id', 'name', 'provider', 'pubsub_token', 'role', 'ui_settings', 'uid', 'type', 'accounts',
      ];
      for (const k of keys) expect(r.body).toHaveProperty(k);
      expect(r.body).toMatchObject({ account_id: accountId, available_name: 'Admin', display_name: null, ui_settings: {}, inviter_id: null });
      const keysOfAccount = ['id', 'name', 'status', 'active_at', 'role', 'availability', 'availability_status', 'auto_offline'];
      for (const k of keysOfAccount) expect(r.body.accounts[0]).toHaveProperty(k);
    });

    it('updates wrapped and unwrapped fields, and validates them', async () => {
      const { admin } = await h.account();
      const a = await h.api('PUT', '/api/v1/profile', {
        token: admin.token,
        body: { profile: { name: 'Ada', display_name: 'Ada L.', message_signature: '-- Ada', ui_settings: { theme: 'dark' } } },
      });
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ name: 'Ada', display_name: 'Ada L.', available_name: 'Ada L.', message_signature: '-- Ada', ui_settings: { theme: 'dark' } });
      const b = await h.api('PATCH', '/api/v1/profile', { token: admin.token, body: { display_name: '' } });
      expect(b.body).toMatchObject({ name: 'Ada', display_name: null, available_name: 'Ada' });

      const other = await h.account();
      const taken = await h.api('PUT', '/api/v1/profile', { token: admin.token, body: { profile: { email: other.admin.email.toUpperCase() } } });
      expect(taken.status).toBe(422);
      expect(taken.body).toMatchObject({ message: 'Email has already been taken', attributes: ['email'] });
      for (const body of [{ profile: { email: 'not-an-email' } }, { profile: { name: '' } }, { name: 'x'.repeat(256) }, { profile: 'str' }]) {
        expect((await h.api('PUT', '/api/v1/profile', { token: admin.token, body })).status).toBe(422);
      }
      expect((await h.api('GET', '/api/v1/profile', { token: admin.token })).body.name).toBe('Ada');

      const moved = await h.api('PUT', '/api/v1/profile', { token: admin.token, body: { profile: { email: `NEW-${admin.email}` } } });
      expect(moved.status).toBe(200);
      expect(moved.body.email).toBe(`new-${admin.email}`);
      expect(moved.body.uid).toBe(`new-${admin.email}`);
    });

    it('changes the password only with the right current_password, ending other sessions', async () => {
      const { admin } = await h.account();
      const mine = sessionCookie(await signIn(h, admin.email))!;
      const elsewhere = sessionCookie(await signIn(h, admin.email))!;
      const headers = { origin: h.server.ctx.config.publicUrl };
      const wrong = await h.api('PUT', '/api/v1/profile', {
        cookie: mine,
        headers,
        body: { profile: { password: 'new-password-1', current_password: 'wrong-one' } },
      });
      expect(wrong.status).toBe(422);
      expect(wrong.body.attributes).toEqual(['current_password']);
      const short = await h.api('PUT', '/api/v1/profile', { cookie: mine, headers, body: { profile: { password: 'short', current_password: PASSWORD } } });
      expect(short.status).toBe(422);
      expect((await signIn(h, admin.email, PASSWORD)).status).toBe(200);

      const ok = await h.api('PUT', '/api/v1/profile', {
        cookie: mine,
        headers,
        body: { profile: { password: 'new-password-1', password_confirmation: 'new-password-1', current_password: PASSWORD } },
      });
      expect(ok.status).toBe(200);
      expect((await h.api('GET', '/api/v1/profile', { cookie: mine })).status).toBe(200);
      expect((await h.api('GET', '/api/v1/profile', { cookie: elsewhere })).status).toBe(401);
      expect((await signIn(h, admin.email, PASSWORD)).status).toBe(401);
      expect((await signIn(h, admin.email, 'new-password-1')).status).toBe(200);
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailSink, type Mail } from '../support/mail-sink.js';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { sha256Hex } from '../../src/kernel/tokens.js';
import { counts, sessionCookie, setCookieHeader, signIn, urlencoded } from './helpers.js';

const PUBLIC_URL = 'https://chat.example.com';
const AGENT_KEYS = ['id', 'account_id', 'availability_status', 'auto_offline', 'confirmed', 'email', 'provider', 'available_name', 'name', 'role', 'thumbnail'];

const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;

describeEachDb('agents and invitations', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect, { PUBLIC_URL, SIGN_IN_LIMIT_PER_IP: '1000' });
  });
  afterAll(() => h.close());

  const agentsUrl = (accountId: number) => `/api/v1/accounts/${accountId}/agents`;

  describe('agents', () => {
    it('lists the agents as a bare array of agent JSON, without pubsub tokens', async () => {
      const { accountId, admin } = await h.account();
      const agent = await h.user(accountId, { name: 'zed' });
      const r = await h.api('GET', agentsUrl(accountId), { token: agent.token });
      expect(r.status).toBe(200);
      expect(Array.isArray(r.body)).toBe(true);
      expect(r.body.map((a: { id: number }) => a.id)).toEqual([admin.id, agent.id]);
      for (const a of r.body) {
        for (const k of AGENT_KEYS) expect(a).toHaveProperty(k);
        expect(a).not.toHaveProperty('pubsub_token');
        expect(a).not.toHaveProperty('access_token');
      }
      expect(r.body[1]).toMatchObject({ account_id: accountId, role: 'agent', provider: 'email', name: 'zed', available_name: 'zed' });
    });

    it('creates an agent with a password, who can then sign in', async () => {
      const { accountId, admin } = await h.account();
      const email = `Pat-${Date.now()}@Example.com`;
      const r = await h.api('POST', agentsUrl(accountId), {
        token: admin.token,
        body: { agent: { name: 'Pat', email, role: 'administrator', auto_offline: false, availability: 'busy' }, password: 'pat-password' },
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ name: 'Pat', email: email.toLowerCase(), role: 'administrator', auto_offline: false, availability_status: 'busy', confirmed: true });
      expect(r.body).not.toHaveProperty('invitation_url');
      const s = await signIn(h, email, 'pat-password');
      expect(s.status).toBe(200);
      expect(s.body.data.accounts[0]).toMatchObject({ id: accountId, role: 'administrator' });
    });

    it('invites an agent without a password: a one-time link that sets the password and signs in', async () => {
      const { accountId, admin } = await h.account();
      const email = `invitee-${Date.now()}@example.com`;
      const form = urlencoded({ name: 'Ivy', email, role: 'agent' });
      const r = await h.api('POST', agentsUrl(accountId), { token: admin.token, body: form.body, headers: form.headers });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ name: 'Ivy', email, role: 'agent', confirmed: false });
      expect(r.body.invitation_url).toMatch(new RegExp(`^${PUBLIC_URL}/app/accept-invitation\\?token=`));
      const expires = Date.parse(r.body.invitation_expires_at);
      expect(Math.abs(expires - (Date.now() + 7 * 24 * 3600 * 1000))).toBeLessThan(60_000);
      const token = tokenOf(r.body.invitation_url);

      // only the digest is stored
      const db = h.server.ctx.database.db;
      const rows = await db.selectFrom('invitations').selectAll().where('user_id', '=', r.body.id).execute();
      expect(rows).toHaveLength(1);
      expect(rows[0].token_digest).toBe(sha256Hex(token));
      expect(JSON.stringify(rows)).not.toContain(token);
      expect((await signIn(h, email, '')).status).toBe(401);

      const info = await h.api('GET', `/auth/invitations/${token}`);
      expect(info.status).toBe(200);
      expect(info.body).toMatchObject({ email, name: 'Ivy', account_id: accountId, role: 'agent' });
      expect((await h.api('GET', '/auth/invitations/not-a-token')).status).toBe(404);

      const short = await h.api('POST', `/auth/invitations/${token}`, { body: { password: 'short' } });
      expect(short.status).toBe(422);
      const accept = await h.api('POST', `/auth/invitations/${token}`, { body: { password: 'ivy-password-1' } });
      expect(accept.status).toBe(200);
      expect(accept.body.data).toMatchObject({ id: r.body.id, email, account_id: accountId, role: 'agent', confirmed: true });
      expect(setCookieHeader(accept)).toMatch(/HttpOnly/);
      expect(setCookieHeader(accept)).toMatch(/Secure/); // PUBLIC_URL is https
      const cookie = sessionCookie(accept)!;
      expect((await h.api('GET', '/api/v1/profile', { cookie })).body.id).toBe(r.body.id);

      // one-time: the link is spent
      expect((await h.api('GET', `/auth/invitations/${token}`)).status).toBe(404);
      expect((await h.api('POST', `/auth/invitations/${token}`, { body: { password: 'another-password' } })).status).toBe(404);
      expect((await signIn(h, email, 'ivy-password-1')).status).toBe(200);
      expect((await signIn(h, email, 'another-password')).status).toBe(401);
    });

    it('refuses expired links and links of removed agents', async () => {
      const { accountId, admin } = await h.account();
      const a = await h.api('POST', agentsUrl(accountId), { token: admin.token, body: { name: 'Old', email: `old-${Date.now()}@example.com` } });
      const b = await h.api('POST', agentsUrl(accountId), { token: admin.token, body: { name: 'Gone', email: `gone-${Date.now()}@example.com` } });
      await h.server.ctx.database.db.updateTable('invitations').set({ expires_at: Date.now() - 1 }).where('user_id', '=', a.body.id).execute();
      expect((await h.api('GET', `/auth/invitations/${tokenOf(a.body.invitation_url)}`)).status).toBe(404);
      expect((await h.api('POST', `/auth/invitations/${tokenOf(a.body.invitation_url)}`, { body: { password: 'whatever-123' } })).status).toBe(404);
      expect((await h.api('DELETE', `${agentsUrl(accountId)}/${b.body.id}`, { token: admin.token })).status).toBe(200);
      expect((await h.api('GET', `/auth/invitations/${tokenOf(b.body.invitation_url)}`)).status).toBe(404);
    });

    it('invites an existing user to another account without a duplicate, never touching their password; they join on accepting', async () => {
      const one = await h.account();
      const two = await h.account();
      const r = await h.api('POST', agentsUrl(two.accountId), {
        token: two.admin.token,
        body: { agent: { name: 'Typed', email: one.admin.email.toUpperCase(), role: 'agent' }, password: 'hijack-attempt' },
      });
      expect(r.status).toBe(200);
      // pending (issue 9 item 4): what the inviting account typed, unconfirmed, no link
      expect(r.body).toMatchObject({ account_id: two.accountId, role: 'agent', name: 'Typed', email: one.admin.email, confirmed: false });
      expect(r.body).not.toHaveProperty('invitation_url');
      expect((await signIn(h, one.admin.email, 'hijack-attempt')).status).toBe(401);
      const before = await h.api('GET', '/api/v1/profile', { token: one.admin.token });
      expect(before.body.accounts.map((a: { id: number }) => a.id)).toEqual([one.accountId]);
      const users = await h.server.ctx.database.db.selectFrom('users').select('id').where('email', '=', one.admin.email).execute();
      expect(users).toHaveLength(1);

      const [inv] = (await h.api('GET', '/api/v1/profile/invitations', { token: one.admin.token })).body.payload;
      const accepted = await h.api('POST', `/api/v1/profile/invitations/${inv.id}/accept`, { token: one.admin.token });
      expect(accepted.body.accounts.map((a: { id: number }) => a.id).sort()).toEqual([one.accountId, two.accountId].sort());

      // adding the same person again is a validation error
      const again = await h.api('POST', agentsUrl(two.accountId), { token: two.admin.token, body: { name: 'X', email: one.admin.email } });
      expect(again.status).toBe(422);
      expect(again.body).toMatchObject({ message: 'Email has already been taken', attributes: ['email'] });
    });

    it("does not hand another account's administrator a link to a pending invitee", async () => {
      const one = await h.account();
      const two = await h.account();
      const email = `pending-${Date.now()}@example.com`;
      const invited = await h.api('POST', agentsUrl(one.accountId), { token: one.admin.token, body: { name: 'P', email } });
      const joined = await h.api('POST', agentsUrl(two.accountId), { token: two.admin.token, body: { name: 'P', email } });
      expect(joined.status).toBe(200);
      expect(joined.body).not.toHaveProperty('invitation_url');
      const accept = await h.api('POST', `/auth/invitations/${tokenOf(invited.body.invitation_url)}`, { body: { password: 'pending-pass-1' } });
      // account two's invitation waits for the user's own answer (issue 9 item 4)
      expect(accept.body.data.accounts).toHaveLength(1);
      const token = accept.body.data.access_token;
      const [inv] = (await h.api('GET', '/api/v1/profile/invitations', { token })).body.payload;
      expect(inv.account_id).toBe(two.accountId);
      expect((await h.api('POST', `/api/v1/profile/invitations/${inv.id}/accept`, { token })).body.accounts).toHaveLength(2);
    });

    it('refuses invalid agents with 422 and writes nothing', async () => {
      const { accountId, admin } = await h.account();
      const before = await counts(h);
      for (const body of [
        {},
        { name: 'No email' },
        { name: 'Bad', email: 'not-an-email' },
        { email: `noname-${Date.now()}@example.com` },
        { name: 'Bad role', email: 'r@example.com', role: 'owner' },
        { name: 'Bad avail', email: 'a@example.com', availability: 'away' },
        { name: 'Short pw', email: 'p@example.com', password: 'short' },
        { name: 'x'.repeat(256), email: 'long@example.com' },
      ]) {
        const r = await h.api('POST', agentsUrl(accountId), { token: admin.token, body });
        expect(r.status, JSON.stringify(body)).toBe(422);
      }
      expect(await counts(h)).toEqual(before);
    });

    it('updates role, availability and auto_offline; the name is the user\'s own and is ignored', async () => {
      const { accountId, admin } = await h.account();
      const agent = await h.user(accountId);
      const url = `${agentsUrl(accountId)}/${agent.id}`;
      const r = await h.api('PATCH', url, { token: admin.token, body: { name: 'Renamed', availability: 'busy', auto_offline: 'false' } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: agent.id, name: 'Agent', availability_status: 'busy', auto_offline: false, role: 'agent' });
      const promoted = await h.api('PUT', url, { token: admin.token, body: { agent: { role: 'administrator' } } });
      expect(promoted.body.role).toBe('administrator');
      expect((await h.api('PATCH', url, { token: admin.token, body: { role: 'owner' } })).status).toBe(422);
      expect((await h.api('PATCH', url, { token: admin.token, body: { name: '  ' } })).body.name).toBe('Agent');
      expect((await h.api('PATCH', `${agentsUrl(accountId)}/999999`, { token: admin.token, body: { role: 'agent' } })).status).toBe(404);
      // the last administrator cannot be demoted
      const solo = await h.account();
      const demote = await h.api('PATCH', `${agentsUrl(solo.accountId)}/${solo.admin.id}`, { token: solo.admin.token, body: { role: 'agent' } });
      expect(demote.status).toBe(422);
      expect(demote.body.attributes).toEqual(['role']);
    });

    it('deletes an agent from the account and its inboxes only; never yourself', async () => {
      const one = await h.account();
      const two = await h.account();
      const agent = await h.user(one.accountId);
      await h.api('POST', agentsUrl(two.accountId), { token: two.admin.token, body: { name: 'A', email: agent.email } });
      const [inv] = (await h.api('GET', '/api/v1/profile/invitations', { token: agent.token })).body.payload;
      expect((await h.api('POST', `/api/v1/profile/invitations/${inv.id}/accept`, { token: agent.token })).status).toBe(200);
      const inboxOne = await h.inbox(one.accountId, { members: [agent.id] });
      const inboxTwo = await h.inbox(two.accountId, { members: [agent.id] });

      const self = await h.api('DELETE', `${agentsUrl(one.accountId)}/${one.admin.id}`, { token: one.admin.token });
      expect(self.status).toBe(422);
      expect(self.body.error).toMatch(/yourself/);

      const r = await h.api('DELETE', `${agentsUrl(one.accountId)}/${agent.id}`, { token: one.admin.token });
      expect(r.status).toBe(200);
      expect((await h.api('GET', `/api/v1/accounts/${one.accountId}/inboxes`, { token: agent.token })).status).toBe(401);
      const members = await h.api('GET', `/api/v1/accounts/${one.accountId}/inbox_members/${inboxOne.id}`, { token: one.admin.token });
      expect(members.body.payload).toEqual([]);
      const still = await h.api('GET', `/api/v1/accounts/${two.accountId}/inbox_members/${inboxTwo.id}`, { token: two.admin.token });
      expect(still.body.payload.map((m: { id: number }) => m.id)).toEqual([agent.id]);
      expect((await h.api('DELETE', `${agentsUrl(one.accountId)}/${agent.id}`, { token: one.admin.token })).status).toBe(404);
    });
  });
});

describeEachDb('invitation mail over SMTP', (dialect) => {
  let h: TestServer;
  let sink: Awaited<ReturnType<typeof startMailSink>>;
  let inbox: Mail[] = [];

  beforeAll(async () => {
    sink = await startMailSink();
    inbox = sink.mails;
    h = await startTestServer(dialect, { PUBLIC_URL, SMTP_URL: sink.url, MAIL_FROM: 'ChannelX <noreply@example.com>' });
  });
  afterAll(async () => {
    await h.close();
    await sink.close();
  });

  it('mails the invitation link, which works', async () => {
    const { accountId, admin } = await h.account({ name: 'Mail Co' });
    const email = `mailed-${Date.now()}@example.com`;
    const r = await h.api('POST', `/api/v1/accounts/${accountId}/agents`, { token: admin.token, body: { name: 'Mel', email } });
    expect(r.status).toBe(200);
    const deadline = Date.now() + 10_000;
    while (!inbox.some((m) => m.to.includes(email)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const mail = inbox.find((m) => m.to.includes(email));
    expect(mail, 'the invitation mail arrives').toBeDefined();
    const body = mail!.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    expect(body).toContain('Mail Co');
    expect(body).toContain(r.body.invitation_url);
    const token = tokenOf(r.body.invitation_url);
    expect((await h.api('GET', `/auth/invitations/${token}`)).body.email).toBe(email);
    // no mail for an agent created with a password
    const before = inbox.length;
    await h.api('POST', `/api/v1/accounts/${accountId}/agents`, { token: admin.token, body: { name: 'P', email: `pw-${Date.now()}@example.com`, password: 'password-123' } });
    await new Promise((res) => setTimeout(res, 300));
    expect(inbox.length).toBe(before);
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMailSink, type Mail } from '../support/mail-sink.js';
import { describeEachDb, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { cableUrl, rawSocket } from '../realtime/cable.js';
import { PASSWORD, signIn } from './helpers.js';

/**
 * Issue 9 item 4: users belong to themselves, not to the account that added them. Adding an
 * existing user of another account is an invitation they accept or decline; until they accept,
 * that account sees only what it typed and the user is not a member. An account administrator
 * edits only account-scoped fields of an agent.
 */

const PUBLIC_URL = 'https://chat.example.com';
const REAL_NAME = 'Rosalind Realname';
const REAL_DISPLAY = 'Roz the Real';

describeEachDb('agents: adding an existing user needs their consent', (dialect) => {
  let h: TestServer;
  let sink: Awaited<ReturnType<typeof startMailSink>>;
  let mails: Mail[] = [];

  beforeAll(async () => {
    sink = await startMailSink();
    mails = sink.mails;
    h = await startTestServer(dialect, { PUBLIC_URL, SMTP_URL: sink.url, SIGN_IN_LIMIT_PER_IP: '1000' });
  });
  afterAll(async () => {
    await h.close();
    await sink.close();
  });

  const agentsUrl = (accountId: number) => `/api/v1/accounts/${accountId}/agents`;

  /** A user of their own account, with a real name and display name of their own choosing. */
  async function victim() {
    const home = await h.account({ name: 'Home Co' });
    const r = await h.api('PUT', '/api/v1/profile', { token: home.admin.token, body: { profile: { name: REAL_NAME, display_name: REAL_DISPLAY } } });
    expect(r.status).toBe(200);
    return home;
  }

  async function isMember(accountId: number, userId: number) {
    const row = await h.server.ctx.database.db
      .selectFrom('account_users')
      .select('id')
      .where('account_id', '=', accountId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return !!row;
  }

  async function cableState(user: TestUser, accountId: number, pubsubToken = user.pubsub_token) {
    const s = await rawSocket(cableUrl(h));
    try {
      await s.frame((f) => f?.type === 'welcome');
      const identifier = JSON.stringify({ channel: 'RoomChannel', pubsub_token: pubsubToken, account_id: accountId, user_id: user.id });
      s.send({ command: 'subscribe', identifier });
      return (await s.frame((f) => f?.identifier === identifier && /_subscription$/.test(f.type), 10_000)).type as string;
    } finally {
      s.ws.terminate();
    }
  }

  const invitationsOf = async (token: string) => {
    const r = await h.api('GET', '/api/v1/profile/invitations', { token });
    expect(r.status).toBe(200);
    return r.body.payload as { id: number; account_id: number; account_name: string; role: string; inviter_name: string | null }[];
  };

  it("adding another account's user by e-mail invites them: not a member, the account sees only what it typed, nothing of the user changes", async () => {
    const home = await victim();
    const other = await h.account({ name: 'Other Co' });
    const inbox = await h.inbox(other.accountId);

    const r = await h.api('POST', agentsUrl(other.accountId), {
      token: other.admin.token,
      body: { agent: { name: 'Typed Label', email: home.admin.email.toUpperCase(), role: 'administrator' }, password: 'hijack-attempt' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      account_id: other.accountId,
      email: home.admin.email,
      name: 'Typed Label',
      available_name: 'Typed Label',
      confirmed: false,
      role: 'administrator',
    });
    expect(r.body).not.toHaveProperty('invitation_url');
    expect(Date.parse(r.body.invitation_expires_at)).toBeGreaterThan(Date.now());
    expect(r.text).not.toContain(REAL_NAME);
    expect(r.text).not.toContain(REAL_DISPLAY);

    // the listing shows the pending entry the same way, and nothing of the user's own
    const list = await h.api('GET', agentsUrl(other.accountId), { token: other.admin.token });
    expect(list.status).toBe(200);
    const entry = list.body.find((a: { email: string }) => a.email === home.admin.email);
    expect(entry).toMatchObject({ name: 'Typed Label', confirmed: false, role: 'administrator' });
    expect(list.text).not.toContain(REAL_NAME);
    expect(list.text).not.toContain(REAL_DISPLAY);

    // not a member: no access, cannot be made an inbox member, hears nothing on /cable
    expect(await isMember(other.accountId, home.admin.id)).toBe(false);
    expect((await h.api('GET', `/api/v1/accounts/${other.accountId}/inboxes`, { token: home.admin.token })).status).toBe(401);
    const add = await h.api('POST', `/api/v1/accounts/${other.accountId}/inbox_members`, {
      token: other.admin.token,
      body: { inbox_id: inbox.id, user_ids: [home.admin.id] },
    });
    expect(add.status).toBe(422);
    expect(await cableState(home.admin, other.accountId)).toBe('reject_subscription');
    expect((await h.api('PATCH', `${agentsUrl(other.accountId)}/${home.admin.id}`, { token: other.admin.token, body: { role: 'agent' } })).status).toBe(404);

    // nothing of the user changed: name, password, accounts
    const profile = await h.api('GET', '/api/v1/profile', { token: home.admin.token });
    expect(profile.body).toMatchObject({ name: REAL_NAME, display_name: REAL_DISPLAY });
    expect(profile.body.accounts.map((a: { id: number }) => a.id)).toEqual([home.accountId]);
    expect((await signIn(h, home.admin.email, 'hijack-attempt')).status).toBe(401);
    expect((await signIn(h, home.admin.email, PASSWORD)).status).toBe(200);

    // inviting again replaces the invitation (one row), still pending
    const again = await h.api('POST', agentsUrl(other.accountId), { token: other.admin.token, body: { email: home.admin.email, role: 'agent' } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ confirmed: false, role: 'agent', name: home.admin.email });
    const invitations = await invitationsOf(home.admin.token);
    expect(invitations).toHaveLength(1);
    expect(invitations[0]).toMatchObject({ account_id: other.accountId, account_name: 'Other Co', role: 'agent', inviter_name: 'Admin' });
    expect(await isMember(other.accountId, home.admin.id)).toBe(false);
  });

  it('the user accepts the invitation and becomes a member with the role the account chose', async () => {
    const home = await victim();
    const other = await h.account({ name: 'Joiner Co' });
    const stranger = await h.account();
    await h.api('POST', agentsUrl(other.accountId), { token: other.admin.token, body: { name: 'Label', email: home.admin.email, role: 'administrator', availability: 'busy', auto_offline: false } });
    const [inv] = await invitationsOf(home.admin.token);
    expect(inv).toMatchObject({ account_id: other.accountId, role: 'administrator' });

    // only the invited user can answer it
    expect((await h.api('POST', `/api/v1/profile/invitations/${inv.id}/accept`, { token: stranger.admin.token })).status).toBe(404);
    expect((await h.api('POST', `/api/v1/profile/invitations/${inv.id}/decline`, { token: other.admin.token })).status).toBe(404);
    expect((await h.api('POST', `/api/v1/profile/invitations/${inv.id}/accept`)).status).toBe(401);
    expect(await isMember(stranger.accountId, home.admin.id)).toBe(false);

    const accept = await h.api('POST', `/api/v1/profile/invitations/${inv.id}/accept`, { token: home.admin.token });
    expect(accept.status).toBe(200);
    expect(accept.body.accounts.map((a: { id: number }) => a.id).sort()).toEqual([home.accountId, other.accountId].sort());
    expect(accept.body.accounts.find((a: { id: number }) => a.id === other.accountId)).toMatchObject({ role: 'administrator', availability: 'busy', auto_offline: false });
    expect(await isMember(other.accountId, home.admin.id)).toBe(true);

    // now, with consent, the account sees the user as they are
    const list = await h.api('GET', agentsUrl(other.accountId), { token: other.admin.token });
    const entries = list.body.filter((a: { id: number }) => a.id === home.admin.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ name: REAL_NAME, available_name: REAL_DISPLAY, confirmed: true, role: 'administrator' });
    expect((await h.api('GET', `/api/v1/accounts/${other.accountId}/inboxes`, { token: home.admin.token })).status).toBe(200);
    expect(await cableState(home.admin, other.accountId)).toBe('confirm_subscription');

    // answered once
    expect(await invitationsOf(home.admin.token)).toEqual([]);
    expect((await h.api('POST', `/api/v1/profile/invitations/${inv.id}/accept`, { token: home.admin.token })).status).toBe(404);
    // and adding a member again is the usual validation error
    const dup = await h.api('POST', agentsUrl(other.accountId), { token: other.admin.token, body: { email: home.admin.email } });
    expect(dup.status).toBe(422);
  });

  it('declined, expired or withdrawn invitations make nobody a member', async () => {
    const home = await victim();
    const a = await h.account();
    const b = await h.account();
    const c = await h.account();
    for (const acc of [a, b, c]) {
      const r = await h.api('POST', agentsUrl(acc.accountId), { token: acc.admin.token, body: { name: 'L', email: home.admin.email } });
      expect(r.status).toBe(200);
    }
    const byAccount = new Map((await invitationsOf(home.admin.token)).map((i) => [i.account_id, i]));
    expect(byAccount.size).toBe(3);

    // a: declined
    expect((await h.api('POST', `/api/v1/profile/invitations/${byAccount.get(a.accountId)!.id}/decline`, { token: home.admin.token })).status).toBe(200);
    // b: expired without an answer
    await h.server.ctx.database.db
      .updateTable('membership_invitations')
      .set({ expires_at: Date.now() - 1 })
      .where('account_id', '=', b.accountId)
      .execute();
    // c: withdrawn by the account (DELETE on the pending entry)
    expect((await h.api('DELETE', `${agentsUrl(c.accountId)}/${home.admin.id}`, { token: c.admin.token })).status).toBe(200);

    expect(await invitationsOf(home.admin.token)).toEqual([]);
    for (const acc of [a, b, c]) {
      const inv = byAccount.get(acc.accountId)!;
      expect((await h.api('POST', `/api/v1/profile/invitations/${inv.id}/accept`, { token: home.admin.token })).status).toBe(404);
      expect(await isMember(acc.accountId, home.admin.id)).toBe(false);
      const list = await h.api('GET', agentsUrl(acc.accountId), { token: acc.admin.token });
      expect(list.body.map((x: { id: number }) => x.id)).toEqual([acc.admin.id]);
      expect(await cableState(home.admin, acc.accountId)).toBe('reject_subscription');
    }
    const profile = await h.api('GET', '/api/v1/profile', { token: home.admin.token });
    expect(profile.body.accounts.map((x: { id: number }) => x.id)).toEqual([home.accountId]);
    // nothing pending left to withdraw
    expect((await h.api('DELETE', `${agentsUrl(c.accountId)}/${home.admin.id}`, { token: c.admin.token })).status).toBe(404);
  });

  it("an administrator's PATCH never changes an agent's name, e-mail or password; role and availability still change", async () => {
    const { accountId, admin } = await h.account();
    const email = `pat-${Date.now()}@example.com`;
    const created = await h.api('POST', agentsUrl(accountId), { token: admin.token, body: { name: 'Pat', email, password: 'pat-password-1' } });
    expect(created.status).toBe(200);
    const id = created.body.id as number;
    const db = h.server.ctx.database.db;
    const before = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    for (const body of [
      { name: 'Hijacked', email: 'evil@example.com', password: 'taken-over-1', password_confirmation: 'taken-over-1', display_name: 'X', role: 'administrator', availability: 'busy', auto_offline: false },
      { agent: { name: 'Hijacked too', email: 'evil2@example.com', password: 'taken-over-2' } },
    ]) {
      const r = await h.api('PATCH', `${agentsUrl(accountId)}/${id}`, { token: admin.token, body });
      expect(r.status, JSON.stringify(body)).toBe(200);
      expect(r.body).toMatchObject({ id, name: 'Pat', email, role: 'administrator', availability_status: 'busy', auto_offline: false });
    }
    const put = await h.api('PUT', `${agentsUrl(accountId)}/${id}`, { token: admin.token, body: { name: 'Put name', agent: { role: 'agent' } } });
    expect(put.body).toMatchObject({ name: 'Pat', role: 'agent' });

    const after = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect({ name: after.name, display_name: after.display_name, email: after.email, password_hash: after.password_hash }).toEqual({
      name: before.name,
      display_name: before.display_name,
      email: before.email,
      password_hash: before.password_hash,
    });
    expect((await signIn(h, email, 'pat-password-1')).status).toBe(200);
    expect((await signIn(h, email, 'taken-over-1')).status).toBe(401);
    expect((await signIn(h, 'evil@example.com', 'taken-over-1')).status).toBe(401);
  });

  it('a user who never set a password and belongs to no account is set up like a new one', async () => {
    const one = await h.account();
    const two = await h.account();
    const email = `unclaimed-${Date.now()}@example.com`;
    const first = await h.api('POST', agentsUrl(one.accountId), { token: one.admin.token, body: { name: 'Named By One', email } });
    expect((await h.api('DELETE', `${agentsUrl(one.accountId)}/${first.body.id}`, { token: one.admin.token })).status).toBe(200);

    const r = await h.api('POST', agentsUrl(two.accountId), { token: two.admin.token, body: { name: 'Named By Two', email } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: first.body.id, name: 'Named By Two', confirmed: false });
    expect(r.body.invitation_url).toMatch(new RegExp(`^${PUBLIC_URL}/app/accept-invitation\\?token=`));
    expect(r.text).not.toContain('Named By One');
    expect(await isMember(two.accountId, first.body.id)).toBe(true);
  });

  it('an invitation left over for someone who is a member already (a race with accept) is not listed twice', async () => {
    const { accountId, admin } = await h.account();
    const agent = await h.user(accountId, { name: 'Member' });
    await h.server.ctx.database.db
      .insertInto('membership_invitations')
      .values({ account_id: accountId, user_id: agent.id, inviter_id: admin.id, email: agent.email, name: 'Stale', role: 1, availability: 0, auto_offline: 1, expires_at: Date.now() + 60_000, created_at: Date.now() })
      .execute();
    const list = await h.api('GET', agentsUrl(accountId), { token: admin.token });
    expect(list.body.filter((a: { id: number }) => a.id === agent.id)).toEqual([expect.objectContaining({ name: 'Member', confirmed: true, role: 'agent' })]);
    expect(await invitationsOf(agent.token)).toEqual([]);
  });

  it('mails the invited existing user where to answer, with no token in it', async () => {
    const home = await victim();
    const other = await h.account({ name: 'Mailing Co' });
    const r = await h.api('POST', agentsUrl(other.accountId), { token: other.admin.token, body: { name: 'L', email: home.admin.email } });
    expect(r.status).toBe(200);
    const deadline = Date.now() + 15_000;
    const mine = () => mails.find((m) => m.to.includes(home.admin.email) && m.raw.includes('Mailing Co'));
    while (!mine() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const mail = mine();
    expect(mail, 'the invitation mail arrives').toBeDefined();
    const body = mail!.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    expect(body).toContain(`${PUBLIC_URL}/app/profile/invitations`);
    expect(body).not.toContain('token=');
    expect(body).not.toContain(home.admin.token);
    expect(body).not.toContain(REAL_NAME);
  });
});

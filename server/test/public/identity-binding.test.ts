import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { LIMITS_OFF, PublicClient, appApi, hashOf, writeCounts, type Inbox } from './helpers.js';

/**
 * Issue 9 item 3: an identity cannot be re-bound or claimed through the client API.
 * - a contact's identifier never changes through a session (a source_id holder cannot move a
 *   contact and its history to their own identity);
 * - a verified identity is matched by identifier only, never attached to a contact found by
 *   e-mail or phone (directly, or in two steps through an unverified e-mail match);
 * - identifier_hash is read the same way from the query string and the body on every route.
 */

const HMAC_FAILED = { error: 'HMAC failed: Invalid Identifier Hash Provided' };

describeEachDb('client API: identity binding', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let admin: TestUser;
  let mandatory: Inbox;
  let optional: Inbox;
  let app: ReturnType<typeof appApi>;
  const hm = (identifier: string) => hashOf(mandatory.hmac_token, identifier);
  const ho = (identifier: string) => hashOf(optional.hmac_token, identifier);
  const db = () => h.server.ctx.database.db;
  const contactRow = (id: number) => db().selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const sessionsOf = async (contactId: number) =>
    (await db().selectFrom('contact_inboxes').select('source_id').where('contact_id', '=', contactId).orderBy('id').execute()).map((r) => r.source_id);
  const verifiedFlag = async (sourceId: string, inboxId: number) =>
    (await db().selectFrom('contact_inboxes').select('hmac_verified').where('source_id', '=', sourceId).where('inbox_id', '=', inboxId).executeTakeFirstOrThrow())
      .hmac_verified;

  /** Asserts the request is refused with the HMAC 401 and wrote nothing. */
  async function refused(run: () => Promise<{ status: number; body: unknown }>) {
    const before = await writeCounts(h);
    const r = await run();
    expect(r.status).toBe(401);
    expect(r.body).toEqual(HMAC_FAILED);
    expect(await writeCounts(h)).toEqual(before);
  }

  /** A contact of the account created by an agent (Application API), with a session and a conversation in `inbox`. */
  async function agentContact(inbox: Inbox, fields: Record<string, unknown>) {
    const r = await app.post('/contacts', { ...fields, inbox_id: inbox.id });
    expect(r.status, r.text).toBe(200);
    const id = r.body.payload.contact.id as number;
    const sourceId = r.body.payload.contact_inbox.source_id as string;
    const conv = await app.post('/conversations', { source_id: sourceId, inbox_id: inbox.id });
    expect(conv.status, conv.text).toBe(200);
    const msg = await app.post(`/conversations/${conv.body.id}/messages`, { content: 'the victim’s history', message_type: 'incoming' });
    expect(msg.status, msg.text).toBe(200);
    return { id, sourceId };
  }

  beforeAll(async () => {
    h = await startTestServer(dialect, LIMITS_OFF);
    ({ accountId, admin } = await h.account());
    mandatory = await h.inbox(accountId, { name: 'Mandatory', hmac_mandatory: true });
    optional = await h.inbox(accountId, { name: 'Optional' });
    app = appApi(h, accountId, admin);
  });
  afterAll(() => h?.close());

  it('a source_id holder with a valid hash of their own identifier cannot move a contact to their identity', async () => {
    for (const [inbox, hash] of [
      [mandatory, hm],
      [optional, ho],
    ] as const) {
      const tag = `${inbox.id}`;
      const victimClient = new PublicClient(h);
      const victim = await victimClient.session(inbox, { identifier: `victim-${tag}`, identifier_hash: hash(`victim-${tag}`), name: 'Victim' });
      const conv = await victimClient.conversation(inbox, victim.source_id);
      expect((await victimClient.message(inbox, victim.source_id, conv.id, { content: 'my private history' })).status).toBe(200);

      // The attacker learnt the victim's source_id (a shared device, a leaked log) and holds a valid hash for their own identity.
      const attacker = new PublicClient(h);
      const url = attacker.contactUrl(inbox, victim.source_id);
      const mine = `attacker-${tag}`;
      await refused(() => attacker.call('PATCH', url, { identifier: mine, identifier_hash: hash(mine) }));
      await refused(() => attacker.call('PATCH', `${url}?identifier_hash=${hash(mine)}`, { identifier: mine }));
      await refused(() => attacker.call('PUT', url, { identifier: mine, identifier_hash: hash(mine), name: 'Attacker' }));
      const repost = await attacker.createContact(inbox, { source_id: victim.source_id, identifier: mine, identifier_hash: hash(mine) });
      expect(repost.status).toBe(422);
      expect((await contactRow(victim.id)).identifier).toBe(`victim-${tag}`);

      // The victim signs in again: the same contact, with the history.
      const again = await victimClient.session(inbox, { identifier: `victim-${tag}`, identifier_hash: hash(`victim-${tag}`) });
      expect(again.id).toBe(victim.id);
      const list = await victimClient.call('GET', `${victimClient.contactUrl(inbox, again.source_id)}/conversations`);
      expect(list.body.map((c: { id: number }) => c.id)).toEqual([conv.id]);
      expect(list.text).toContain('my private history');
      // The attacker's identity owns nothing of it.
      const own = await attacker.session(inbox, { identifier: mine, identifier_hash: hash(mine) });
      expect(own.id).not.toBe(victim.id);
      expect((await attacker.call('GET', `${attacker.contactUrl(inbox, own.source_id)}/conversations`)).body).toEqual([]);
      await attacker.scanForLeaks([admin.token, inbox.hmac_token]);
    }
  });

  it('a verified identity is never attached to a contact found by e-mail or phone: a new contact, the values left off', async () => {
    const victim = await agentContact(mandatory, { name: 'Vera Victim', email: 'vera@example.com', phone_number: '+14155550170' });
    const before = await contactRow(victim.id);
    const stranger = new PublicClient(h);
    for (const [n, body] of [
      [1, { email: 'VERA@example.com' }],
      [2, { phone_number: '+14155550170' }],
      [3, { email: 'vera@example.com', phone_number: '+14155550170', name: 'Stranger' }],
    ] as const) {
      const r = await stranger.createContact(mandatory, { identifier: `stranger-${n}`, identifier_hash: hm(`stranger-${n}`), ...body });
      expect(r.status, r.text).toBe(200);
      expect(r.body.id).not.toBe(victim.id);
      expect(r.body).toMatchObject({ email: null, phone_number: null });
      expect(r.text).not.toContain('Vera');
      expect(await verifiedFlag(r.body.source_id, mandatory.id)).toBe(1);
      expect((await stranger.call('GET', `${stranger.contactUrl(mandatory, r.body.source_id)}/conversations`)).body).toEqual([]);
    }
    // The victim's contact is untouched and has no other session.
    expect(await contactRow(victim.id)).toEqual(before);
    expect(await sessionsOf(victim.id)).toEqual([victim.sourceId]);

    // The victim's own valid sign-in still works (never "Email has already been taken").
    const own = new PublicClient(h);
    const signIn = await own.createContact(mandatory, { identifier: 'vera', identifier_hash: hm('vera'), email: 'vera@example.com' });
    expect(signIn.status, signIn.text).toBe(200);
    expect(signIn.body.id).not.toBe(victim.id);
    await stranger.scanForLeaks([admin.token, mandatory.hmac_token]);
  });

  it('nor in two steps: a session attached by an unverified e-mail match can never bind an identity to that contact', async () => {
    const victim = await agentContact(optional, { name: 'Walt Victim', email: 'walt@example.com' });
    const attacker = new PublicClient(h);
    const claim = await attacker.session(optional, { email: 'walt@example.com' }); // an unverified claim, as the reference matches it
    expect(claim.id).toBe(victim.id);
    expect(await verifiedFlag(claim.source_id, optional.id)).toBe(0);
    const url = attacker.contactUrl(optional, claim.source_id);
    await refused(() => attacker.call('PATCH', url, { identifier: 'walt-attacker', identifier_hash: ho('walt-attacker') }));
    await refused(() => attacker.call('GET', `${url}?identifier_hash=${ho('walt-attacker')}`));
    await refused(() => attacker.createContact(optional, { source_id: claim.source_id, identifier: 'walt-attacker', identifier_hash: ho('walt-attacker') }));
    // Clearing the e-mail first changes nothing: the identifier is never set through a session.
    expect([200, 401]).toContain((await attacker.call('PATCH', url, { email: null })).status);
    await refused(() => attacker.call('PATCH', url, { identifier: 'walt-attacker', identifier_hash: ho('walt-attacker') }));
    expect((await attacker.call('PATCH', url, { identifier: 'walt-attacker' })).status).toBe(200);
    expect((await contactRow(victim.id)).identifier).toBeNull();
    expect(await verifiedFlag(claim.source_id, optional.id)).toBe(0);
    // The attacker's identity gets a contact of its own.
    const own = await attacker.session(optional, { identifier: 'walt-attacker', identifier_hash: ho('walt-attacker') });
    expect(own.id).not.toBe(victim.id);
  });

  describe('identifier_hash is read the same way from the query string and the body, on every route', () => {
    it('POST /contacts: a wrong hash in the query string is a 401 that writes nothing; a right one verifies', async () => {
      const c = new PublicClient(h);
      const base = `${c.base(optional)}/contacts`;
      await refused(() => c.call('POST', `${base}?identifier_hash=${'0'.repeat(64)}`, { identifier: 'quentin', name: 'Quentin' }));
      await refused(() => c.call('POST', `${base}?identifier_hash=${ho('someone-else')}`, { identifier: 'quentin' }));
      await refused(() => c.call('POST', `${base}?identifier_hash=nope`, { name: 'Anonymous' }));
      await refused(() => c.call('POST', `${base}?identifier_hash=${ho('quentin')}`, { identifier: 'quentin', identifier_hash: 'wrong' }));
      await refused(() => c.call('POST', `${base}?identifier_hash[]=${ho('quentin')}&identifier_hash[]=wrong`, { identifier: 'quentin' }));
      await refused(() => c.call('POST', `${c.base(mandatory)}/contacts?identifier_hash=${hm('other')}`, { identifier: 'quentin' }));
      // form bodies too
      await refused(() => c.call('POST', base, 'identifier=quentin&identifier_hash=wrong', { 'content-type': 'application/x-www-form-urlencoded' }));

      const ok = await c.call('POST', `${c.base(mandatory)}/contacts?identifier_hash=${hm('quentin')}`, { identifier: 'quentin' });
      expect(ok.status, ok.text).toBe(200);
      expect(await verifiedFlag(ok.body.source_id, mandatory.id)).toBe(1);
      // a stored source_id re-posted with a wrong hash in the query string
      await refused(() => c.call('POST', `${c.base(mandatory)}/contacts?identifier_hash=wrong`, { source_id: ok.body.source_id }));
    });

    it('every session route refuses a wrong hash in the query string and in the body alike', async () => {
      const c = new PublicClient(h);
      const s = await c.session(optional, { identifier: 'rosa', identifier_hash: ho('rosa') });
      const conv = await c.conversation(optional, s.source_id);
      const url = c.contactUrl(optional, s.source_id);
      const convUrl = `${url}/conversations/${conv.id}`;
      const routes: [string, string, Record<string, unknown> | undefined][] = [
        ['GET', url, undefined],
        ['PATCH', url, { name: 'R' }],
        ['PUT', url, { name: 'R' }],
        ['GET', `${url}/conversations`, undefined],
        ['POST', `${url}/conversations`, {}],
        ['GET', convUrl, undefined],
        ['POST', `${convUrl}/toggle_status`, {}],
        ['POST', `${convUrl}/toggle_typing`, { typing_status: 'on' }],
        ['POST', `${convUrl}/update_last_seen`, {}],
        ['GET', `${convUrl}/messages`, undefined],
        ['POST', `${convUrl}/messages`, { content: 'x' }],
        ['PATCH', `${convUrl}/messages/1`, { submitted_values: [{ name: 'x' }] }],
      ];
      const wrong = ho('not-rosa');
      for (const [method, u, body] of routes) {
        await refused(() => c.call(method, `${u}?identifier_hash=${wrong}`, body));
        if (body) await refused(() => c.call(method, u, { ...body, identifier_hash: wrong }));
      }
    });
  });
});

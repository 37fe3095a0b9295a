import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { LIMITS_OFF, PublicClient, appApi, hashOf, writeCounts, type Inbox } from './helpers.js';

const HMAC_FAILED = { error: 'HMAC failed: Invalid Identifier Hash Provided' };

describeEachDb('client API: HMAC identity validation', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let admin: TestUser;
  let mandatory: Inbox;
  let optional: Inbox;
  let c: PublicClient;
  let app: ReturnType<typeof appApi>;
  const hm = (identifier: string) => hashOf(mandatory.hmac_token, identifier);
  const ho = (identifier: string) => hashOf(optional.hmac_token, identifier);
  const verifiedFlag = async (sourceId: string, inboxId: number) =>
    (
      await h.server.ctx.database.db
        .selectFrom('contact_inboxes')
        .select('hmac_verified')
        .where('source_id', '=', sourceId)
        .where('inbox_id', '=', inboxId)
        .executeTakeFirstOrThrow()
    ).hmac_verified;

  /** Asserts the request is refused with the HMAC 401 and wrote nothing. */
  async function refused(run: () => Promise<{ status: number; body: unknown }>) {
    const before = await writeCounts(h);
    const r = await run();
    expect(r.status).toBe(401);
    expect(r.body).toEqual(HMAC_FAILED);
    expect(await writeCounts(h)).toEqual(before);
  }

  /** Asserts the request succeeds and wrote nothing (a claimed identifier is dropped, not applied). */
  async function ignored(run: () => Promise<{ status: number; body: unknown }>) {
    const before = await writeCounts(h);
    const r = await run();
    expect(r.status).toBe(200);
    expect(await writeCounts(h)).toEqual(before);
  }

  beforeAll(async () => {
    h = await startTestServer(dialect, LIMITS_OFF);
    ({ accountId, admin } = await h.account());
    mandatory = await h.inbox(accountId, { name: 'Mandatory', hmac_mandatory: true });
    optional = await h.inbox(accountId, { name: 'Optional' });
    c = new PublicClient(h);
    app = appApi(h, accountId, admin);
  });
  afterAll(() => h?.close());

  describe('mandatory inbox: contact create and update', () => {
    it('the inbox says identity validation is enabled', async () => {
      const r = await c.call('GET', c.base(mandatory));
      expect(r.body.identity_validation_enabled).toBe(true);
    });

    it('right hash: created and verified at once; the session works without resending the hash', async () => {
      const s = await c.session(mandatory, { identifier: 'alice', identifier_hash: hm('alice'), name: 'Alice' });
      expect(await verifiedFlag(s.source_id, mandatory.id)).toBe(1);
      const url = c.contactUrl(mandatory, s.source_id);
      expect((await c.call('GET', url)).status).toBe(200);
      const conv = await c.conversation(mandatory, s.source_id);
      expect((await c.message(mandatory, s.source_id, conv.id, { content: 'hi' })).status).toBe(200);
      expect((await c.call('GET', `${url}/conversations`)).body).toHaveLength(1);
    });

    it('wrong hash, missing hash, hash of another identifier, no identifier: 401 and nothing written', async () => {
      await refused(() => c.createContact(mandatory, { identifier: 'bob', identifier_hash: 'f'.repeat(64), name: 'Bob' }));
      await refused(() => c.createContact(mandatory, { identifier: 'bob', identifier_hash: hm('bob').toUpperCase() }));
      await refused(() => c.createContact(mandatory, { identifier: 'bob', name: 'Bob' }));
      await refused(() => c.createContact(mandatory, { identifier: 'bob', identifier_hash: hm('alice') }));
      await refused(() => c.createContact(mandatory, { identifier: 'bob', identifier_hash: ho('bob') })); // another inbox's key
      await refused(() => c.createContact(mandatory, { name: 'Anonymous' }));
      await refused(() => c.createContact(mandatory, { identifier_hash: hm('alice') }));
      // …including for an identifier that already exists (no session is attached to alice)
      await refused(() => c.createContact(mandatory, { identifier: 'alice', identifier_hash: hm('mallory') }));
      await refused(() => c.createContact(mandatory, { identifier: 'alice' }));
    });

    it('update: wrong or missing hash is a 401 that writes nothing, even from a verified session', async () => {
      const s = await c.session(mandatory, { identifier: 'carol', identifier_hash: hm('carol'), name: 'Carol' });
      const url = c.contactUrl(mandatory, s.source_id);
      await refused(() => c.call('PATCH', url, { name: 'Changed' }));
      await refused(() => c.call('PATCH', url, { name: 'Changed', identifier_hash: 'nope' }));
      await refused(() => c.call('PATCH', url, { name: 'Changed', identifier: 'carol', identifier_hash: hm('alice') }));
      const ok = await c.call('PATCH', url, { name: 'Carol C', identifier_hash: hm('carol') });
      expect(ok.status).toBe(200);
      expect(ok.body.name).toBe('Carol C');
    });

    it('a session created through the Application API is unverified: every route refuses it until a valid hash verifies it', async () => {
      const created = await app.post('/contacts', { name: 'Dora', identifier: 'dora', inbox_id: mandatory.id });
      expect(created.status).toBe(200);
      const sourceId = created.body.payload.contact_inbox.source_id as string;
      c.tokens.set(sourceId, created.body.payload.contact_inbox.pubsub_token);
      expect(await verifiedFlag(sourceId, mandatory.id)).toBe(0);
      const url = c.contactUrl(mandatory, sourceId);
      const conv = await app.post('/conversations', { source_id: sourceId, inbox_id: mandatory.id });
      expect(conv.status).toBe(200);
      const convUrl = `${url}/conversations/${conv.body.id}`;
      await refused(() => c.call('GET', url));
      await refused(() => c.call('GET', `${url}/conversations`));
      await refused(() => c.call('POST', `${url}/conversations`, {}));
      await refused(() => c.call('GET', convUrl));
      await refused(() => c.call('GET', `${convUrl}/messages`));
      await refused(() => c.call('POST', `${convUrl}/messages`, { content: 'hi' }));
      await refused(() => c.call('POST', `${convUrl}/toggle_status`, {}));
      await refused(() => c.call('POST', `${convUrl}/toggle_typing`, { typing_status: 'on' }));
      await refused(() => c.call('POST', `${convUrl}/update_last_seen`, {}));
      await refused(() => c.call('PATCH', `${convUrl}/messages/1`, { submitted_values: [{ name: 'x' }] }));
      await refused(() => c.call('PATCH', url, { name: 'Dora X' }));
      // the hash of another identifier does not verify it
      await refused(() => c.call('GET', `${url}?identifier_hash=${hm('alice')}`));
      // the right hash does, and the session then works without it
      const ok = await c.call('GET', `${url}?identifier_hash=${hm('dora')}`);
      expect(ok.status).toBe(200);
      expect(await verifiedFlag(sourceId, mandatory.id)).toBe(1);
      expect((await c.call('GET', convUrl)).status).toBe(200);
      expect((await c.call('POST', `${convUrl}/messages`, { content: 'now verified' })).status).toBe(200);
    });
  });

  describe('a hash that does not match the contact behind the source_id is always a 401', () => {
    it('on session routes of a mandatory and of an optional inbox, in the body or the query', async () => {
      for (const [inbox, hash] of [
        [mandatory, hm],
        [optional, ho],
      ] as const) {
        const name = `erin-${inbox.id}`;
        const s = await c.session(inbox, { identifier: name, identifier_hash: hash(name) });
        const url = c.contactUrl(inbox, s.source_id);
        const conv = await c.conversation(inbox, s.source_id);
        const convUrl = `${url}/conversations/${conv.id}`;
        const other = hash('alice');
        await refused(() => c.call('GET', `${url}?identifier_hash=${other}`));
        await refused(() => c.call('GET', `${url}/conversations?identifier_hash=${other}`));
        await refused(() => c.call('POST', `${url}/conversations`, { identifier_hash: other }));
        await refused(() => c.call('GET', `${convUrl}?identifier_hash=${other}`));
        await refused(() => c.call('POST', `${convUrl}/messages`, { content: 'x', identifier: 'alice', identifier_hash: other }));
        await refused(() => c.call('POST', `${convUrl}/messages?identifier_hash=${other}`, { content: 'x' }));
        await refused(() => c.call('POST', `${convUrl}/toggle_status`, { identifier_hash: other }));
        await refused(() => c.call('POST', `${convUrl}/toggle_typing`, { typing_status: 'on', identifier_hash: other }));
        await refused(() => c.call('POST', `${convUrl}/update_last_seen`, { identifier_hash: 'garbage' }));
        await refused(() => c.call('GET', `${convUrl}/messages?identifier_hash=${other}`));
        // two hashes, one right and one wrong: still refused
        await refused(() => c.call('POST', `${convUrl}/messages?identifier_hash=${hash(name)}`, { content: 'x', identifier_hash: other }));
        // the right one passes
        expect((await c.call('POST', `${convUrl}/messages?identifier_hash=${hash(name)}`, { content: 'ok' })).status).toBe(200);
      }
    });

    it('optional inbox: no hash is fine (unverified); a wrong hash is a 401, never ignored; a right one verifies', async () => {
      const s = await c.session(optional, { identifier: 'frank', name: 'Frank' });
      expect(await verifiedFlag(s.source_id, optional.id)).toBe(0);
      await refused(() => c.createContact(optional, { identifier: 'frank', identifier_hash: 'wrong' }));
      await refused(() => c.createContact(optional, { identifier: 'gina', identifier_hash: ho('frank') }));
      await refused(() => c.call('PATCH', c.contactUrl(optional, s.source_id), { name: 'F', identifier_hash: 'wrong' }));
      const ok = await c.call('PATCH', c.contactUrl(optional, s.source_id), { name: 'Frank F', identifier_hash: ho('frank') });
      expect(ok.status).toBe(200);
      expect(await verifiedFlag(s.source_id, optional.id)).toBe(1);
      const fresh = await c.session(optional, { identifier: 'gina', identifier_hash: ho('gina') });
      expect(await verifiedFlag(fresh.source_id, optional.id)).toBe(1);
    });
  });

  describe('identifier changes cannot take over another contact', () => {
    it('an unverified session attached to a verified contact can neither rename nor edit it, nor see its conversations', async () => {
      const victim = await c.session(optional, { identifier: 'victim', identifier_hash: ho('victim'), name: 'Victim', email: 'victim@example.com' });
      const vConv = await c.conversation(optional, victim.source_id);
      await c.message(optional, victim.source_id, vConv.id, { content: 'my private matter' });

      const attacker = new PublicClient(h);
      const a = await attacker.session(optional, { identifier: 'victim' }); // claims the identity without a hash
      expect(a.id).toBe(victim.id); // attached to the contact, as the reference does…
      expect(await verifiedFlag(a.source_id, optional.id)).toBe(0); // …but unverified
      const aUrl = attacker.contactUrl(optional, a.source_id);
      expect((await attacker.call('GET', `${aUrl}/conversations`)).body).toEqual([]);
      expect((await attacker.call('GET', `${aUrl}/conversations/${vConv.id}`)).status).toBe(404);
      // rename to an identity it holds a hash for: refused, nothing written
      await refused(() => attacker.call('PATCH', aUrl, { identifier: 'attacker', identifier_hash: ho('attacker') }));
      await ignored(() => attacker.call('PATCH', aUrl, { identifier: 'attacker' }));
      await refused(() => attacker.call('PATCH', aUrl, { email: 'attacker@example.com' }));
      expect(await verifiedFlag(a.source_id, optional.id)).toBe(0);
      const still = await app.get(`/contacts/${victim.id}`);
      expect(still.body.payload).toMatchObject({ identifier: 'victim', email: 'victim@example.com' });
      await attacker.scanForLeaks([admin.token, victim.pubsub_token]);
    });

    it('a verified session never moves its contact to another identifier (dropped; a hash of the other one is a 401)', async () => {
      const a = await c.session(optional, { identifier: 'hank', identifier_hash: ho('hank'), name: 'Hank' });
      const b = await c.session(optional, { identifier: 'ivy', identifier_hash: ho('ivy'), name: 'Ivy' });
      const url = c.contactUrl(optional, a.source_id);
      await ignored(() => c.call('PATCH', url, { identifier: 'ivy', identifier_hash: ho('hank') }));
      await ignored(() => c.call('PATCH', url, { identifier: 'ivy' }));
      await refused(() => c.call('PATCH', url, { identifier: 'ivy', identifier_hash: ho('ivy') }));
      expect((await app.get(`/contacts/${a.id}`)).body.payload.identifier).toBe('hank');
      expect((await app.get(`/contacts/${b.id}`)).body.payload.identifier).toBe('ivy');
    });

    it('a contact keeps its identifier: a verified session cannot rename it, with the hash of the old or of the new one', async () => {
      const s = await c.session(mandatory, { identifier: 'jack', identifier_hash: hm('jack'), name: 'Jack' });
      const url = c.contactUrl(mandatory, s.source_id);
      await refused(() => c.call('PATCH', url, { identifier: 'jack2', identifier_hash: hm('jack2') }));
      const ok = await c.call('PATCH', url, { identifier: 'jack2', identifier_hash: hm('jack'), name: 'Jack J' });
      expect(ok.status).toBe(200);
      expect(ok.body.name).toBe('Jack J');
      expect((await app.get(`/contacts/${s.id}`)).body.payload.identifier).toBe('jack');
      expect(await verifiedFlag(s.source_id, mandatory.id)).toBe(1);
      const o = await c.session(optional, { identifier: 'kim', identifier_hash: ho('kim') });
      await ignored(() => c.call('PATCH', c.contactUrl(optional, o.source_id), { identifier: 'kim2' }));
    });

    it('an anonymous session is never given an identifier (a hash of one is a 401); the identity signs in with POST /contacts', async () => {
      const s = await c.session(optional, { name: 'Anon' });
      await refused(() => c.call('PATCH', c.contactUrl(optional, s.source_id), { identifier: 'leo', identifier_hash: ho('leo') }));
      await refused(() => c.createContact(optional, { source_id: s.source_id, identifier: 'leo', identifier_hash: ho('leo') }));
      await ignored(() => c.call('PATCH', c.contactUrl(optional, s.source_id), { identifier: 'mia' }));
      expect((await app.get(`/contacts/${s.id}`)).body.payload.identifier).toBeNull();
      const leo = await c.session(optional, { identifier: 'leo', identifier_hash: ho('leo') });
      expect(leo.id).not.toBe(s.id);
      expect(await verifiedFlag(leo.source_id, optional.id)).toBe(1);
    });

    it('create: a proven identity is matched by identifier only (another contact’s email is left off); an unverified claim by email', async () => {
      const existing = await c.session(optional, { email: 'nora@example.com', name: 'Nora' });
      const s = await c.session(optional, { email: 'nora@example.com', identifier: 'nora', identifier_hash: ho('nora') });
      expect(s.id).not.toBe(existing.id);
      expect(s.email).toBeNull();
      expect(await verifiedFlag(s.source_id, optional.id)).toBe(1);
      expect((await app.get(`/contacts/${existing.id}`)).body.payload).toMatchObject({ identifier: null, email: 'nora@example.com' });
      const claim = await c.session(optional, { email: 'nora@example.com' });
      expect(claim.id).toBe(existing.id);
      expect(await verifiedFlag(claim.source_id, optional.id)).toBe(0);
      const before = await writeCounts(h);
      const r = await c.createContact(optional, { email: 'nora@example.com', identifier: 'nora' }); // an unverified claim of nora's identity
      expect(r.status).toBe(200);
      expect(r.body.id).toBe(s.id);
      expect(r.body.email).toBeNull();
      expect((await writeCounts(h)).identifiers).toEqual(before.identifiers);
    });

    it('re-posting an existing source_id for another identity is refused (422 / 401), never a rename', async () => {
      const s = await c.session(optional, { identifier: 'paul', identifier_hash: ho('paul'), source_id: 'paul-device' });
      const before = await writeCounts(h);
      const other = await c.createContact(optional, { source_id: 'paul-device', identifier: 'quinn', identifier_hash: ho('quinn') });
      expect(other.status).toBe(422);
      expect(other.body.attributes).toEqual(['source_id']);
      expect(await writeCounts(h)).toEqual(before);
      await refused(() => c.createContact(optional, { source_id: 'paul-device', identifier_hash: ho('quinn') }));
      const same = await c.createContact(optional, { source_id: 'paul-device', identifier: 'paul', identifier_hash: ho('paul') });
      expect(same.body).toEqual(s);
    });
  });

  describe('verified and unverified sessions of one contact', () => {
    it('verified sessions see the conversations of every verified session of the contact in the inbox; an unverified one only its own', async () => {
      const v1 = await c.session(optional, { identifier: 'rita', identifier_hash: ho('rita'), name: 'Rita' });
      const v2 = await c.session(optional, { identifier: 'rita', identifier_hash: ho('rita') });
      const u = await c.session(optional, { identifier: 'rita' });
      const viaApp = await app.post(`/contacts/${v1.id}/contact_inboxes`, { inbox_id: optional.id });
      expect(viaApp.status).toBe(200);
      const appSource = viaApp.body.payload?.source_id ?? viaApp.body.source_id;
      expect(new Set([v1.id, v2.id, u.id]).size).toBe(1);
      const c1 = await c.conversation(optional, v1.source_id);
      const c2 = await c.conversation(optional, v2.source_id);
      const cu = await c.conversation(optional, u.source_id);
      const ca = await app.post('/conversations', { source_id: appSource, inbox_id: optional.id });
      expect(ca.status).toBe(200);
      await c.message(optional, v1.source_id, c1.id, { content: 'from device one' });

      const ids = async (sourceId: string) =>
        ((await c.call('GET', `${c.contactUrl(optional, sourceId)}/conversations`)).body as { id: number }[]).map((x) => x.id).sort();
      expect(await ids(v1.source_id)).toEqual([c1.id, c2.id].sort());
      expect(await ids(v2.source_id)).toEqual([c1.id, c2.id].sort());
      expect(await ids(u.source_id)).toEqual([cu.id]);
      const show = (sourceId: string, id: number) => c.call('GET', `${c.contactUrl(optional, sourceId)}/conversations/${id}`);
      expect((await show(v2.source_id, c1.id)).status).toBe(200);
      expect((await show(v2.source_id, c1.id)).text).toContain('from device one');
      expect((await show(u.source_id, c1.id)).status).toBe(404);
      expect((await show(v1.source_id, cu.id)).status).toBe(404);
      expect((await show(v1.source_id, ca.body.id)).status).toBe(404);
      expect((await c.message(optional, u.source_id, c1.id, { content: 'inject' })).status).toBe(404);
      // Once the unverified session proves the identity it joins the verified view.
      const verify = await c.call('GET', `${c.contactUrl(optional, u.source_id)}?identifier_hash=${ho('rita')}`);
      expect(verify.status).toBe(200);
      expect(await ids(u.source_id)).toEqual([c1.id, c2.id, cu.id].sort());
    });
  });

  it('no response leaked a token, a secret or another session’s pubsub_token', async () => {
    await c.scanForLeaks([admin.token, mandatory.hmac_token, optional.hmac_token, mandatory.secret, optional.secret]);
  });
});

import { describe, expect, it } from 'vitest';
import { describeEachDb, type TestServer } from '../support/harness.js';
import { counts, createContact, createConversation, eventsSince, lastEventId, scene, useScene, type Scene } from '../support/conversations.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describeEachDb('contacts API', (dialect) => {
  let h: TestServer;
  let s: Scene;
  useScene(dialect, (started) => ({ h, s } = started));

  describe('create', () => {
    it('creates the contact and its session in the inbox, with a UUID source_id', async () => {
      const before = await lastEventId(h);
      const r = await h.api('POST', `${s.base}/contacts`, { token: s.admin.token, body: { name: 'Alice', inbox_id: s.inbox.id } });
      expect(r.status).toBe(200);
      const { contact, contact_inbox } = r.body.payload;
      expect(contact).toMatchObject({ name: 'Alice', email: null, phone_number: null, identifier: null, blocked: false, custom_attributes: {} });
      expect(typeof contact.id).toBe('number');
      expect(typeof contact.created_at).toBe('number');
      expect(contact.contact_inboxes).toHaveLength(1);
      expect(contact.contact_inboxes[0].source_id).toMatch(UUID);
      expect(contact.contact_inboxes[0].inbox).toEqual({
        id: s.inbox.id,
        avatar_url: '',
        channel_id: s.inbox.channel_id,
        name: 'API Channel',
        channel_type: 'Channel::Api',
        provider: null,
      });
      expect(contact_inbox.source_id).toBe(contact.contact_inboxes[0].source_id);
      expect(contact_inbox.inbox).toMatchObject({ id: s.inbox.id, name: 'API Channel', channel_type: 'Channel::Api' });
      expect(JSON.stringify(contact_inbox.inbox)).not.toMatch(/hmac_token|secret|identifier/);
      expect(contact_inbox.pubsub_token).toEqual(expect.any(String));
      const evs = await eventsSince(h, before);
      expect(evs.map((e) => e.name)).toEqual(['contact.created']);
      expect(evs[0].payload).toEqual({ contact_id: contact.id });
    });

    it('keeps a given source_id and gives each session its own pubsub token', async () => {
      const a = await createContact(h, s, { source_id: 'crm-42' });
      const b = await createContact(h, s);
      expect(a.sourceId).toBe('crm-42');
      const tokens = await h.server.ctx.database.db.selectFrom('contact_inboxes').select('pubsub_token').execute();
      expect(new Set(tokens.map((t) => t.pubsub_token)).size).toBe(tokens.length);
      expect(b.sourceId).not.toBe(a.sourceId);
    });

    it('creates a contact without an inbox', async () => {
      const r = await h.api('POST', `${s.base}/contacts`, { token: s.admin.token, body: { name: 'Loner', email: 'loner@example.com' } });
      expect(r.status).toBe(200);
      expect(r.body.payload.contact.contact_inboxes).toEqual([]);
      expect(r.body.payload.contact_inbox).toMatchObject({ inbox: null, source_id: null });
    });

    it('accepts form bodies with nested attributes and string booleans', async () => {
      const r = await h.api('POST', `${s.base}/contacts`, {
        token: s.admin.token,
        body: 'name=Form&blocked=true&custom_attributes[plan]=pro&email=FORM@Example.com',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(r.status).toBe(200);
      expect(r.body.payload.contact).toMatchObject({ name: 'Form', blocked: true, custom_attributes: { plan: 'pro' }, email: 'form@example.com' });
    });

    it('refuses a taken email, phone or identifier with a 422 naming the existing contact, writing nothing', async () => {
      const first = await createContact(h, s, { email: 'dup@example.com', phone_number: '+14155550100', identifier: 'ext-1' });
      const before = await counts(h);
      for (const body of [{ email: 'DUP@example.com' }, { phone_number: '+14155550100' }, { identifier: 'ext-1' }]) {
        const r = await h.api('POST', `${s.base}/contacts`, { token: s.admin.token, body: { name: 'Again', inbox_id: s.inbox.id, ...body } });
        expect(r.status).toBe(422);
        expect(r.body.message).toMatch(/has already been taken/);
        expect(r.body.attributes).toEqual([Object.keys(body)[0]]);
        expect(r.body.contact).toMatchObject({ id: first.contact.id });
      }
      expect(await counts(h)).toEqual(before);
    });

    it('validates email and E.164 phone numbers (422, nothing written)', async () => {
      const before = await counts(h);
      const bad = await h.api('POST', `${s.base}/contacts`, { token: s.admin.token, body: { email: 'not-an-email', phone_number: '0155', inbox_id: s.inbox.id } });
      expect(bad.status).toBe(422);
      expect(bad.body.message).toBe('Email is invalid, Phone number should be in e164 format');
      expect(bad.body.attributes).toEqual(['email', 'phone_number']);
      const typed = await h.api('POST', `${s.base}/contacts`, { token: s.admin.token, body: { inbox_id: 'abc' } });
      expect(typed.status).toBe(422);
      expect(typed.body.error).toMatch(/inbox_id/);
      const attrs = await h.api('POST', `${s.base}/contacts`, { token: s.admin.token, body: { custom_attributes: '{nope' } });
      expect(attrs.status).toBe(422);
      expect(await counts(h)).toEqual(before);
    });

    it('refuses a source_id already used in the inbox', async () => {
      await createContact(h, s, { source_id: 'taken-src' });
      const before = await counts(h);
      const r = await h.api('POST', `${s.base}/contacts`, { token: s.admin.token, body: { inbox_id: s.inbox.id, source_id: 'taken-src' } });
      expect(r.status).toBe(422);
      expect(r.body.attributes).toEqual(['source_id']);
      expect(await counts(h)).toEqual(before);
    });
  });

  describe('read, update, delete', () => {
    it('lists 15 per page with count, current_page and total_pages (contacts with email, phone or identifier)', async () => {
      const t = await scene(h);
      for (let i = 0; i < 17; i++) await createContact(h, t, { name: `P${i}`, email: `p${i}@example.com` });
      await createContact(h, t, { name: 'anonymous' });
      const p1 = await h.api('GET', `${t.base}/contacts`, { token: t.admin.token });
      expect(p1.status).toBe(200);
      expect(p1.body.meta).toEqual({ count: 17, current_page: 1, total_pages: 2 });
      expect(p1.body.payload).toHaveLength(15);
      expect(p1.body.payload[0].contact_inboxes).toHaveLength(1);
      const p2 = await h.api('GET', `${t.base}/contacts?page=2&sort=name&include_contact_inboxes=false`, { token: t.admin.token });
      expect(p2.body.meta).toEqual({ count: 17, current_page: 2, total_pages: 2 });
      expect(p2.body.payload).toHaveLength(2);
      expect(p2.body.payload[0].contact_inboxes).toBeUndefined();
      const sorted = await h.api('GET', `${t.base}/contacts?sort=-email`, { token: t.admin.token });
      expect(sorted.body.payload[0].email).toBe('p9@example.com');
      const badSort = await h.api('GET', `${t.base}/contacts?sort=password`, { token: t.admin.token });
      expect(badSort.status).toBe(422);
    });

    it('searches name, email and phone case-insensitively; blank q is a 422', async () => {
      const t = await scene(h);
      await createContact(h, t, { name: 'Grace Hopper', email: 'grace@navy.mil' });
      await createContact(h, t, { name: 'Ada', phone_number: '+442071234567', identifier: 'ADA-1' });
      const byName = await h.api('GET', `${t.base}/contacts/search?q=hOPPer`, { token: t.admin.token });
      expect(byName.status).toBe(200);
      expect(byName.body.payload.map((c: any) => c.name)).toEqual(['Grace Hopper']);
      expect(byName.body.meta).toMatchObject({ count: 1, current_page: 1, has_more: false });
      const byPhone = await h.api('GET', `${t.base}/contacts/search?q=2071234`, { token: t.admin.token });
      expect(byPhone.body.payload.map((c: any) => c.name)).toEqual(['Ada']);
      const byIdentifier = await h.api('GET', `${t.base}/contacts/search?q=ADA-1`, { token: t.admin.token });
      expect(byIdentifier.body.payload).toHaveLength(1);
      const like = await h.api('GET', `${t.base}/contacts/search?q=%25`, { token: t.admin.token });
      expect(like.body.payload).toHaveLength(0);
      const blank = await h.api('GET', `${t.base}/contacts/search?q=`, { token: t.admin.token });
      expect(blank.status).toBe(422);
      expect(blank.body).toEqual({ error: 'Specify search string with parameter q' });
    });

    it('shows a contact and merges attributes on PUT/PATCH, recording contact.updated with the changes', async () => {
      const { contact } = await createContact(h, s, { custom_attributes: { a: 1, b: 2 }, additional_attributes: { city: 'Paris' } });
      const show = await h.api('GET', `${s.base}/contacts/${contact.id}`, { token: s.admin.token });
      expect(show.status).toBe(200);
      expect(show.body.payload).toMatchObject({ id: contact.id, custom_attributes: { a: 1, b: 2 } });
      const before = await lastEventId(h);
      const put = await h.api('PUT', `${s.base}/contacts/${contact.id}`, {
        token: s.admin.token,
        body: { name: 'Renamed', custom_attributes: { b: 3, c: 4 }, email: 'Renamed@Example.com' },
      });
      expect(put.status).toBe(200);
      expect(put.body.payload).toMatchObject({ name: 'Renamed', email: 'renamed@example.com', custom_attributes: { a: 1, b: 3, c: 4 }, additional_attributes: { city: 'Paris' } });
      const patch = await h.api('PATCH', `${s.base}/contacts/${contact.id}`, { token: s.admin.token, body: { additional_attributes: { zip: '75001' } } });
      expect(patch.body.payload.additional_attributes).toEqual({ city: 'Paris', zip: '75001' });
      const evs = await eventsSince(h, before);
      expect(evs.map((e) => e.name)).toEqual(['contact.updated', 'contact.updated']);
      expect(evs[0].payload.changed_attributes).toContainEqual({ name: { previous_value: 'Contact', current_value: 'Renamed' } });
      const noop = await h.api('PATCH', `${s.base}/contacts/${contact.id}`, { token: s.admin.token, body: { name: 'Renamed' } });
      expect(noop.status).toBe(200);
      expect(await lastEventId(h)).toBe(evs[1].id);
    });

    it('refuses an update that takes another contact\'s email (422 naming it)', async () => {
      const a = await createContact(h, s, { email: 'owner@example.com' });
      const b = await createContact(h, s);
      const r = await h.api('PATCH', `${s.base}/contacts/${b.contact.id}`, { token: s.admin.token, body: { email: 'owner@example.com' } });
      expect(r.status).toBe(422);
      expect(r.body.contact.id).toBe(a.contact.id);
      const self = await h.api('PATCH', `${s.base}/contacts/${a.contact.id}`, { token: s.admin.token, body: { email: 'owner@example.com' } });
      expect(self.status).toBe(200);
    });

    it('deletes (administrators only) with its conversations; 200 with an empty body', async () => {
      const agent = await h.user(s.accountId);
      const { contact, sourceId } = await createContact(h, s);
      await createConversation(h, s, { source_id: sourceId });
      const denied = await h.api('DELETE', `${s.base}/contacts/${contact.id}`, { token: agent.token });
      expect(denied.status).toBe(401);
      const before = await counts(h);
      const since = await lastEventId(h);
      const r = await h.api('DELETE', `${s.base}/contacts/${contact.id}`, { token: s.admin.token });
      expect(r.status).toBe(200);
      expect(r.text).toBe('');
      const after = await counts(h);
      expect(after.contacts).toBe(before.contacts - 1);
      expect(after.conversations).toBe(before.conversations - 1);
      const evs = await eventsSince(h, since);
      expect(evs.map((e) => e.name)).toEqual(['contact.deleted']);
      expect(evs[0].payload).toMatchObject({ contact_id: contact.id, contact: { id: contact.id, name: 'Contact' } });
      expect((await h.api('GET', `${s.base}/contacts/${contact.id}`, { token: s.admin.token })).status).toBe(404);
      expect((await h.api('DELETE', `${s.base}/contacts/${contact.id}`, { token: s.admin.token })).status).toBe(404);
    });

    it("lists the contact's conversations", async () => {
      const { contact, sourceId } = await createContact(h, s);
      const c1 = await createConversation(h, s, { source_id: sourceId });
      const c2 = await createConversation(h, s, { source_id: sourceId });
      const r = await h.api('GET', `${s.base}/contacts/${contact.id}/conversations`, { token: s.admin.token });
      expect(r.status).toBe(200);
      expect(r.body.payload.map((c: any) => c.id).sort()).toEqual([c1.id, c2.id].sort());
    });
  });

  describe('contact inboxes', () => {
    it('creates a session (hmac_verified), returns an existing one unchanged, refuses another contact\'s source_id', async () => {
      const other = await h.inbox(s.accountId, { name: 'Second' });
      const { contact } = await createContact(h, s);
      const url = `${s.base}/contacts/${contact.id}/contact_inboxes`;
      const r = await h.api('POST', url, { token: s.admin.token, body: { inbox_id: other.id, source_id: 'sess-1', hmac_verified: true } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ source_id: 'sess-1', hmac_verified: true, inbox: { id: other.id, name: 'Second', channel_type: 'Channel::Api' } });
      const again = await h.api('POST', url, { token: s.admin.token, body: { inbox_id: other.id, source_id: 'sess-1' } });
      expect(again.status).toBe(200);
      expect(again.body.pubsub_token).toBe(r.body.pubsub_token);
      const generated = await h.api('POST', url, { token: s.admin.token, body: { inbox_id: other.id } });
      expect(generated.body.source_id).toMatch(UUID);
      const stranger = await createContact(h, s);
      const taken = await h.api('POST', `${s.base}/contacts/${stranger.contact.id}/contact_inboxes`, {
        token: s.admin.token,
        body: { inbox_id: other.id, source_id: 'sess-1' },
      });
      expect(taken.status).toBe(422);
      const missing = await h.api('POST', url, { token: s.admin.token, body: {} });
      expect(missing.status).toBe(422);
      expect(missing.body.attributes).toEqual(['inbox_id']);
    });
  });

  describe('isolation', () => {
    it("another account's inbox is a 404; another account's contact a 404; a non-member of the account a 401", async () => {
      const other = await scene(h);
      const before = await counts(h);
      const r = await h.api('POST', `${s.base}/contacts`, { token: s.admin.token, body: { name: 'X', inbox_id: other.inbox.id } });
      expect(r.status).toBe(404);
      expect(await counts(h)).toEqual(before);
      const { contact } = await createContact(h, other);
      expect((await h.api('GET', `${s.base}/contacts/${contact.id}`, { token: s.admin.token })).status).toBe(404);
      expect((await h.api('PATCH', `${s.base}/contacts/${contact.id}`, { token: s.admin.token, body: { name: 'y' } })).status).toBe(404);
      const cross = await h.api('GET', `${other.base}/contacts`, { token: s.admin.token });
      expect(cross.status).toBe(401);
      expect(cross.body).toEqual({ error: 'You are not authorized to do this action' });
      expect((await h.api('GET', `${s.base}/contacts`, { token: 'nope' })).status).toBe(401);
    });

    it("agents get a 401 for inboxes they are not members of and see only their inboxes' sessions", async () => {
      const agent = await h.user(s.accountId);
      const mine = await h.inbox(s.accountId, { name: 'Mine', members: [agent.id] });
      const r = await h.api('POST', `${s.base}/contacts`, { token: agent.token, body: { name: 'X', inbox_id: s.inbox.id } });
      expect(r.status).toBe(401);
      const ok = await h.api('POST', `${s.base}/contacts`, { token: agent.token, body: { name: 'Y', inbox_id: mine.id } });
      expect(ok.status).toBe(200);
      const id = ok.body.payload.contact.id;
      await h.api('POST', `${s.base}/contacts/${id}/contact_inboxes`, { token: s.admin.token, body: { inbox_id: s.inbox.id } });
      const seenByAgent = await h.api('GET', `${s.base}/contacts/${id}`, { token: agent.token });
      expect(seenByAgent.body.payload.contact_inboxes.map((ci: any) => ci.inbox.id)).toEqual([mine.id]);
      const seenByAdmin = await h.api('GET', `${s.base}/contacts/${id}`, { token: s.admin.token });
      expect(seenByAdmin.body.payload.contact_inboxes.map((ci: any) => ci.inbox.id).sort()).toEqual([mine.id, s.inbox.id].sort());
      const add = await h.api('POST', `${s.base}/contacts/${id}/contact_inboxes`, { token: agent.token, body: { inbox_id: s.inbox.id } });
      expect(add.status).toBe(401);
    });
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { describeEachDb, type TestServer } from '../support/harness.js';
import { createContact, createConversation, eventsSince, lastEventId, postMessage, scene, useScene, type Scene } from '../support/conversations.js';
import { consumer, disconnectAll, subscribe, until } from '../realtime/cable.js';

/**
 * Issue 12, contacts: labels, /contacts/active (from /cable presence), /contacts/filter (the
 * reference's filter payload), destroy_custom_attributes, literal segments before /:id, every sort
 * key, search on names, meta.count, availability_status and the types of unset values.
 */

const ids = (r: { body: { payload: Array<{ id: number }> } }) => r.body.payload.map((c) => c.id).sort((a, b) => a - b);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describeEachDb('contacts parity', (dialect) => {
  let h: TestServer;
  let s: Scene;
  useScene(dialect, (started) => ({ h, s } = started));
  afterEach(() => disconnectAll());

  const filter = (t: Scene, payload: unknown, query = '') =>
    h.api('POST', `${t.base}/contacts/filter${query}`, { token: t.admin.token, body: payload === undefined ? {} : { payload } });

  describe('labels', () => {
    it('replaces the set on POST (trimmed, de-duplicated, order kept) and lists it on GET, as {payload}', async () => {
      const { contact } = await createContact(h, s);
      const empty = await h.api('GET', `${s.base}/contacts/${contact.id}/labels`, { token: s.admin.token });
      expect(empty.status).toBe(200);
      expect(empty.body).toEqual({ payload: [] });
      const set = await h.api('POST', `${s.base}/contacts/${contact.id}/labels`, { token: s.admin.token, body: { labels: [' vip ', 'billing', 'vip', ''] } });
      expect(set.status).toBe(200);
      expect(set.body).toEqual({ payload: ['vip', 'billing'] });
      const replaced = await h.api('POST', `${s.base}/contacts/${contact.id}/labels`, { token: s.admin.token, body: { labels: ['churn-risk', 'vip'] } });
      expect(replaced.body).toEqual({ payload: ['churn-risk', 'vip'] });
      const read = await h.api('GET', `${s.base}/contacts/${contact.id}/labels`, { token: s.admin.token });
      expect(read.body).toEqual({ payload: ['churn-risk', 'vip'] });
      // an agent of the account may label too; an empty list clears
      const agent = await h.user(s.accountId);
      const cleared = await h.api('POST', `${s.base}/contacts/${contact.id}/labels`, { token: agent.token, body: { labels: [] } });
      expect(cleared.body).toEqual({ payload: [] });
      const rows = await h.server.ctx.database.db.selectFrom('contact_labels').selectAll().where('contact_id', '=', contact.id).execute();
      expect(rows).toEqual([]);
    });

    it('refuses bad input with a 422 and other accounts with a 404; labels go with the contact', async () => {
      const { contact } = await createContact(h, s);
      const long = await h.api('POST', `${s.base}/contacts/${contact.id}/labels`, { token: s.admin.token, body: { labels: ['x'.repeat(256)] } });
      expect(long.status).toBe(422);
      const many = await h.api('POST', `${s.base}/contacts/${contact.id}/labels`, { token: s.admin.token, body: { labels: Array.from({ length: 101 }, (_, i) => `l${i}`) } });
      expect(many.status).toBe(422);
      const notList = await h.api('POST', `${s.base}/contacts/${contact.id}/labels`, { token: s.admin.token, body: { labels: { a: 1 } } });
      expect(notList.status).toBe(422);
      const other = await scene(h);
      for (const [method, body] of [['GET', undefined], ['POST', { labels: ['stolen'] }]] as const) {
        const r = await h.api(method, `${other.base}/contacts/${contact.id}/labels`, { token: other.admin.token, body });
        expect(r.status).toBe(404);
        const cross = await h.api(method, `${s.base}/contacts/${contact.id}/labels`, { token: other.admin.token, body });
        expect(cross.status).toBe(401);
      }
      await h.api('POST', `${s.base}/contacts/${contact.id}/labels`, { token: s.admin.token, body: { labels: ['gone-soon'] } });
      expect((await h.api('DELETE', `${s.base}/contacts/${contact.id}`, { token: s.admin.token })).status).toBe(200);
      const rows = await h.server.ctx.database.db.selectFrom('contact_labels').selectAll().where('contact_id', '=', contact.id).execute();
      expect(rows).toEqual([]);
    });

    it('the contact list takes labels[] (contacts with any of them), in this account only', async () => {
      const t = await scene(h);
      const a = await createContact(h, t, { email: 'a@labels.test' });
      const b = await createContact(h, t, { email: 'b@labels.test' });
      await createContact(h, t, { email: 'c@labels.test' });
      await h.api('POST', `${t.base}/contacts/${a.contact.id}/labels`, { token: t.admin.token, body: { labels: ['vip'] } });
      await h.api('POST', `${t.base}/contacts/${b.contact.id}/labels`, { token: t.admin.token, body: { labels: ['trial'] } });
      const other = await scene(h);
      const o = await createContact(h, other, { email: 'o@labels.test' });
      await h.api('POST', `${other.base}/contacts/${o.contact.id}/labels`, { token: other.admin.token, body: { labels: ['vip'] } });
      const vip = await h.api('GET', `${t.base}/contacts?labels[]=vip`, { token: t.admin.token });
      expect(vip.status).toBe(200);
      expect(ids(vip)).toEqual([a.contact.id]);
      expect(vip.body.meta.count).toBe(1);
      const either = await h.api('GET', `${t.base}/contacts?labels[]=vip&labels[]=trial`, { token: t.admin.token });
      expect(ids(either)).toEqual(sorted([a.contact.id, b.contact.id]));
    });
  });

  describe('GET /contacts/active and availability_status', () => {
    it('lists the contacts subscribed on /cable now, online, in the list shape; others stay offline', async () => {
      const t = await scene(h);
      const online = await createContact(h, t, { name: 'Online Olga', email: 'olga@active.test' });
      const offline = await createContact(h, t, { name: 'Offline Otto', email: 'otto@active.test' });
      const none = await h.api('GET', `${t.base}/contacts/active`, { token: t.admin.token });
      expect(none.status).toBe(200);
      expect(none.body).toEqual({ meta: { count: 0, current_page: 1, total_pages: 0 }, payload: [] });

      const sub = await subscribe(consumer(h), { pubsub_token: online.contact.contact_inboxes[0].pubsub_token });
      expect(sub.state).toBe('connected');
      let active: any;
      await until(async () => {
        active = await h.api('GET', `${t.base}/contacts/active`, { token: t.admin.token });
        return active.body.payload.length === 1;
      }, 'the contact to be online');
      expect(active.body.meta).toEqual({ count: 1, current_page: 1, total_pages: 1 });
      expect(active.body.payload[0]).toMatchObject({ id: online.contact.id, name: 'Online Olga', availability_status: 'online' });
      expect(active.body.payload[0].contact_inboxes).toHaveLength(1);
      const slim = await h.api('GET', `${t.base}/contacts/active?include_contact_inboxes=false`, { token: t.admin.token });
      expect(slim.body.payload[0].contact_inboxes).toBeUndefined();

      const show = await h.api('GET', `${t.base}/contacts/${online.contact.id}`, { token: t.admin.token });
      expect(show.body.payload.availability_status).toBe('online');
      const showOff = await h.api('GET', `${t.base}/contacts/${offline.contact.id}`, { token: t.admin.token });
      expect(showOff.body.payload.availability_status).toBe('offline');
      const list = await h.api('GET', `${t.base}/contacts?sort=name`, { token: t.admin.token });
      expect(list.body.payload.map((c: any) => [c.name, c.availability_status])).toEqual([
        ['Offline Otto', 'offline'],
        ['Online Olga', 'online'],
      ]);
      const search = await h.api('GET', `${t.base}/contacts/search?q=olga`, { token: t.admin.token });
      expect(search.body.payload[0].availability_status).toBe('online');

      // Conversations show their contact's presence too (meta.sender), in every shape of the API.
      const olgaConv = await createConversation(h, t, { source_id: online.sourceId });
      const ottoConv = await createConversation(h, t, { source_id: offline.sourceId });
      expect(olgaConv.meta.sender.availability_status).toBe('online');
      expect(ottoConv.meta.sender.availability_status).toBe('offline');
      const senders = (payload: any[]) => Object.fromEntries(payload.map((c) => [c.meta.sender.name, c.meta.sender.availability_status]));
      const convList = await h.api('GET', `${t.base}/conversations`, { token: t.admin.token });
      expect(senders(convList.body.data.payload)).toEqual({ 'Online Olga': 'online', 'Offline Otto': 'offline' });
      const convShow = await h.api('GET', `${t.base}/conversations/${olgaConv.id}`, { token: t.admin.token });
      expect(convShow.body.meta.sender.availability_status).toBe('online');
      const convSearch = await h.api('GET', `${t.base}/conversations/search?q=olga`, { token: t.admin.token });
      expect(senders(convSearch.body.payload)).toEqual({ 'Online Olga': 'online' });
      const ofContact = await h.api('GET', `${t.base}/contacts/${online.contact.id}/conversations`, { token: t.admin.token });
      expect(senders(ofContact.body.payload)).toEqual({ 'Online Olga': 'online' });
      // The assignee is online while their dashboard pings (auto_offline), offline before.
      const assigned = await h.api('POST', `${t.base}/conversations/${ottoConv.id}/assignments`, { token: t.admin.token, body: { assignee_id: t.admin.id } });
      expect(assigned.body.availability_status).toBe('offline');
      const agentSub = await subscribe(consumer(h), { pubsub_token: t.admin.pubsub_token, account_id: t.accountId, user_id: t.admin.id });
      agentSub.sub.perform('update_presence');
      await until(async () => (await h.api('GET', `${t.base}/conversations/${ottoConv.id}`, { token: t.admin.token })).body.meta.assignee.availability_status === 'online', 'the assignee to be online');
      // …and in socket frames: the agent hears its own status change with itself online as assignee.
      expect((await h.api('POST', `${t.base}/conversations/${ottoConv.id}/toggle_status`, { token: t.admin.token, body: { status: 'pending' } })).status).toBe(200);
      const frame = await agentSub.next('conversation.status_changed', (m) => m.data.id === ottoConv.id);
      expect(frame.data.meta.assignee.availability_status).toBe('online');

      // Another account's admin never sees this account's online contacts.
      const other = await scene(h);
      const theirs = await h.api('GET', `${other.base}/contacts/active`, { token: other.admin.token });
      expect(theirs.body.payload).toEqual([]);
      const cross = await h.api('GET', `${t.base}/contacts/active`, { token: other.admin.token });
      expect(cross.status).toBe(401);

      // As the reference: an online contact is not deleted.
      const del = await h.api('DELETE', `${t.base}/contacts/${online.contact.id}`, { token: t.admin.token });
      expect(del.status).toBe(422);
      expect(del.body.message).toBe('Online Olga is online, please try again later');
      expect((await h.api('GET', `${t.base}/contacts/${online.contact.id}`, { token: t.admin.token })).status).toBe(200);
    });

    it('a ping older than the presence window is offline again; pages of 15 with meta.count of all', async () => {
      const t = await scene(h);
      const presence = h.server.ctx.realtime.presence;
      const made = [];
      for (let i = 0; i < 16; i++) made.push((await createContact(h, t, { name: `Live ${String(i).padStart(2, '0')}` })).contact);
      for (const c of made) await presence.touch(t.accountId, 'contact', c.id);
      const stale = (await createContact(h, t, { name: 'Stale' })).contact;
      await presence.touch(t.accountId, 'contact', stale.id, Date.now() - 10 * 60_000);
      const p1 = await h.api('GET', `${t.base}/contacts/active?sort=name`, { token: t.admin.token });
      expect(p1.body.meta).toEqual({ count: 16, current_page: 1, total_pages: 2 });
      expect(p1.body.payload).toHaveLength(15);
      expect(p1.body.payload[0].name).toBe('Live 00');
      const p2 = await h.api('GET', `${t.base}/contacts/active?sort=name&page=2`, { token: t.admin.token });
      expect(p2.body.payload.map((c: any) => c.name)).toEqual(['Live 15']);
      const show = await h.api('GET', `${t.base}/contacts/${stale.id}`, { token: t.admin.token });
      expect(show.body.payload.availability_status).toBe('offline');
      // presence of an id from another account does not leak a contact
      const other = await scene(h);
      const theirs = (await createContact(h, other, { name: 'Theirs' })).contact;
      await presence.touch(t.accountId, 'contact', theirs.id);
      const still = await h.api('GET', `${t.base}/contacts/active`, { token: t.admin.token });
      expect(still.body.meta.count).toBe(16);
      expect(still.body.payload.map((c: any) => c.id)).not.toContain(theirs.id);
      // tens of thousands online (ids without a contact here): still one query, no parameter limit hit
      for (let i = 0; i < 40_000; i++) await presence.touch(t.accountId, 'contact', 1_000_000 + i);
      const crowd = await h.api('GET', `${t.base}/contacts/active`, { token: t.admin.token });
      expect(crowd.status, crowd.text).toBe(200);
      expect(crowd.body.meta.count).toBe(16);
    });
  });

  describe('POST /contacts/filter', () => {
    let t: Scene;
    const c: Record<string, { id: number }> = {};
    const setup = async () => {
      if (t) return;
      t = await scene(h);
      const make = async (key: string, body: Record<string, unknown>) => (c[key] = (await createContact(h, t, body)).contact);
      await make('ann', { name: 'Ann Smith', email: 'ann@acme.test', phone_number: '+14155550101', identifier: 'crm-ann', additional_attributes: { city: 'Paris', country_code: 'FR', company_name: 'Acme' }, custom_attributes: { plan: 'Pro', seats: 12, trial: false, renews_on: '2030-01-15' } });
      await make('bob', { name: 'Bob Jones', email: 'bob@globex.test', additional_attributes: { city: 'Berlin', country_code: 'DE', company_name: 'Globex' }, custom_attributes: { plan: 'free', seats: 1, trial: true } });
      await make('cyd', { name: 'Cyd', additional_attributes: { city: 'paris' }, blocked: true });
      await make('dee', { name: 'Dee Smithers', phone_number: '+442071234567', custom_attributes: { seats: 'many' } });
      await h.api('POST', `${t.base}/contacts/${c.ann.id}/labels`, { token: t.admin.token, body: { labels: ['vip', 'billing'] } });
      await h.api('POST', `${t.base}/contacts/${c.bob.id}/labels`, { token: t.admin.token, body: { labels: ['trial'] } });
      // Another account's look-alike: never in this account's results.
      const other = await scene(h);
      await createContact(h, other, { name: 'Ann Smith', email: 'ann@acme.test', additional_attributes: { city: 'Paris' }, custom_attributes: { plan: 'Pro' } });
      // Dates: Ann was created long ago, Bob was active yesterday.
      const db = h.server.ctx.database.db;
      await db.updateTable('contacts').set({ created_at: Date.parse('2020-03-10T12:00:00Z') }).where('id', '=', c.ann.id).execute();
      await db.updateTable('contacts').set({ last_activity_at: Date.now() - 86_400_000 }).where('id', '=', c.bob.id).execute();
    };
    const one = (attribute_key: string, filter_operator: string, values?: unknown) => [{ attribute_key, filter_operator, values, query_operator: null }];
    const expectIds = async (payload: unknown, want: string[]) => {
      const r = await filter(t, payload);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(ids(r), JSON.stringify(payload)).toEqual(sorted(want.map((k) => c[k].id)));
      expect(r.body.meta.count).toBe(want.length);
      return r;
    };

    it('filters standard attributes with the reference operators, case-insensitively, in the list shape', async () => {
      await setup();
      const r = await expectIds(one('name', 'equal_to', ['ann smith']), ['ann']);
      expect(r.body.meta).toEqual({ count: 1, current_page: 1, total_pages: 1 });
      expect(r.body.payload[0]).toMatchObject({ id: c.ann.id, availability_status: 'offline', contact_inboxes: [expect.objectContaining({ source_id: expect.any(String) })] });
      await expectIds(one('name', 'contains', ['SMITH']), ['ann', 'dee']);
      await expectIds(one('name', 'does_not_contain', ['smith']), ['bob', 'cyd']);
      await expectIds(one('name', 'not_equal_to', ['Cyd']), ['ann', 'bob', 'dee']);
      await expectIds(one('email', 'contains', ['@ACME']), ['ann']);
      await expectIds(one('phone_number', 'equal_to', ['14155550101']), ['ann']);
      await expectIds(one('phone_number', 'starts_with', ['+44']), ['dee']);
      await expectIds(one('identifier', 'equal_to', ['CRM-ANN']), ['ann']);
      await expectIds(one('city', 'equal_to', ['PARIS']), ['ann', 'cyd']);
      await expectIds(one('country_code', 'not_equal_to', ['fr']), ['bob', 'cyd', 'dee']);
      await expectIds(one('company', 'contains', ['glob']), ['bob']);
      await expectIds(one('blocked', 'equal_to', [true]), ['cyd']);
      await expectIds(one('labels', 'equal_to', ['vip']), ['ann']);
      await expectIds(one('labels', 'not_equal_to', ['vip']), ['bob', 'cyd', 'dee']);
      await expectIds(one('labels', 'is_present'), ['ann', 'bob']);
      await expectIds(one('labels', 'is_not_present'), ['cyd', 'dee']);
    });

    it('dates by UTC day: is_greater_than, is_less_than, days_before', async () => {
      await setup();
      await expectIds(one('created_at', 'is_less_than', ['2020-03-11']), ['ann']);
      await expectIds(one('created_at', 'is_less_than', ['2020-03-10']), []);
      await expectIds(one('created_at', 'is_greater_than', ['2020-03-10']), ['bob', 'cyd', 'dee']);
      await expectIds(one('created_at', 'days_before', [30]), ['ann']);
      await expectIds(one('last_activity_at', 'is_greater_than', [new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10)]), ['bob']);
      await expectIds(one('last_activity_at', 'days_before', ['0']), ['bob']);
    });

    it('custom attributes: text, numbers, booleans, presence; a key no contact has is a 422', async () => {
      await setup();
      await expectIds(one('plan', 'equal_to', ['pro']), ['ann']);
      await expectIds(one('plan', 'not_equal_to', ['pro']), ['bob', 'cyd', 'dee']);
      await expectIds(one('plan', 'contains', ['RE']), ['bob']);
      await expectIds(one('seats', 'is_greater_than', [5]), ['ann']);
      await expectIds(one('seats', 'is_less_than', [5]), ['bob']);
      await expectIds(one('seats', 'equal_to', [12]), ['ann']);
      await expectIds(one('trial', 'equal_to', [true]), ['bob']);
      await expectIds(one('trial', 'equal_to', [false]), ['ann']);
      await expectIds(one('plan', 'is_present'), ['ann', 'bob']);
      await expectIds(one('plan', 'is_not_present'), ['cyd', 'dee']);
      await expectIds(one('renews_on', 'is_greater_than', ['2029-12-31']), ['ann']);
      const unknown = await filter(t, one('shoe_size', 'equal_to', ['42']));
      expect(unknown.status).toBe(422);
      expect(unknown.body.message).toMatch(/^Invalid attribute key - \[shoe_size\]/);
    });

    it('joins conditions with AND / OR (AND first), pages by 15 with meta.count of all matches, sorts', async () => {
      await setup();
      await expectIds(
        [
          { attribute_key: 'city', filter_operator: 'equal_to', values: ['paris'], query_operator: 'AND' },
          { attribute_key: 'blocked', filter_operator: 'equal_to', values: [false], query_operator: 'OR' },
          { attribute_key: 'name', filter_operator: 'equal_to', values: ['dee smithers'], query_operator: null },
        ],
        ['ann', 'dee'],
      );
      await expectIds(
        [
          { attribute_key: 'name', filter_operator: 'contains', values: ['smith'], query_operator: 'and' },
          { attribute_key: 'labels', filter_operator: 'is_present', values: [] },
        ],
        ['ann'],
      );
      const u = await scene(h);
      for (let i = 0; i < 17; i++) await createContact(h, u, { name: `Many ${String(i).padStart(2, '0')}`, additional_attributes: { city: 'Lyon' } });
      await createContact(h, u, { name: 'Elsewhere', additional_attributes: { city: 'Nice' } });
      const body = { payload: one('city', 'equal_to', ['lyon']) };
      const p1 = await h.api('POST', `${u.base}/contacts/filter?sort=-name`, { token: u.admin.token, body });
      expect(p1.body.meta).toEqual({ count: 17, current_page: 1, total_pages: 2 });
      expect(p1.body.payload).toHaveLength(15);
      expect(p1.body.payload[0].name).toBe('Many 16');
      const p2 = await h.api('POST', `${u.base}/contacts/filter?page=2&sort=-name`, { token: u.admin.token, body });
      expect(p2.body.meta).toEqual({ count: 17, current_page: 2, total_pages: 2 });
      expect(p2.body.payload.map((x: any) => x.name)).toEqual(['Many 01', 'Many 00']);
    });

    it('answers a clear 422 for an unknown attribute or operator, a missing value, bad joins and oversized payloads', async () => {
      await setup();
      const cases: Array<[unknown, RegExp]> = [
        [one('favourite colour', 'equal_to', ['red']), /Invalid attribute key - \[favourite colour\]\. Allowed keys for contacts: name, phone_number, email, identifier/],
        [one('name', 'is_greater_than', ['a']), /Invalid operator for name - \[is_greater_than\]\. Allowed operators: equal_to, not_equal_to, contains, does_not_contain/],
        [one('email', 'sounds_like', ['a']), /Invalid operator for email - \[sounds_like\]/],
        [one('name', 'equal_to', []), /needs at least one value/],
        [one('created_at', 'is_less_than', ['last tuesday']), /takes a date/],
        [one('created_at', 'days_before', ['-1']), /whole number of days/],
        [one('blocked', 'equal_to', ['maybe']), /true or false/],
        [[{ attribute_key: 'name', filter_operator: 'equal_to', values: ['a'], query_operator: 'NAND' }, ...one('name', 'equal_to', ['b'])], /AND or OR/],
        [[], /non-empty array/],
        [Array.from({ length: 51 }, () => one('name', 'equal_to', ['a'])[0]), /payload/],
        [one('name', 'contains', Array(101).fill('a')), /values/],
      ];
      for (const [payload, message] of cases) {
        const r = await filter(t, payload);
        expect(r.status, JSON.stringify(payload).slice(0, 200)).toBe(422);
        expect(r.body.error, JSON.stringify(payload).slice(0, 200)).toMatch(message);
      }
      for (const body of [{}, { payload: 'name=ann' }, { payload: [42] }, '[1,2]']) {
        const r = await h.api('POST', `${t.base}/contacts/filter`, { token: t.admin.token, body });
        expect(r.status, JSON.stringify(body)).toBe(422);
        expect(r.body.error).toEqual(expect.any(String));
      }
      const huge = await h.api('POST', `${t.base}/contacts/filter`, { token: t.admin.token, body: { payload: one('name', 'contains', ['x'.repeat(300)]) } });
      expect(huge.status).toBe(422);
      expect((await h.api('POST', `${t.base}/contacts/filter`, { body: { payload: one('name', 'equal_to', ['a']) } })).status).toBe(401);
    });
  });

  describe('POST /contacts/:id/destroy_custom_attributes', () => {
    it('removes the keys, keeps the others, answers the contact and records contact.updated', async () => {
      const { contact } = await createContact(h, s, { custom_attributes: { plan: 'pro', seats: 3, region: 'eu' } });
      const since = await lastEventId(h);
      const r = await h.api('POST', `${s.base}/contacts/${contact.id}/destroy_custom_attributes`, { token: s.admin.token, body: { custom_attributes: ['plan', 'region', 'never-set'] } });
      expect(r.status).toBe(200);
      expect(r.body.payload).toMatchObject({ id: contact.id, custom_attributes: { seats: 3 }, availability_status: 'offline' });
      expect(Object.keys(r.body.payload.custom_attributes)).toEqual(['seats']);
      expect(r.body.payload.contact_inboxes).toHaveLength(1);
      const evs = await eventsSince(h, since);
      expect(evs.map((e) => e.name)).toEqual(['contact.updated']);
      expect(evs[0].payload.changed_attributes).toEqual([
        { custom_attributes: { previous_value: { plan: 'pro', seats: 3, region: 'eu' }, current_value: { seats: 3 } } },
      ]);
      const shown = await h.api('GET', `${s.base}/contacts/${contact.id}`, { token: s.admin.token });
      expect(shown.body.payload.custom_attributes).toEqual({ seats: 3 });
      // nothing to remove: the contact unchanged, no event
      const again = await h.api('POST', `${s.base}/contacts/${contact.id}/destroy_custom_attributes`, { token: s.admin.token, body: { custom_attributes: ['plan'] } });
      expect(again.status).toBe(200);
      expect(again.body.payload.custom_attributes).toEqual({ seats: 3 });
      expect(await lastEventId(h)).toBe(evs[0].id);
      // one key as a string
      const single = await h.api('POST', `${s.base}/contacts/${contact.id}/destroy_custom_attributes`, { token: s.admin.token, body: { custom_attributes: 'seats' } });
      expect(single.body.payload.custom_attributes).toEqual({});
    });

    it('422 without custom_attributes; 404 for another account', async () => {
      const { contact } = await createContact(h, s, { custom_attributes: { plan: 'pro' } });
      const missing = await h.api('POST', `${s.base}/contacts/${contact.id}/destroy_custom_attributes`, { token: s.admin.token, body: {} });
      expect(missing.status).toBe(422);
      const other = await scene(h);
      const r = await h.api('POST', `${other.base}/contacts/${contact.id}/destroy_custom_attributes`, { token: other.admin.token, body: { custom_attributes: ['plan'] } });
      expect(r.status).toBe(404);
      const shown = await h.api('GET', `${s.base}/contacts/${contact.id}`, { token: s.admin.token });
      expect(shown.body.payload.custom_attributes).toEqual({ plan: 'pro' });
    });
  });

  describe('routes and behaviours', () => {
    it('literal segments win over /contacts/:id (active, search, filter), with or without a trailing slash', async () => {
      for (const [method, path, body] of [
        ['GET', '/contacts/active', undefined],
        ['GET', '/contacts/active/', undefined],
        ['GET', '/contacts/search?q=x', undefined],
        ['POST', '/contacts/filter', { payload: [{ attribute_key: 'name', filter_operator: 'equal_to', values: ['x'] }] }],
        ['POST', '/contacts/filter/', { payload: [{ attribute_key: 'name', filter_operator: 'equal_to', values: ['x'] }] }],
      ] as const) {
        const r = await h.api(method, `${s.base}${path}`, { token: s.admin.token, body });
        expect(r.status, `${method} ${path}: ${r.text}`).toBe(200);
        expect(r.body.meta).toMatchObject({ current_page: 1 });
      }
      // Any other segment names no contact: 404, as the reference answers.
      const bad = await h.api('GET', `${s.base}/contacts/nope`, { token: s.admin.token });
      expect(bad.status).toBe(404);
      expect(bad.body).toEqual({ error: 'Resource could not be found' });
    });

    it('sort takes every reference key, ascending and with - descending; nulls last', async () => {
      const t = await scene(h);
      const mk = (name: string, email: string, phone: string, add: Record<string, string>) =>
        createContact(h, t, { name, email, phone_number: phone, additional_attributes: add });
      const a = (await mk('alma', 'z@sort.test', '+14155550003', { company_name: 'Beta', city: 'Oslo', country: 'Norway' })).contact;
      const b = (await mk('Bert', 'y@sort.test', '+14155550001', { company_name: 'Alpha', city: 'Bonn', country: 'Germany' })).contact;
      const c = (await mk('carl', 'x@sort.test', '+14155550002', {})).contact;
      await h.server.ctx.database.db.updateTable('contacts').set({ last_activity_at: Date.now() - 1000 }).where('id', '=', b.id).execute();
      const order = async (sort: string) => {
        const r = await h.api('GET', `${t.base}/contacts?sort=${encodeURIComponent(sort)}&include_contact_inboxes=false`, { token: t.admin.token });
        expect(r.status, `${sort}: ${r.text}`).toBe(200);
        return r.body.payload.map((x: any) => x.id);
      };
      expect(await order('name')).toEqual([a.id, b.id, c.id]);
      expect(await order('-name')).toEqual([c.id, b.id, a.id]);
      expect(await order('email')).toEqual([c.id, b.id, a.id]);
      expect(await order('phone_number')).toEqual([b.id, c.id, a.id]);
      expect(await order('company_name')).toEqual([b.id, a.id, c.id]);
      expect(await order('-company_name')).toEqual([a.id, b.id, c.id]);
      expect(await order('city')).toEqual([b.id, a.id, c.id]);
      expect(await order('country')).toEqual([b.id, a.id, c.id]);
      expect(await order('-country')).toEqual([a.id, b.id, c.id]);
      expect((await order('-last_activity_at'))[0]).toBe(b.id);
      expect(await order('created_at')).toEqual([a.id, b.id, c.id]);
      expect(await order('-created_at')).toEqual([c.id, b.id, a.id]);
      const bad = await h.api('GET', `${t.base}/contacts?sort=-password`, { token: t.admin.token });
      expect(bad.status).toBe(422);
      expect(bad.body.message).toMatch(/company_name, city, country/);
    });

    it('search matches a contact known by name only, and ids; meta.count is the contacts on the page', async () => {
      const t = await scene(h);
      const named = (await createContact(h, t, { name: 'Nameless Nora' })).contact;
      const found = await h.api('GET', `${t.base}/contacts/search?q=nora`, { token: t.admin.token });
      expect(found.status).toBe(200);
      expect(found.body.payload.map((x: any) => x.id)).toEqual([named.id]);
      expect(found.body.meta).toEqual({ count: 1, current_page: 1, has_more: false, total_count: 1, total_pages: 1 });
      // the list still shows only contacts with an email, phone number or identifier
      const list = await h.api('GET', `${t.base}/contacts`, { token: t.admin.token });
      expect(list.body.payload.map((x: any) => x.id)).not.toContain(named.id);
      const byId = await h.api('GET', `${t.base}/contacts/search?q=${named.id}`, { token: t.admin.token });
      expect(byId.body.payload.map((x: any) => x.id)).toContain(named.id);
      for (let i = 0; i < 16; i++) await createContact(h, t, { name: `Searchable ${i}` });
      const p1 = await h.api('GET', `${t.base}/contacts/search?q=searchable`, { token: t.admin.token });
      expect(p1.body.meta).toEqual({ count: 15, current_page: 1, has_more: true, total_count: 16, total_pages: 2 });
      const p2 = await h.api('GET', `${t.base}/contacts/search?q=searchable&page=2`, { token: t.admin.token });
      expect(p2.body.meta).toEqual({ count: 1, current_page: 2, has_more: false, total_count: 16, total_pages: 2 });
      const other = await scene(h);
      const theirs = await h.api('GET', `${other.base}/contacts/search?q=nora`, { token: other.admin.token });
      expect(theirs.body.payload).toEqual([]);
    });

    it('a contact never active has no last_activity_at (no null); after a message it is unix seconds', async () => {
      const { contact, sourceId } = await createContact(h, s, { name: 'Quiet' });
      expect(contact).not.toHaveProperty('last_activity_at');
      expect(typeof contact.created_at).toBe('number');
      const shown = await h.api('GET', `${s.base}/contacts/${contact.id}`, { token: s.admin.token });
      expect(shown.body.payload).not.toHaveProperty('last_activity_at');
      // only the reference's nullable strings may be null
      const nulls = Object.entries(shown.body.payload).filter(([, v]) => v === null).map(([k]) => k);
      expect(nulls.sort()).toEqual(['email', 'identifier', 'phone_number']);
      const conv = await createConversation(h, s, { source_id: sourceId });
      const m = await postMessage(h, s, conv.id, { content: 'hello', message_type: 'incoming' });
      expect(m.status).toBe(200);
      const after = await h.api('GET', `${s.base}/contacts/${contact.id}`, { token: s.admin.token });
      expect(Number.isInteger(after.body.payload.last_activity_at)).toBe(true);
      expect(Math.abs(after.body.payload.last_activity_at - Date.now() / 1000)).toBeLessThan(60);
    });

    it('update merges custom_attributes (the keys sent change, the others stay), as the reference', async () => {
      const { contact } = await createContact(h, s, { custom_attributes: { plan: 'pro', seats: 3 } });
      const r = await h.api('PATCH', `${s.base}/contacts/${contact.id}`, { token: s.admin.token, body: { custom_attributes: { seats: 5, region: 'eu' } } });
      expect(r.status).toBe(200);
      expect(r.body.payload.custom_attributes).toEqual({ plan: 'pro', seats: 5, region: 'eu' });
    });
  });
});

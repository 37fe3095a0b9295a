import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { LIMITS_OFF, PublicClient, appApi, eventsOf, hashOf, type Inbox } from './helpers.js';

const NOT_FOUND = { error: 'Resource could not be found' };

describeEachDb('client API routes', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let admin: TestUser;
  let inbox: Inbox;
  let c: PublicClient;
  let app: ReturnType<typeof appApi>;

  beforeAll(async () => {
    h = await startTestServer(dialect, LIMITS_OFF);
    ({ accountId, admin } = await h.account());
    inbox = await h.inbox(accountId, { name: 'Support widget' });
    c = new PublicClient(h);
    app = appApi(h, accountId, admin);
  });
  afterAll(() => h?.close());

  describe('inbox and contacts', () => {
    it('GET the inbox: its public info, never its tokens', async () => {
      const r = await c.call('GET', c.base(inbox));
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        identifier: inbox.identifier,
        identity_validation_enabled: false,
        name: 'Support widget',
        timezone: 'UTC',
        working_hours: expect.arrayContaining([expect.objectContaining({ day_of_week: 1, open_hour: 9, close_hour: 17 })]),
        working_hours_enabled: false,
        csat_survey_enabled: false,
        greeting_enabled: false,
      });
      expect(r.text).not.toContain(inbox.hmac_token);
      expect(r.text).not.toContain(inbox.secret);
    });

    it('POST /contacts creates a contact and a session: the six public fields', async () => {
      const r = await c.createContact(inbox, { name: 'Ann', email: 'ANN@example.com', phone_number: '+14155550100', custom_attributes: { plan: 'pro' } });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['email', 'id', 'name', 'phone_number', 'pubsub_token', 'source_id']);
      expect(r.body).toMatchObject({ name: 'Ann', email: 'ann@example.com', phone_number: '+14155550100' });
      expect(r.body.source_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.body.pubsub_token.length).toBeGreaterThanOrEqual(20);
      const created = await eventsOf(h, 'contact.created');
      expect(created.at(-1)!.payload.contact_id).toBe(r.body.id);
      const contact = await app.get(`/contacts/${r.body.id}`);
      expect(contact.body.payload.custom_attributes).toEqual({ plan: 'pro' });
    });

    it('gives an anonymous contact a generated name and takes a given source_id', async () => {
      const r = await c.createContact(inbox, { source_id: 'my-session-1' });
      expect(r.status).toBe(200);
      expect(r.body.source_id).toBe('my-session-1');
      expect(r.body.name).toMatch(/^[a-z]+-[a-z]+-\d{4}$/);
      const again = await c.createContact(inbox, { source_id: 'my-session-1' });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(r.body);
    });

    it('matches an existing contact by identifier, then email, then phone (a new session each time)', async () => {
      const first = await c.session(inbox, { identifier: 'cust-1', email: 'one@example.com', phone_number: '+14155550111', name: 'One' });
      const byId = await c.session(inbox, { identifier: 'cust-1', name: 'Someone else' });
      expect(byId.id).toBe(first.id);
      expect(byId.name).toBe('One'); // a matched contact is not modified
      expect(byId.source_id).not.toBe(first.source_id);
      const byEmail = await c.session(inbox, { email: 'One@Example.com' });
      expect(byEmail.id).toBe(first.id);
      const byPhone = await c.session(inbox, { phone_number: '+14155550111' });
      expect(byPhone.id).toBe(first.id);
      expect(new Set([first.pubsub_token, byId.pubsub_token, byEmail.pubsub_token, byPhone.pubsub_token]).size).toBe(4);
    });

    it('concurrent creates for the same person end up on one contact (a unique race is retried, never a 500)', async () => {
      const body = { identifier: 'racer', identifier_hash: hashOf(inbox.hmac_token, 'racer'), email: 'racer@example.com' };
      const rs = await Promise.all(Array.from({ length: 6 }, () => c.createContact(inbox, body)));
      expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(new Set(rs.map((r) => r.body.id)).size).toBe(1);
      expect(new Set(rs.map((r) => r.body.source_id)).size).toBe(6);
    });

    it('GET and PATCH /contacts/:source_id', async () => {
      const s = await c.session(inbox, { name: 'Bea' });
      const got = await c.call('GET', c.contactUrl(inbox, s.source_id));
      expect(got.status).toBe(200);
      expect(got.body).toEqual(s);
      const upd = await c.call('PATCH', c.contactUrl(inbox, s.source_id), { name: 'Bea Smith', email: 'bea@example.com', custom_attributes: { a: 1 } });
      expect(upd.status).toBe(200);
      expect(upd.body).toMatchObject({ id: s.id, name: 'Bea Smith', email: 'bea@example.com', source_id: s.source_id, pubsub_token: s.pubsub_token });
      const upd2 = await c.call('PUT', c.contactUrl(inbox, s.source_id), { custom_attributes: { b: 2 } });
      expect(upd2.status).toBe(200);
      const contact = await app.get(`/contacts/${s.id}`);
      expect(contact.body.payload.custom_attributes).toEqual({ a: 1, b: 2 });
      const updated = await eventsOf(h, 'contact.updated');
      expect(updated.at(-1)!.payload).toMatchObject({ contact_id: s.id });
    });

    it('PATCH refuses an email or phone held by another contact with 422 (never merges, never names the other contact)', async () => {
      const other = await c.session(inbox, { email: 'taken@example.com', name: 'Other Person' });
      const s = await c.session(inbox, { name: 'Me' });
      const r = await c.call('PATCH', c.contactUrl(inbox, s.source_id), { email: 'taken@example.com' });
      expect(r.status).toBe(422);
      expect(r.body.attributes).toEqual(['email']);
      expect(r.text).not.toContain('Other Person');
      expect(r.text).not.toContain(String(other.source_id));
      const bad = await c.call('PATCH', c.contactUrl(inbox, s.source_id), { email: 'not-an-email' });
      expect(bad.status).toBe(422);
      const badPhone = await c.call('PATCH', c.contactUrl(inbox, s.source_id), { phone_number: '555' });
      expect(badPhone.status).toBe(422);
    });
  });

  describe('conversations', () => {
    let s: { source_id: string; id: number };
    let url: string;
    beforeAll(async () => {
      s = await c.session(inbox, { name: 'Cleo', identifier: 'cleo' });
      url = `${c.contactUrl(inbox, s.source_id)}/conversations`;
    });

    it('POST creates a conversation (custom_attributes only) and records conversation.created', async () => {
      const r = await c.call('POST', url, { custom_attributes: { order: '42' }, additional_attributes: { browser: 'x' } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ inbox_id: inbox.id, status: 'open', contact_last_seen_at: 0, agent_last_seen_at: 0, messages: [] });
      expect(r.body.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.body.contact).toMatchObject({ id: s.id, name: 'Cleo', identifier: 'cleo' });
      const agentView = await app.get(`/conversations/${r.body.id}`);
      expect(agentView.body.custom_attributes).toEqual({ order: '42' });
      expect(agentView.body.additional_attributes).toEqual({});
      const ev = (await eventsOf(h, 'conversation.created')).at(-1)!;
      expect(ev.payload.performer).toEqual({ type: 'contact', id: s.id });
    });

    it('GET lists the conversations as a bare array; GET :id shows one', async () => {
      const second = await c.conversation(inbox, s.source_id);
      const list = await c.call('GET', url);
      expect(list.status).toBe(200);
      expect(Array.isArray(list.body)).toBe(true);
      expect(list.body.map((x: { id: number }) => x.id)).toContain(second.id);
      const one = await c.call('GET', `${url}/${second.id}`);
      expect(one.status).toBe(200);
      expect(one.body.id).toBe(second.id);
    });

    it('toggle_status only resolves, with the contact as performer', async () => {
      const conv = await c.conversation(inbox, s.source_id);
      const r = await c.call('POST', `${url}/${conv.id}/toggle_status`, {});
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('resolved');
      const ev = (await eventsOf(h, 'conversation.status_changed')).at(-1)!;
      expect(ev.payload.performer).toEqual({ type: 'contact', id: s.id });
      const n = (await eventsOf(h)).length;
      const again = await c.call('POST', `${url}/${conv.id}/toggle_status`, { status: 'open' });
      expect(again.status).toBe(200);
      expect(again.body.status).toBe('resolved');
      expect((await eventsOf(h)).length).toBe(n);
    });

    it('toggle_typing records typing events with the contact as typist (200, empty body)', async () => {
      const conv = await c.conversation(inbox, s.source_id);
      const on = await c.call('POST', `${url}/${conv.id}/toggle_typing`, { typing_status: 'on' });
      expect(on.status).toBe(200);
      expect(on.text).toBe('');
      const off = await c.call('POST', `${url}/${conv.id}/toggle_typing`, { typing_status: 'off' });
      expect(off.status).toBe(200);
      const onEv = (await eventsOf(h, 'conversation.typing_on')).at(-1)!;
      const offEv = (await eventsOf(h, 'conversation.typing_off')).at(-1)!;
      expect(onEv.payload).toMatchObject({ typist: { type: 'contact', id: s.id }, is_private: false });
      expect(offEv.payload.typist).toEqual({ type: 'contact', id: s.id });
      const bad = await c.call('POST', `${url}/${conv.id}/toggle_typing`, { typing_status: 'maybe' });
      expect(bad.status).toBe(422);
    });

    it('update_last_seen sets contact_last_seen_at and marks earlier agent replies read', async () => {
      const conv = await c.conversation(inbox, s.source_id);
      const reply = await app.post(`/conversations/${conv.id}/messages`, { content: 'Hi from an agent' });
      expect(reply.status).toBe(200);
      const note = await app.post(`/conversations/${conv.id}/messages`, { content: 'internal', private: true });
      const r = await c.call('POST', `${url}/${conv.id}/update_last_seen`, {});
      expect(r.status).toBe(200);
      expect(r.text).toBe('');
      const shown = await c.call('GET', `${url}/${conv.id}`);
      expect(shown.body.contact_last_seen_at).toBeGreaterThan(0);
      const msgs = await app.get(`/conversations/${conv.id}/messages`);
      expect(msgs.body.payload.find((m: { id: number }) => m.id === reply.body.id).status).toBe('read');
      expect(msgs.body.payload.find((m: { id: number }) => m.id === note.body.id).status).toBe('sent'); // the contact never saw it
      const ev = (await eventsOf(h, 'message.updated')).at(-1)!;
      expect(ev.payload).toMatchObject({ message_id: reply.body.id, previous_changes: { status: ['sent', 'read'] } });
    });

    it('accepts empty, urlencoded and multipart bodies as the reference does', async () => {
      const conv = await c.conversation(inbox, s.source_id);
      const empty = await h.api('POST', `${url}/${conv.id}/update_last_seen`);
      expect(empty.status).toBe(200);
      const form = await c.call('POST', `${url}/${conv.id}/messages`, 'content=from+a+form&echo_id=f-1', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(form.status).toBe(200);
      expect(form.body).toMatchObject({ content: 'from a form', echo_id: 'f-1', message_type: 0 });
      const boundary = '----public-test';
      const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="content"\r\n\r\nfrom multipart\r\n--${boundary}--\r\n`;
      const mp = await c.call('POST', `${url}/${conv.id}/messages`, multipart, { 'content-type': `multipart/form-data; boundary=${boundary}` });
      expect(mp.status).toBe(200);
      expect(mp.body.content).toBe('from multipart');
      const contact = await c.call('POST', `${c.base(inbox)}/contacts`, 'name=Form+Person&custom_attributes[tier]=gold', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(contact.status).toBe(200);
      expect(contact.body.name).toBe('Form Person');
    });

    it('lock_to_single_conversation returns the existing conversation', async () => {
      const locked = await h.inbox(accountId, { name: 'Locked' });
      await h.server.ctx.database.db.updateTable('inboxes').set({ lock_to_single_conversation: 1 }).where('id', '=', locked.id).execute();
      const ls = await c.session(locked);
      const a = await c.conversation(locked, ls.source_id);
      const b = await c.conversation(locked, ls.source_id);
      expect(b.id).toBe(a.id);
    });
  });

  describe('messages', () => {
    let s: { source_id: string; id: number };
    let conv: { id: number };
    let url: string;
    beforeAll(async () => {
      s = await c.session(inbox, { name: 'Dan' });
      conv = await c.conversation(inbox, s.source_id);
      url = `${c.contactUrl(inbox, s.source_id)}/conversations/${conv.id}/messages`;
    });

    it('POST creates an incoming message from the contact, with echo_id, and the same events as the Application API', async () => {
      const r = await c.call('POST', url, { content: 'Hello there', echo_id: 'tmp-1' });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        content: 'Hello there',
        message_type: 0,
        conversation_id: conv.id,
        attachments: [],
        echo_id: 'tmp-1',
        sender: { id: s.id, type: 'contact', name: 'Dan' },
      });
      expect(typeof r.body.created_at).toBe('number');
      const agentView = await app.get(`/conversations/${conv.id}/messages`);
      const m = agentView.body.payload.find((x: { id: number }) => x.id === r.body.id);
      expect(m).toMatchObject({ message_type: 0, private: false, sender: { id: s.id, type: 'contact' } });
      const row = await h.server.ctx.database.db.selectFrom('messages').selectAll().where('id', '=', r.body.id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ sender_type: 'Contact', sender_id: s.id, message_type: 0 });
      const ev = (await eventsOf(h, 'message.created')).find((e) => e.payload.message_id === r.body.id)!;
      expect(ev.payload).toMatchObject({ echo_id: 'tmp-1' });
      expect(ev.payload.conversation_id).toBe(row.conversation_id);
    });

    it('an incoming message reopens a resolved conversation', async () => {
      const c2 = await c.conversation(inbox, s.source_id);
      const base = `${c.contactUrl(inbox, s.source_id)}/conversations/${c2.id}`;
      await c.call('POST', `${base}/toggle_status`, {});
      const r = await c.call('POST', `${base}/messages`, { content: 'one more thing' });
      expect(r.status).toBe(200);
      expect((await c.call('GET', base)).body.status).toBe('open');
    });

    it('refuses blank content, content over 150 000 characters and attachments with 422', async () => {
      expect((await c.call('POST', url, {})).status).toBe(422);
      expect((await c.call('POST', url, { content: '   ' })).status).toBe(422);
      const long = await c.call('POST', url, { content: 'x'.repeat(150_001) });
      expect(long.status).toBe(422);
      const ok = await c.call('POST', url, { content: 'y'.repeat(150_000) });
      expect(ok.status).toBe(200);
      const files = await c.call('POST', url, { content: 'file', attachments: ['x'] });
      expect(files.status).toBe(422);
      expect(files.body.attributes).toEqual(['attachments']);
    });

    it('GET lists public messages only (no private notes, no activity), oldest first, 20 per `before` page', async () => {
      const cv = await c.conversation(inbox, s.source_id);
      const base = `${c.contactUrl(inbox, s.source_id)}/conversations/${cv.id}/messages`;
      for (let i = 1; i <= 23; i++) expect((await c.call('POST', base, { content: `m${i}` })).status).toBe(200);
      const note = await app.post(`/conversations/${cv.id}/messages`, { content: 'secret internal note', private: true });
      expect(note.status).toBe(200);
      const t = Date.now();
      await h.server.ctx.database.db
        .insertInto('messages')
        .values({
          account_id: accountId, inbox_id: inbox.id, conversation_id: (await h.server.ctx.database.db.selectFrom('conversations').select('id').where('account_id', '=', accountId).where('display_id', '=', cv.id).executeTakeFirstOrThrow()).id,
          content: 'Conversation was assigned (activity)', message_type: 2, content_type: 'text', content_attributes: '{}', additional_attributes: '{}',
          private: 0, status: 0, source_id: null, sender_type: null, sender_id: null, echo_id: null, created_at: t, updated_at: t,
        })
        .execute();
      const reply = await app.post(`/conversations/${cv.id}/messages`, { content: 'agent reply' });
      const page = await c.call('GET', base);
      expect(page.status).toBe(200);
      expect(page.body).toHaveLength(20);
      expect(page.text).not.toContain('secret internal note');
      expect(page.text).not.toContain('(activity)');
      expect(page.body.at(-1)).toMatchObject({ id: reply.body.id, message_type: 1, sender: { type: 'user' } });
      expect(page.body.at(-1).sender.email).toBeUndefined();
      const ids = page.body.map((m: { id: number }) => m.id);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      const older = await c.call('GET', `${base}?before=${ids[0]}`);
      expect(older.body.map((m: { content: string }) => m.content)).toEqual(['m1', 'm2', 'm3', 'm4']);
      const conv = await c.call('GET', `${c.contactUrl(inbox, s.source_id)}/conversations/${cv.id}`);
      expect(conv.text).not.toContain('secret internal note');
      expect(conv.body.messages).toHaveLength(24);
    });

    it('PATCH stores submitted_values of a form / input_select / input_csat message and records message.updated', async () => {
      const form = await app.post(`/conversations/${conv.id}/messages`, {
        content: 'Tell us more',
        content_type: 'form',
        content_attributes: { items: [{ name: 'email', label: 'Email', type: 'email' }] },
      });
      expect(form.status).toBe(200);
      const r = await c.call('PATCH', `${url}/${form.body.id}`, { submitted_values: [{ name: 'email', title: 'Email', value: 'dan@example.com' }] });
      expect(r.status).toBe(200);
      expect(r.body.content_attributes.submitted_values).toEqual([{ name: 'email', title: 'Email', value: 'dan@example.com' }]);
      expect(r.body.content_attributes.items).toHaveLength(1);
      const ev = (await eventsOf(h, 'message.updated')).at(-1)!;
      expect(ev.payload).toMatchObject({ message_id: form.body.id, performer: { type: 'contact', id: s.id } });

      const csat = await app.post(`/conversations/${conv.id}/messages`, { content: 'Rate us', content_type: 'input_csat' });
      const rated = await c.call('PATCH', `${url}/${csat.body.id}`, {
        submitted_values: [{ name: 'csat_survey_response', csat_survey_response: { rating: 5, feedback_message: 'great' } }],
      });
      expect(rated.status).toBe(200);
      const badRating = await c.call('PATCH', `${url}/${csat.body.id}`, { submitted_values: [{ csat_survey_response: { rating: 9 } }] });
      expect(badRating.status).toBe(422);

      const text = await app.post(`/conversations/${conv.id}/messages`, { content: 'plain' });
      expect((await c.call('PATCH', `${url}/${text.body.id}`, { submitted_values: [{ name: 'x', value: 'y' }] })).status).toBe(422);
      expect((await c.call('PATCH', `${url}/${form.body.id}`, {})).status).toBe(422);
      expect((await c.call('PATCH', `${url}/999999`, { submitted_values: [{ name: 'x' }] })).body).toEqual(NOT_FOUND);
    });
  });

  describe('404s and OpenAPI', () => {
    it('unknown inbox, source_id, conversation and message are 404 JSON', async () => {
      const s = await c.session(inbox);
      const conv = await c.conversation(inbox, s.source_id);
      const cases = [
        ['GET', '/public/api/v1/inboxes/nope'],
        ['POST', '/public/api/v1/inboxes/nope/contacts'],
        ['GET', `${c.base(inbox)}/contacts/unknown-source`],
        ['PATCH', `${c.base(inbox)}/contacts/unknown-source`],
        ['GET', `${c.base(inbox)}/contacts/unknown-source/conversations`],
        ['GET', `${c.contactUrl(inbox, s.source_id)}/conversations/987654`],
        ['POST', `${c.contactUrl(inbox, s.source_id)}/conversations/987654/messages`],
        ['GET', `${c.contactUrl(inbox, s.source_id)}/conversations/987654/messages`],
        ['POST', `${c.contactUrl(inbox, s.source_id)}/conversations/987654/toggle_status`],
        ['POST', `${c.contactUrl(inbox, s.source_id)}/conversations/987654/update_last_seen`],
        ['PATCH', `${c.contactUrl(inbox, s.source_id)}/conversations/${conv.id}/messages/987654`],
      ] as const;
      for (const [method, url] of cases) {
        const body = method === 'PATCH' && url.includes('/messages/') ? { submitted_values: [{ name: 'x' }] } : method === 'GET' ? undefined : { content: 'x' };
        const r = await c.call(method, url, body);
        expect(r.status, `${method} ${url}`).toBe(404);
        expect(r.body).toEqual(NOT_FOUND);
      }
      const typing = await c.call('POST', `${c.contactUrl(inbox, s.source_id)}/conversations/987654/toggle_typing`, { typing_status: 'on' });
      expect(typing.status).toBe(404);
    });

    it('malformed ids and bodies are 4xx JSON, never 500', async () => {
      const s = await c.session(inbox);
      const r = await c.call('GET', `${c.contactUrl(inbox, s.source_id)}/conversations/abc`);
      expect(r.status).toBe(404);
      expect(r.body).toEqual(NOT_FOUND);
      const bad = await c.call('POST', `${c.base(inbox)}/contacts`, '{"name":', { 'content-type': 'application/json' });
      expect(bad.status).toBe(400);
      const nul = await c.call('POST', `${c.base(inbox)}/contacts`, { name: 'a\u0000b' });
      expect(nul.status).toBe(422);
      const weird = await c.call('POST', `${c.base(inbox)}/contacts`, { custom_attributes: 'not json' });
      expect(weird.status).toBe(422);
      const huge = await c.call('POST', `${c.contactUrl(inbox, s.source_id)}/conversations`, { custom_attributes: { k: 'v'.repeat(1500) } });
      expect(huge.status).toBe(422);
    });

    it('documents every client route in the OpenAPI document, tagged Client API, without security', async () => {
      const doc = await h.api('GET', '/api-docs/json');
      const paths = Object.entries(doc.body.paths as Record<string, Record<string, { tags: string[]; security: unknown[] }>>).filter(([p]) =>
        p.startsWith('/public/'),
      );
      const ops = paths.flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => ({ p, m, op })));
      expect(ops.length).toBeGreaterThanOrEqual(14);
      for (const { op } of ops) {
        expect(op.tags).toEqual(['Client API']);
        expect(op.security).toEqual([]);
      }
      const keys = ops.map(({ p, m }) => `${m} ${p}`);
      for (const k of [
        'get /public/api/v1/inboxes/{inbox_identifier}',
        'post /public/api/v1/inboxes/{inbox_identifier}/contacts',
        'patch /public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}',
        'post /public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}/conversations/{conversation_id}/toggle_typing',
        'patch /public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}/conversations/{conversation_id}/messages/{message_id}',
      ]) {
        expect(keys).toContain(k);
      }
    });
  });

  it('no response leaked a token, a secret or another session’s pubsub_token', async () => {
    await c.scanForLeaks([admin.token, inbox.hmac_token, inbox.secret, hashOf(inbox.hmac_token, 'cleo')]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { counts, multipart, urlencoded } from './helpers.js';

const INBOX_KEYS = [
  'id', 'avatar_url', 'channel_id', 'name', 'channel_type', 'greeting_enabled', 'greeting_message', 'working_hours_enabled',
  'enable_email_collect', 'csat_survey_enabled', 'enable_auto_assignment', 'out_of_office_message', 'timezone',
  'allow_messages_after_resolved', 'lock_to_single_conversation', 'sender_name_type', 'business_name', 'webhook_url',
  'inbox_identifier', 'additional_attributes', 'provider',
];
const ADMIN_ONLY = ['hmac_token', 'secret', 'hmac_mandatory'];

describeEachDb('inboxes and inbox members', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect);
  });
  afterAll(() => h.close());

  const base = (accountId: number) => `/api/v1/accounts/${accountId}`;
  const events = (accountId: number) =>
    h.server.ctx.database.db.selectFrom('events').select(['name', 'payload']).where('account_id', '=', accountId).orderBy('id').execute();

  describe('API-channel inboxes', () => {
    it('creates an API inbox whose secrets only administrators see, and records inbox.created', async () => {
      const { accountId, admin } = await h.account();
      const r = await h.api('POST', `${base(accountId)}/inboxes`, {
        token: admin.token,
        body: {
          name: 'Support API',
          greeting_enabled: true,
          greeting_message: 'Hello!',
          timezone: 'Europe/Paris',
          sender_name_type: 'professional',
          channel: { type: 'api', webhook_url: 'https://example.com/hook', hmac_mandatory: true, additional_attributes: { agent_reply_time_window: 24 } },
        },
      });
      expect(r.status).toBe(200);
      for (const k of [...INBOX_KEYS, ...ADMIN_ONLY]) expect(r.body).toHaveProperty(k);
      expect(r.body).toMatchObject({
        name: 'Support API',
        channel_type: 'Channel::Api',
        webhook_url: 'https://example.com/hook',
        hmac_mandatory: true,
        greeting_enabled: true,
        greeting_message: 'Hello!',
        timezone: 'Europe/Paris',
        sender_name_type: 'professional',
        additional_attributes: { agent_reply_time_window: 24 },
        provider: null,
        enable_auto_assignment: true,
        allow_messages_after_resolved: true,
        lock_to_single_conversation: false,
      });
      expect(r.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(r.body.secret.slice(6), 'base64')).toHaveLength(32);
      expect(r.body.hmac_token).toBeTypeOf('string');
      expect(r.body.inbox_identifier).toBeTypeOf('string');
      expect(r.body.hmac_token).not.toBe(r.body.inbox_identifier);
      expect(await events(accountId)).toEqual([{ name: 'inbox.created', payload: JSON.stringify({ inbox_id: r.body.id }) }]);

      // the same inbox for a member agent: everything but the secrets
      const agent = await h.user(accountId);
      await h.api('POST', `${base(accountId)}/inbox_members`, { token: admin.token, body: { inbox_id: r.body.id, user_ids: [agent.id] } });
      const seen = await h.api('GET', `${base(accountId)}/inboxes/${r.body.id}`, { token: agent.token });
      expect(seen.status).toBe(200);
      for (const k of INBOX_KEYS) expect(seen.body).toHaveProperty(k);
      for (const k of ADMIN_ONLY) expect(seen.body).not.toHaveProperty(k);
      expect(seen.body.inbox_identifier).toBe(r.body.inbox_identifier);
      const list = await h.api('GET', `${base(accountId)}/inboxes`, { token: agent.token });
      for (const k of ADMIN_ONLY) expect(list.body.payload[0]).not.toHaveProperty(k);
      expect(JSON.stringify(list.body)).not.toContain(r.body.secret);
      const adminList = await h.api('GET', `${base(accountId)}/inboxes`, { token: admin.token });
      expect(adminList.body.payload[0].secret).toBe(r.body.secret);
    });

    it('accepts urlencoded and multipart bodies with strings for booleans', async () => {
      const { accountId, admin } = await h.account();
      const form = urlencoded({ name: 'Form', 'channel[type]': 'api', 'channel[hmac_mandatory]': 'true', greeting_enabled: 'false' });
      const a = await h.api('POST', `${base(accountId)}/inboxes`, { token: admin.token, body: form.body, headers: form.headers });
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ name: 'Form', hmac_mandatory: true, greeting_enabled: false, webhook_url: null });
      const mp = multipart({
        name: 'Multipart',
        'channel[type]': 'api',
        'channel[webhook_url]': 'http://example.org/cb',
        'channel[additional_attributes]': '{"k":"v"}',
        lock_to_single_conversation: 'true',
      });
      const b = await h.api('POST', `${base(accountId)}/inboxes`, { token: admin.token, body: mp.body, headers: mp.headers });
      expect(b.status).toBe(200);
      expect(b.body).toMatchObject({ name: 'Multipart', webhook_url: 'http://example.org/cb', additional_attributes: { k: 'v' }, lock_to_single_conversation: true });
      const patch = urlencoded({ 'channel[hmac_mandatory]': 'true', enable_auto_assignment: 'false' });
      const c = await h.api('PATCH', `${base(accountId)}/inboxes/${a.body.id}/`, { token: admin.token, body: patch.body, headers: patch.headers });
      expect(c.status).toBe(200);
      expect(c.body).toMatchObject({ hmac_mandatory: true, enable_auto_assignment: false });
    });

    it('refuses bad input with 422 and writes nothing', async () => {
      const { accountId, admin } = await h.account();
      const url = `${base(accountId)}/inboxes`;
      const before = await counts(h);
      const bad: unknown[] = [
        { name: 'X' },
        { name: 'X', channel: { type: 'web_widget' } },
        { name: 'X', channel: { type: 'email' } },
        { name: '', channel: { type: 'api' } },
        { name: '   ', channel: { type: 'api' } },
        { name: 'x'.repeat(256), channel: { type: 'api' } },
        { name: 'X', channel: { type: 'api', webhook_url: 'ftp://example.com/x' } },
        { name: 'X', channel: { type: 'api', webhook_url: 'not a url' } },
        { name: 'X', channel: { type: 'api', webhook_url: `https://example.com/${'a'.repeat(2048)}` } },
        { name: 'X', channel: { type: 'api', hmac_mandatory: 'maybe' } },
        { name: 'X', channel: { type: 'api', additional_attributes: { agent_reply_time_window: 0 } } },
        { name: 'X', channel: { type: 'api', additional_attributes: '[1,2]' } },
        { name: 'X', channel: { type: 'api' }, timezone: 'Mars/Olympus' },
        { name: 'X', channel: { type: 'api' }, greeting_message: 'x'.repeat(10_001) },
        { name: 'X', channel: { type: 'api' }, sender_name_type: 'rude' },
        { name: 'a\u0000b', channel: { type: 'api' } },
        [],
        JSON.stringify('just a string'),
      ];
      for (const body of bad) {
        const r = await h.api('POST', url, { token: admin.token, body });
        expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(422);
        expect(r.body.error ?? r.body.message).toBeTypeOf('string');
      }
      const unsupported = await h.api('POST', url, { token: admin.token, body: { name: 'X', channel: { type: 'email' } } });
      expect(unsupported.body).toMatchObject({ attributes: ['channel.type'] });
      expect(await counts(h)).toEqual(before);

      const inbox = await h.inbox(accountId);
      const mid = await counts(h);
      for (const body of [{ name: '' }, { channel: { webhook_url: 'javascript:alert(1)' } }, { timezone: 'Nowhere' }, { name: 'ok', channel: { webhook_url: 'ftp://x' } }]) {
        expect((await h.api('PATCH', `${url}/${inbox.id}`, { token: admin.token, body })).status).toBe(422);
      }
      expect(await counts(h)).toEqual(mid);
      expect((await h.api('GET', `${url}/${inbox.id}`, { token: admin.token })).body.name).toBe('API Channel');
      // A path id that is not one (or beyond an integer) names no inbox: 404, as in the reference.
      expect((await h.api('GET', `${url}/abc`, { token: admin.token })).status).toBe(404);
      expect((await h.api('GET', `${url}/99999999999`, { token: admin.token })).status).toBe(404);
      expect((await h.api('GET', `${url}/2147483647`, { token: admin.token })).status).toBe(404);
    });

    it('updates inbox fields and the channel, recording inbox.updated only for real changes', async () => {
      const { accountId, admin } = await h.account();
      const inbox = await h.inbox(accountId, { webhook_url: 'https://a.example/hook' });
      const url = `${base(accountId)}/inboxes/${inbox.id}`;
      const r = await h.api('PATCH', url, {
        token: admin.token,
        body: { name: 'Renamed', out_of_office_message: 'Away', channel: { webhook_url: '', hmac_mandatory: true, additional_attributes: { x: 1 } } },
      });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ name: 'Renamed', out_of_office_message: 'Away', webhook_url: null, hmac_mandatory: true, additional_attributes: { x: 1 } });
      expect(r.body.inbox_identifier).toBe(inbox.identifier);
      expect(r.body.hmac_token).toBe(inbox.hmac_token);
      expect(r.body.secret).toBe(inbox.secret);
      // identifier, hmac_token and secret cannot be set through the API
      const sneaky = await h.api('PATCH', url, { token: admin.token, body: { channel: { identifier: 'mine', hmac_token: 'mine', secret: 'whsec_x' } } });
      expect(sneaky.body).toMatchObject({ inbox_identifier: inbox.identifier, hmac_token: inbox.hmac_token, secret: inbox.secret });
      await h.api('PATCH', url, { token: admin.token, body: { name: 'Renamed' } });
      expect((await events(accountId)).map((e) => e.name)).toEqual(['inbox.updated']);
    });

    it('rotates the secret, keeping the old one as previous_secret', async () => {
      const { accountId, admin } = await h.account();
      const inbox = await h.inbox(accountId);
      const r = await h.api('POST', `${base(accountId)}/inboxes/${inbox.id}/reset_secret`, { token: admin.token });
      expect(r.status).toBe(200);
      expect(r.body.secret).toMatch(/^whsec_/);
      expect(r.body.secret).not.toBe(inbox.secret);
      expect(r.body.hmac_token).toBe(inbox.hmac_token);
      expect(r.body).not.toHaveProperty('previous_secret');
      const row = await h.server.ctx.database.db
        .selectFrom('channel_api')
        .select(['secret', 'previous_secret', 'secret_rotated_at'])
        .where('id', '=', inbox.channel_id)
        .executeTakeFirstOrThrow();
      expect(row.secret).toBe(r.body.secret);
      expect(row.previous_secret).toBe(inbox.secret);
      expect(Math.abs(Number(row.secret_rotated_at) - Date.now())).toBeLessThan(60_000);
      expect((await h.api('POST', `${base(accountId)}/inboxes/999999/reset_secret`, { token: admin.token })).status).toBe(404);
    });

    it('deletes an inbox with its channel and members', async () => {
      const { accountId, admin } = await h.account();
      const agent = await h.user(accountId);
      const inbox = await h.inbox(accountId, { members: [agent.id] });
      const r = await h.api('DELETE', `${base(accountId)}/inboxes/${inbox.id}`, { token: admin.token });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ message: 'Your inbox deletion request will be processed in some time.' });
      expect((await h.api('GET', `${base(accountId)}/inboxes/${inbox.id}`, { token: admin.token })).status).toBe(404);
      const db = h.server.ctx.database.db;
      expect(await db.selectFrom('channel_api').select('id').where('id', '=', inbox.channel_id).execute()).toEqual([]);
      expect(await db.selectFrom('inbox_members').select('id').where('inbox_id', '=', inbox.id).execute()).toEqual([]);
      expect((await h.api('DELETE', `${base(accountId)}/inboxes/${inbox.id}`, { token: admin.token })).status).toBe(404);
    });
  });

  describe('visibility and members', () => {
    it('agents see only their member inboxes; administrators see all', async () => {
      const { accountId, admin } = await h.account();
      const agent = await h.user(accountId);
      const mine = await h.inbox(accountId, { name: 'Mine', members: [agent.id] });
      const theirs = await h.inbox(accountId, { name: 'Theirs' });
      const list = await h.api('GET', `${base(accountId)}/inboxes`, { token: agent.token });
      expect(list.body.payload.map((i: { id: number }) => i.id)).toEqual([mine.id]);
      const not = await h.api('GET', `${base(accountId)}/inboxes/${theirs.id}`, { token: agent.token });
      expect(not.status).toBe(404);
      expect(not.body).toEqual({ error: 'Resource could not be found' });
      expect((await h.api('GET', `${base(accountId)}/inbox_members/${theirs.id}`, { token: agent.token })).status).toBe(404);
      const all = await h.api('GET', `${base(accountId)}/inboxes`, { token: admin.token });
      expect(all.body.payload.map((i: { id: number }) => i.id)).toEqual([mine.id, theirs.id]);
    });

    it('adds, replaces and removes members, answering with agent JSON', async () => {
      const { accountId, admin } = await h.account();
      const [a1, a2, a3] = [await h.user(accountId, { name: 'Ann' }), await h.user(accountId, { name: 'Bob' }), await h.user(accountId, { name: 'Cy' })];
      const inbox = await h.inbox(accountId);
      const url = `${base(accountId)}/inbox_members`;
      const ids = (r: { body: { payload: { id: number }[] } }) => r.body.payload.map((m) => m.id);

      const add = await h.api('POST', url, { token: admin.token, body: { inbox_id: inbox.id, user_ids: [a1.id, a2.id, a1.id] } });
      expect(add.status).toBe(200);
      expect(ids(add)).toEqual([a1.id, a2.id]);
      expect(add.body.payload[0]).toMatchObject({ id: a1.id, account_id: accountId, name: 'Ann', role: 'agent', email: a1.email, provider: 'email' });
      expect(add.body.payload[0]).not.toHaveProperty('pubsub_token');
      expect(add.body.payload[0]).not.toHaveProperty('access_token');
      const again = await h.api('POST', url, { token: admin.token, body: { inbox_id: String(inbox.id), user_ids: [String(a3.id)] } });
      expect(ids(again)).toEqual([a1.id, a2.id, a3.id]);

      const replace = await h.api('PATCH', url, { token: admin.token, body: { inbox_id: inbox.id, user_ids: [a3.id, admin.id] } });
      expect(replace.status).toBe(200);
      expect(ids(replace).sort()).toEqual([a3.id, admin.id].sort());

      const remove = await h.api('DELETE', url, { token: admin.token, body: { inbox_id: inbox.id, user_ids: [a3.id] } });
      expect(remove.status).toBe(200);
      const show = await h.api('GET', `${url}/${inbox.id}`, { token: admin.token });
      expect(ids(show)).toEqual([admin.id]);

      const form = urlencoded({ inbox_id: String(inbox.id), 'user_ids[]': String(a1.id) });
      const viaForm = await h.api('POST', url, { token: admin.token, body: form.body, headers: form.headers });
      expect(ids(viaForm).sort()).toEqual([a1.id, admin.id].sort());
      // the new member agent can now read the inbox and its members
      expect((await h.api('GET', `${url}/${inbox.id}`, { token: a1.token })).status).toBe(200);

      const emptied = await h.api('PATCH', url, { token: admin.token, body: { inbox_id: inbox.id, user_ids: [] } });
      expect(emptied.body.payload).toEqual([]);
    });

    it('refuses unknown users and malformed member bodies, writing nothing', async () => {
      const { accountId, admin } = await h.account();
      const agent = await h.user(accountId);
      const inbox = await h.inbox(accountId, { members: [agent.id] });
      const url = `${base(accountId)}/inbox_members`;
      const before = await counts(h);
      for (const body of [
        { inbox_id: inbox.id, user_ids: [agent.id, 2_000_000_000] },
        { inbox_id: inbox.id },
        { user_ids: [agent.id] },
        { inbox_id: inbox.id, user_ids: ['abc'] },
        { inbox_id: inbox.id, user_ids: [99_999_999_999] },
      ]) {
        for (const method of ['POST', 'PATCH', 'DELETE']) {
          const r = await h.api(method, url, { token: admin.token, body });
          expect(r.status, `${method} ${JSON.stringify(body)}`).toBe(422);
        }
      }
      expect(await counts(h)).toEqual(before);
      expect((await h.api('POST', url, { token: admin.token, body: { inbox_id: 2_000_000_000, user_ids: [agent.id] } })).status).toBe(404);
    });
  });
});

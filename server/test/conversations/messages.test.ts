import { describe, expect, it } from 'vitest';
import { describeEachDb, type TestServer } from '../support/harness.js';
import { counts, createContact, createConversation, eventsSince, expectSeedShape, lastEventId, postMessage, scene, useScene, type Scene } from '../support/conversations.js';

describeEachDb('messages API', (dialect) => {
  let h: TestServer;
  let s: Scene;
  useScene(dialect, (started) => ({ h, s } = started));

  describe('create', () => {
    it('creates an incoming message as the contact, with every seed key and type', async () => {
      const { contact, sourceId } = await createContact(h, s, { name: 'Contact' });
      const conv = await createConversation(h, s, { source_id: sourceId });
      const before = await lastEventId(h);
      const r = await postMessage(h, s, conv.id, { content: 'This is an incoming message from API Channel', message_type: 'incoming' });
      expect(r.status).toBe(200);
      expectSeedShape(r.body);
      expect(r.body).toMatchObject({
        content: 'This is an incoming message from API Channel',
        inbox_id: s.inbox.id,
        conversation_id: conv.id,
        message_type: 0,
        content_type: null,
        content_attributes: {},
        private: false,
        status: 'sent',
        source_id: null,
        sender: { id: contact.id, name: 'Contact', type: 'contact' },
      });
      expect(Number.isInteger(r.body.created_at)).toBe(true);
      expect(r.body).not.toHaveProperty('echo_id');
      const evs = await eventsSince(h, before);
      expect(evs.map((e) => e.name)).toEqual(['message.created']);
      expect(evs[0].payload).toMatchObject({ message_id: r.body.id });
      expect(evs[0].payload).not.toHaveProperty('echo_id');
      const show = await h.api('GET', `${s.base}/contacts/${contact.id}`, { token: s.admin.token });
      expect(typeof show.body.payload.last_activity_at).toBe('number');
    });

    it('creates outgoing messages (default) as the token user, private notes, echo_id, JSON-string content_attributes', async () => {
      const conv = await createConversation(h, s);
      const out = await postMessage(h, s, conv.id, { content: 'Hi, how can we help?', echo_id: 'tmp-1' });
      expect(out.status).toBe(200);
      expect(out.body).toMatchObject({ message_type: 1, echo_id: 'tmp-1', sender: { id: s.admin.id, type: 'user', name: 'Admin' } });
      const note = await postMessage(h, s, conv.id, { content: 'internal', private: 'true', message_type: 1 });
      expect(note.body).toMatchObject({ private: true, message_type: 1 });
      const cards = await postMessage(h, s, conv.id, {
        content: 'Pick one',
        content_type: 'input_select',
        content_attributes: JSON.stringify({ items: [{ title: 'A', value: 'a' }] }),
      });
      expect(cards.status).toBe(200);
      expect(cards.body).toMatchObject({ content_type: 'input_select', content_attributes: { items: [{ title: 'A', value: 'a' }] } });
      const evs = await eventsSince(h, 0);
      expect(evs.find((e) => e.name === 'message.created' && e.payload.message_id === out.body.id)?.payload.echo_id).toBe('tmp-1');
      const shown = await h.api('GET', `${s.base}/conversations/${conv.id}`, { token: s.admin.token });
      expect(shown.body.first_reply_created_at).toBeGreaterThan(0);
      expect(shown.body.waiting_since).toBe(0);
    });

    it('refuses bad input with a clear 422 and writes nothing', async () => {
      const conv = await createConversation(h, s);
      const before = await counts(h);
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ content: 'x'.repeat(150_001) }, /maximum is 150000/],
        [{ content: 'x', message_type: 'activity' }, /message_type must be incoming or outgoing/],
        [{ content: 'x', message_type: 'incoming', private: true }, /cannot be private/],
        [{ content: '' }, /can't be blank/],
        [{ content: 'x', content_type: 'hologram' }, /content_type must be one of/],
        [{ content: 'x', content_type: 'cards', content_attributes: {} }, /items/],
        [{ content: 'x', content_attributes: '[1,2]' }, /content_attributes/],
        [{ content: 'nul \u0000 byte' }, /content/],
        [{ content: 'x', source_id: 's'.repeat(256) }, /source_id/],
      ];
      for (const [body, re] of cases) {
        const r = await postMessage(h, s, conv.id, body);
        expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(422);
        expect(r.body.error).toMatch(re);
      }
      expect(await counts(h)).toEqual(before);
      expect((await postMessage(h, s, conv.id, { content: 'x'.repeat(150_000) })).status).toBe(200);
    });

    it('only API inboxes take incoming messages', async () => {
      const conv = await createConversation(h, s);
      await h.server.ctx.database.db.updateTable('inboxes').set({ channel_type: 'Channel::WebWidget' }).where('id', '=', s.inbox.id).execute();
      try {
        const r = await postMessage(h, s, conv.id, { content: 'x', message_type: 'incoming' });
        expect(r.status).toBe(422);
        expect(r.body.error).toBe('Incoming messages are only allowed in Api inboxes');
        const status = await h.api('PATCH', `${s.base}/conversations/${conv.id}/messages/1`, { token: s.admin.token, body: { status: 'read' } });
        expect(status.status).toBe(403);
      } finally {
        await h.server.ctx.database.db.updateTable('inboxes').set({ channel_type: 'Channel::Api' }).where('id', '=', s.inbox.id).execute();
      }
    });

    it('reopens a resolved or snoozed conversation on an incoming message (not on an outgoing one)', async () => {
      const conv = await createConversation(h, s);
      const toggle = (body: object) => h.api('POST', `${s.base}/conversations/${conv.id}/toggle_status`, { token: s.admin.token, body });
      await toggle({ status: 'resolved' });
      await postMessage(h, s, conv.id, { content: 'agent follow-up' });
      expect((await h.api('GET', `${s.base}/conversations/${conv.id}`, { token: s.admin.token })).body.status).toBe('resolved');
      const before = await lastEventId(h);
      await postMessage(h, s, conv.id, { content: 'customer is back', message_type: 'incoming' });
      expect((await h.api('GET', `${s.base}/conversations/${conv.id}`, { token: s.admin.token })).body.status).toBe('open');
      const evs = await eventsSince(h, before);
      // The reopening's activity line ("System reopened the conversation …") comes with the change's events, before the message's own.
      expect(evs.map((e) => e.name)).toEqual(['conversation.status_changed', 'conversation.updated', 'message.created', 'message.created']);
      expect(evs[0].payload.performer.type).toBe('contact');
      expect(evs[1].payload.changed_attributes[0]).toEqual({ status: { previous_value: 'resolved', current_value: 'open' } });

      await toggle({ status: 'snoozed', snoozed_until: Math.floor(Date.now() / 1000) + 600 });
      await postMessage(h, s, conv.id, { content: 'still there?', message_type: 'incoming' });
      const shown = await h.api('GET', `${s.base}/conversations/${conv.id}`, { token: s.admin.token });
      expect(shown.body).toMatchObject({ status: 'open', snoozed_until: null });
      await toggle({ status: 'pending' });
      await postMessage(h, s, conv.id, { content: 'pending stays', message_type: 'incoming' });
      expect((await h.api('GET', `${s.base}/conversations/${conv.id}`, { token: s.admin.token })).body.status).toBe('pending');
    });
  });

  describe('idempotent ingestion', () => {
    it('a retried incoming message with the same source_id returns the existing one: one row, one event', async () => {
      const conv = await createConversation(h, s);
      const body = { content: 'only once', message_type: 'incoming', source_id: 'wamid.123' };
      const first = await postMessage(h, s, conv.id, body);
      const before = await counts(h);
      const again = await postMessage(h, s, conv.id, body);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(await counts(h)).toEqual(before);
      // The same source_id as an outgoing message, or in another inbox, is a different message.
      expect((await postMessage(h, s, conv.id, { ...body, message_type: 'outgoing' })).body.id).not.toBe(first.body.id);
      const other = await scene(h);
      const otherConv = await createConversation(h, other);
      expect((await postMessage(h, other, otherConv.id, body)).status).toBe(200);
    });

    it('concurrent duplicates race to one message', async () => {
      const conv = await createConversation(h, s);
      const body = { content: 'race', message_type: 'incoming', source_id: 'race-1' };
      const before = await counts(h);
      const results = await Promise.all(Array.from({ length: 8 }, () => postMessage(h, s, conv.id, body)));
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
      expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
      const after = await counts(h);
      expect(after.messages).toBe(before.messages + 1);
      const created = (await eventsSince(h, 0)).filter((e) => e.name === 'message.created' && e.payload.message_id === results[0].body.id);
      expect(created).toHaveLength(1);
    });
  });

  describe('list, status, delete', () => {
    it('pages by id: latest 20, before (20), after (100), both (up to 1000), filter_internal_messages', async () => {
      const conv = await createConversation(h, s);
      const ids: number[] = [];
      for (let i = 0; i < 25; i++) ids.push((await postMessage(h, s, conv.id, { content: `m${i}`, message_type: i % 2 ? 'outgoing' : 'incoming' })).body.id);
      await postMessage(h, s, conv.id, { content: 'note', private: true });
      const url = `${s.base}/conversations/${conv.id}/messages`;
      const latest = await h.api('GET', url, { token: s.admin.token });
      expect(latest.status).toBe(200);
      expect(latest.body.payload).toHaveLength(20);
      expect(latest.body.payload[19].content).toBe('note');
      expect(latest.body.payload[0].id).toBe(ids[6]);
      expect(latest.body.meta).toMatchObject({ labels: [], additional_attributes: {}, contact: { type: 'contact' }, agent_last_seen_at: null });
      const before = await h.api('GET', `${url}?before=${ids[6]}`, { token: s.admin.token });
      expect(before.body.payload.map((m: any) => m.id)).toEqual(ids.slice(0, 6));
      const after = await h.api('GET', `${url}?after=${ids[20]}`, { token: s.admin.token });
      expect(after.body.payload.map((m: any) => m.content)).toEqual(['m21', 'm22', 'm23', 'm24', 'note']);
      const between = await h.api('GET', `${url}?after=${ids[2]}&before=${ids[5]}`, { token: s.admin.token });
      expect(between.body.payload.map((m: any) => m.id)).toEqual(ids.slice(2, 5));
      const publicOnly = await h.api('GET', `${url}?after=${ids[20]}&filter_internal_messages=true`, { token: s.admin.token });
      expect(publicOnly.body.payload.map((m: any) => m.content)).toEqual(['m21', 'm22', 'm23', 'm24']);
      for (const m of latest.body.payload) expectSeedShape(m.private ? { ...m, private: false } : m);
      expect((await h.api('GET', `${url}?before=99999999999999`, { token: s.admin.token })).status).toBe(422);
    });

    it('updates delivery status (read → delivered ignored; external_error only when failed)', async () => {
      const conv = await createConversation(h, s);
      const m = (await postMessage(h, s, conv.id, { content: 'out' })).body;
      const url = `${s.base}/conversations/${conv.id}/messages/${m.id}`;
      const before = await lastEventId(h);
      const delivered = await h.api('PATCH', url, { token: s.admin.token, body: { status: 'delivered', external_error: 'ignored' } });
      expect(delivered.status).toBe(200);
      expect(delivered.body).toMatchObject({ id: m.id, status: 'delivered', content_attributes: {} });
      const read = await h.api('PATCH', url, { token: s.admin.token, body: { status: 'read' } });
      expect(read.body.status).toBe('read');
      const back = await h.api('PATCH', url, { token: s.admin.token, body: { status: 'delivered' } });
      expect(back.status).toBe(200);
      expect(back.body.status).toBe('read');
      const unknown = await h.api('PATCH', url, { token: s.admin.token, body: { status: 'teleported' } });
      expect(unknown.status).toBe(200);
      expect(unknown.body.status).toBe('read');
      const failed = await h.api('PATCH', url, { token: s.admin.token, body: { status: 'failed', external_error: '401 Unauthorized' } });
      expect(failed.body).toMatchObject({ status: 'failed', content_attributes: { external_error: '401 Unauthorized' } });
      const sent = await h.api('PATCH', url, { token: s.admin.token, body: { status: 'sent' } });
      expect(sent.body).toMatchObject({ status: 'sent', content_attributes: {} });
      const evs = await eventsSince(h, before);
      expect(evs.map((e) => e.payload.previous_changes.status)).toEqual([
        ['sent', 'delivered'],
        ['delivered', 'read'],
        ['read', 'failed'],
        ['failed', 'sent'],
      ]);
      expect(evs.every((e) => e.name === 'message.updated')).toBe(true);
      expect((await h.api('PATCH', `${s.base}/conversations/${conv.id}/messages/999999`, { token: s.admin.token, body: { status: 'read' } })).status).toBe(404);
    });

    it('soft-deletes a message and returns it', async () => {
      const conv = await createConversation(h, s);
      const m = (await postMessage(h, s, conv.id, { content: 'secret', content_attributes: { a: 1 } })).body;
      const before = await lastEventId(h);
      const r = await h.api('DELETE', `${s.base}/conversations/${conv.id}/messages/${m.id}`, { token: s.admin.token });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: m.id, content: 'This message was deleted', content_attributes: { a: 1, deleted: true } });
      const evs = await eventsSince(h, before);
      expect(evs.map((e) => e.name)).toEqual(['message.updated']);
      expect(JSON.stringify(evs[0].payload)).not.toContain('secret');
      const other = await createConversation(h, s);
      expect((await h.api('DELETE', `${s.base}/conversations/${other.id}/messages/${m.id}`, { token: s.admin.token })).status).toBe(404);
    });
  });

  describe('transactions', () => {
    it('a request that fails midway writes neither its rows nor its events', async () => {
      const conv = await createConversation(h, s);
      const db = h.server.ctx.database.db;
      const before = await counts(h);
      // Make the event insert fail after the message row was written in the same transaction.
      const realEvents = h.server.ctx.events;
      h.server.ctx.events = async (trx, accountId, name, payload) => {
        if (name === 'message.created') throw new Error('simulated outbox failure');
        return realEvents(trx, accountId, name, payload);
      };
      try {
        const r = await postMessage(h, s, conv.id, { content: 'lost', message_type: 'incoming' });
        expect(r.status).toBe(500);
      } finally {
        h.server.ctx.events = realEvents;
      }
      expect(await counts(h)).toEqual(before);
      const row = await db.selectFrom('conversations').select('last_activity_at').where('account_id', '=', s.accountId).where('display_id', '=', conv.id).executeTakeFirstOrThrow();
      expect(Math.floor(Number(row.last_activity_at) / 1000)).toBe(conv.last_activity_at);
    });
  });
});

import { expect, it } from 'vitest';
import { describeEachDb, type TestServer } from '../support/harness.js';
import { counts, createConversation, useScene, type Scene } from '../support/conversations.js';
import { IDEMPOTENCY_TTL_MS, requestHash } from '../../src/kernel/idempotency.js';

describeEachDb('Idempotency-Key on POST routes', (dialect) => {
  let h: TestServer;
  let s: Scene;
  useScene(dialect, (started) => ({ h, s } = started));

  const post = (url: string, body: unknown, key?: string, token = s.admin.token) =>
    h.api('POST', url, { token, body, headers: key ? { 'idempotency-key': key } : {} });

  it('replays the first response for the same key and body, creating one message', async () => {
    const conv = await createConversation(h, s);
    const url = `${s.base}/conversations/${conv.id}/messages`;
    const first = await post(url, { content: 'pay me', message_type: 'outgoing' }, 'k-1');
    expect(first.status).toBe(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const before = await counts(h);
    // Same body with keys in another order: the canonical body is the same.
    const again = await post(url, { message_type: 'outgoing', content: 'pay me' }, 'k-1');
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await counts(h)).toEqual(before);
  });

  it('refuses the same key with another body (422), and keeps keys apart per user and per path', async () => {
    const conv = await createConversation(h, s);
    const url = `${s.base}/conversations/${conv.id}/messages`;
    await post(url, { content: 'one' }, 'k-2');
    const before = await counts(h);
    const other = await post(url, { content: 'two' }, 'k-2');
    expect(other.status).toBe(422);
    expect(other.body.error).toMatch(/Idempotency-Key was already used with a different request/);
    expect(other.body.attributes).toEqual(['Idempotency-Key']);
    const conv2 = await createConversation(h, s);
    const otherPath = await post(`${s.base}/conversations/${conv2.id}/messages`, { content: 'one' }, 'k-2');
    expect(otherPath.status).toBe(422);
    expect(await counts(h)).toEqual({ ...before, conversations: before.conversations + 1, contacts: before.contacts + 1, contact_inboxes: before.contact_inboxes + 1, events: before.events + 2 });
    const admin2 = await h.user(s.accountId, { role: 'administrator' });
    const byOther = await post(url, { content: 'two' }, 'k-2', admin2.token);
    expect(byOther.status).toBe(200);
    expect(byOther.headers['idempotent-replayed']).toBeUndefined();
  });

  it('answers 409 while the first request with the key is in flight; exactly one wins under concurrency', async () => {
    const conv = await createConversation(h, s);
    const url = `${s.base}/conversations/${conv.id}/messages`;
    const body = { content: 'slow' };
    await h.server.ctx.database.db
      .insertInto('idempotency_keys')
      .values({ account_id: s.accountId, scope: `user:${s.admin.id}`, key: 'k-busy', request_hash: requestHash('POST', url, body), status_code: null, response_body: null, created_at: Date.now() })
      .execute();
    const busy = await post(url, body, 'k-busy');
    expect(busy.status).toBe(409);
    expect(busy.body.error).toMatch(/still being processed/);

    const before = await counts(h);
    const results = await Promise.all(Array.from({ length: 6 }, () => post(url, { content: 'burst' }, 'k-burst')));
    const statuses = results.map((r) => r.status);
    expect(statuses.every((st) => st === 200 || st === 409)).toBe(true);
    const ok = results.filter((r) => r.status === 200);
    expect(new Set(ok.map((r) => r.body.id)).size).toBe(1);
    expect((await counts(h)).messages).toBe(before.messages + 1);
  });

  it('takes over a key abandoned by a crashed request, and forgets keys after 24 h', async () => {
    const conv = await createConversation(h, s);
    const url = `${s.base}/conversations/${conv.id}/messages`;
    const db = h.server.ctx.database.db;
    await db
      .insertInto('idempotency_keys')
      .values({ account_id: s.accountId, scope: `user:${s.admin.id}`, key: 'k-stale', request_hash: requestHash('POST', url, { content: 'x' }), status_code: null, response_body: null, created_at: Date.now() - 120_000 })
      .execute();
    expect((await post(url, { content: 'x' }, 'k-stale')).status).toBe(200);
    const first = await post(url, { content: 'old' }, 'k-old');
    await db.updateTable('idempotency_keys').set({ created_at: Date.now() - IDEMPOTENCY_TTL_MS - 1000 }).where('key', '=', 'k-old').execute();
    const fresh = await post(url, { content: 'new body is fine now' }, 'k-old');
    expect(fresh.status).toBe(200);
    expect(fresh.body.id).not.toBe(first.body.id);
  });

  it('records 422s (replayed) but releases other failures so a retry can succeed', async () => {
    const conv = await createConversation(h, s);
    const url = `${s.base}/conversations/${conv.id}/messages`;
    const invalid = await post(url, { content: '' }, 'k-invalid');
    expect(invalid.status).toBe(422);
    const replay = await post(url, { content: '' }, 'k-invalid');
    expect(replay.status).toBe(422);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(invalid.body);
    const missing = await post(`${s.base}/conversations/99999/messages`, { content: 'x' }, 'k-404');
    expect(missing.status).toBe(404);
    const rows = await h.server.ctx.database.db.selectFrom('idempotency_keys').select('key').where('key', '=', 'k-404').execute();
    expect(rows).toEqual([]);
    const unauth = await post(url, { content: 'x' }, 'k-unauth', 'bad-token');
    expect(unauth.status).toBe(401);
    expect((await post(url, { content: 'x' }, 'k-long'.repeat(60))).status).toBe(422);
  });

  it('works on every POST route: contacts, conversations, statuses, labels, contact inboxes', async () => {
    const before = await counts(h);
    const c1 = await post(`${s.base}/contacts`, { name: 'Once', inbox_id: s.inbox.id }, 'k-contact');
    const c2 = await post(`${s.base}/contacts`, { name: 'Once', inbox_id: s.inbox.id }, 'k-contact');
    expect(c2.body).toEqual(c1.body);
    const conv1 = await post(`${s.base}/conversations`, { source_id: c1.body.payload.contact_inbox.source_id }, 'k-conv');
    const conv2 = await post(`${s.base}/conversations`, { source_id: c1.body.payload.contact_inbox.source_id }, 'k-conv');
    expect(conv2.body.id).toBe(conv1.body.id);
    const after = await counts(h);
    expect(after.contacts).toBe(before.contacts + 1);
    expect(after.conversations).toBe(before.conversations + 1);
    const t1 = await post(`${s.base}/conversations/${conv1.body.id}/toggle_status`, {}, 'k-toggle');
    const t2 = await post(`${s.base}/conversations/${conv1.body.id}/toggle_status`, {}, 'k-toggle');
    expect(t1.body.payload.current_status).toBe('resolved');
    expect(t2.body.payload.current_status).toBe('resolved'); // replayed, not toggled back
    const shown = await h.api('GET', `${s.base}/conversations/${conv1.body.id}`, { token: s.admin.token });
    expect(shown.body.status).toBe('resolved');
    const empty = await post(`${s.base}/conversations/${conv1.body.id}/toggle_priority`, { priority: 'high' }, 'k-prio');
    const emptyAgain = await post(`${s.base}/conversations/${conv1.body.id}/toggle_priority`, { priority: 'high' }, 'k-prio');
    expect([empty.status, emptyAgain.status, emptyAgain.text]).toEqual([200, 200, '']);
    const ci = await post(`${s.base}/contacts/${c1.body.payload.contact.id}/contact_inboxes`, { inbox_id: s.inbox.id }, 'k-ci');
    const ciAgain = await post(`${s.base}/contacts/${c1.body.payload.contact.id}/contact_inboxes`, { inbox_id: s.inbox.id }, 'k-ci');
    expect(ciAgain.body.source_id).toBe(ci.body.source_id);
  });
});

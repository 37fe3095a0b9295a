import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, NO_RATE_LIMITS, startTestServer, type TestServer } from '../support/harness.js';

/**
 * Message creates go through the SQLite group commit (database.grouped): concurrent creates share a
 * COMMIT, and a member that fails (here the loser of a source_id race) takes nobody's write with it.
 */
describeEachDb('message create group commit', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect, NO_RATE_LIMITS);
  });
  afterAll(async () => h?.close());

  it('a burst with a source_id race: every create answered once, one message per source_id, counters right', async () => {
    const { accountId, admin } = await h.account();
    const inbox = await h.inbox(accountId);
    const base = `/api/v1/accounts/${accountId}`;
    const contact = await h.api('POST', `${base}/contacts`, { token: admin.token, body: { inbox_id: inbox.id, name: 'Grouped' } });
    const conv = await h.api('POST', `${base}/conversations`, { token: admin.token, body: { source_id: contact.body.payload.contact_inbox.source_id } });
    const create = (body: object) => h.api('POST', `${base}/conversations/${conv.body.id}/messages`, { token: admin.token, body });

    // A burst: the creates of one turn share commits.
    const before = { ...h.server.ctx.database.groupStats };
    const plain = await Promise.all(Array.from({ length: 30 }, (_, i) => create({ content: `p${i}`, message_type: 'incoming' })));
    expect(plain.map((r) => r.status)).toEqual(plain.map(() => 200));
    const after = { ...h.server.ctx.database.groupStats };
    if (dialect === 'sqlite') {
      expect(after.members - before.members).toBe(30);
      expect(after.groups - before.groups).toBeLessThan(30);
    } else {
      expect(after.groups).toBe(0); // PostgreSQL: a transaction each
    }

    // A burst with a race on one source_id: the losers get the winner's message, nobody else loses a write.
    const bodies = Array.from({ length: 40 }, (_, i) =>
      i % 4 === 0 ? { content: 'the same one', message_type: 'incoming', source_id: 'ext-1' } : { content: `m${i}`, message_type: 'incoming', source_id: `ext-u${i}` },
    );
    const res = await Promise.all(bodies.map((body) => create(body)));
    expect(res.map((r) => r.status)).toEqual(bodies.map(() => 200));
    const raced = res.filter((_, i) => i % 4 === 0).map((r) => r.body.id);
    expect(new Set(raced).size).toBe(1);

    const rows = await h.server.ctx.database.db.selectFrom('messages').select('content').where('conversation_id', '=', conv.body.id).execute();
    const contents = rows.map((m) => m.content as string);
    expect(contents.filter((c) => c === 'the same one')).toHaveLength(1);
    expect(contents.filter((c) => /^m\d+$/.test(c)).sort()).toEqual(bodies.filter((b) => b.content !== 'the same one').map((b) => b.content).sort());
    expect(contents.filter((c) => /^p\d+$/.test(c))).toHaveLength(30);
    const shown = await h.api('GET', `${base}/conversations/${conv.body.id}`, { token: admin.token });
    expect(shown.body.unread_count).toBe(61);
  });
});

import { expect, it } from 'vitest';
import { describeEachDb, type TestServer } from '../support/harness.js';
import { createConversation, postMessage, useScene, type Scene } from '../support/conversations.js';
import { backfillUnreadCounts } from '../../src/kernel/migrations/0008_unread_counter.js';

/** unread_count is a counter kept by the writes (migration 0008); it always equals what counting the messages gives. */
describeEachDb('unread counter', (dialect) => {
  let h: TestServer;
  let s: Scene;
  useScene(dialect, (started) => ({ h, s } = started));

  const unread = async (id: number) => (await h.api('GET', `${s.base}/conversations/${id}`, { token: s.admin.token })).body.unread_count as number;
  const inboxUnread = async () => (await h.api('GET', `${s.base}/conversations/meta`, { token: s.admin.token })).body.meta.inboxes.find((i: any) => i.inbox_id === s.inbox.id).unread_count as number;

  it('counts incoming messages after the last visit through every write, and the backfill computes the same', async () => {
    const conv = await createConversation(h, s);
    for (const content of ['one', 'two', 'three']) expect((await postMessage(h, s, conv.id, { content, message_type: 'incoming' })).status).toBe(200);
    expect((await postMessage(h, s, conv.id, { content: 'a reply' })).status).toBe(200); // outgoing: not unread
    expect(await unread(conv.id)).toBe(3);
    expect(await inboxUnread()).toBe(1);
    expect((await h.api('POST', `${s.base}/conversations/${conv.id}/update_last_seen`, { token: s.admin.token })).status).toBe(200);
    expect(await unread(conv.id)).toBe(0);
    expect(await inboxUnread()).toBe(0);
    await postMessage(h, s, conv.id, { content: 'four', message_type: 'incoming' });
    expect(await unread(conv.id)).toBe(1);
    expect((await h.api('POST', `${s.base}/conversations/${conv.id}/update_last_seen`, { token: s.admin.token })).status).toBe(200);
    expect((await h.api('POST', `${s.base}/conversations/${conv.id}/unread`, { token: s.admin.token })).status).toBe(200);
    expect(await unread(conv.id)).toBe(1); // the last incoming message is unread again
    // The migration's backfill, run over the same data, agrees with the counter.
    const db = h.server.ctx.database.db;
    const before = await db.selectFrom('conversations').select(['id', 'unread_count']).where('account_id', '=', s.accountId).orderBy('id').execute();
    await db.updateTable('conversations').set({ unread_count: 99 }).where('account_id', '=', s.accountId).execute();
    await backfillUnreadCounts(db as never);
    expect(await db.selectFrom('conversations').select(['id', 'unread_count']).where('account_id', '=', s.accountId).orderBy('id').execute()).toEqual(before);
  });
});

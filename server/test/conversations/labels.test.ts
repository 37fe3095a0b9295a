import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, NO_RATE_LIMITS, startTestServer, type TestServer, type TestUser } from '../support/harness.js';
import { apiContact, apiConversation } from '../realtime/cable.js';

/**
 * Account labels (issue 12): CRUD with the reference's title rules (letters, digits, - and _;
 * lowercased; unique per account), color #RRGGBB, show_on_sidebar; administrators write, members
 * read. Conversation labels stay strings and keep working; a rename follows on conversations and
 * contacts; the `labels` list filter; `meta.labels` of /conversations/meta (ChannelX extension).
 */
describeEachDb('account labels', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let grace: TestUser; // administrator
  let ada: TestUser; // agent, member of inbox A only
  let inboxA: Awaited<ReturnType<TestServer['inbox']>>;
  let inboxB: Awaited<ReturnType<TestServer['inbox']>>;

  beforeAll(async () => {
    h = await startTestServer(dialect, NO_RATE_LIMITS);
    ({ accountId } = await h.account());
    grace = await h.user(accountId, { name: 'Grace Hopper', role: 'administrator' });
    ada = await h.user(accountId, { name: 'Ada Lovelace' });
    inboxA = await h.inbox(accountId, { name: 'A', members: [ada.id] });
    inboxB = await h.inbox(accountId, { name: 'B' });
  });
  afterAll(() => h?.close());

  const base = () => `/api/v1/accounts/${accountId}`;
  const api = (method: string, path: string, token: string, body?: unknown) => h.api(method, `${base()}${path}`, { token, body });
  async function label(title: string, extra: Record<string, unknown> = {}) {
    const r = await api('POST', '/labels', grace.token, { label: { title, ...extra } });
    expect(r.status, r.text).toBe(200);
    return r.body as { id: number; title: string };
  }
  async function conversation(inboxId: number, labels: string[] = []) {
    const contact = await apiContact(h, grace.token, accountId, inboxId, 'Jane');
    const conv = await apiConversation(h, grace.token, accountId, inboxId, contact);
    if (labels.length) expect((await api('POST', `/conversations/${conv.displayId}/labels`, grace.token, { labels })).status).toBe(200);
    return { ...conv, contactId: contact.contactId };
  }

  it('CRUD: title rules, color, show_on_sidebar; unique whatever the case; administrators write, agents read (401 on writes)', async () => {
    const created = await api('POST', '/labels', grace.token, { label: { title: 'Billing-Issue_2', description: 'Money', color: '#FF0000', show_on_sidebar: true } });
    expect(created.status, created.text).toBe(200);
    expect(created.body).toEqual({ id: expect.any(Number), title: 'billing-issue_2', description: 'Money', color: '#ff0000', show_on_sidebar: true });
    const id = created.body.id;
    // Unwrapped, with defaults; unicode letters are letters.
    const plain = await api('POST', '/labels', grace.token, { title: 'Überfällig' });
    expect(plain.body).toEqual({ id: expect.any(Number), title: 'überfällig', description: null, color: '#1f93ff', show_on_sidebar: false });

    for (const [body, attr] of [
      [{ title: 'BILLING-issue_2' }, 'title'],
      [{ title: 'two words' }, 'title'],
      [{ title: 'semi;colon' }, 'title'],
      [{ title: '' }, 'title'],
      [{}, 'title'],
      [{ title: 'x'.repeat(256) }, 'title'],
      [{ title: 'colored', color: 'red' }, 'color'],
      [{ title: 'colored', color: '#12345' }, 'color'],
      [{ title: 'colored', color: '#1234567' }, 'color'],
    ] as const) {
      const r = await api('POST', '/labels', grace.token, { label: body });
      expect(r.status, JSON.stringify(body)).toBe(422);
      // Schema errors name the field by its path in the body (label.title).
      expect(r.body.attributes, JSON.stringify(body)).toEqual([expect.stringMatching(new RegExp(`(^|\\.)${attr}$`))]);
    }
    expect((await api('POST', '/labels', grace.token, { label: { title: 'BILLING-issue_2' } })).body).toMatchObject({ message: 'Title has already been taken', attributes: ['title'] });

    // Agents read the list ({payload}, by title) and one label; writes are a 401.
    const list = await api('GET', '/labels', ada.token);
    expect(list.status).toBe(200);
    expect(list.body.payload.map((l: any) => l.title)).toEqual(['billing-issue_2', 'überfällig']);
    expect((await api('GET', `/labels/${id}`, ada.token)).body).toMatchObject({ id, title: 'billing-issue_2' });
    for (const [m, p] of [['POST', '/labels'], ['PATCH', `/labels/${id}`], ['DELETE', `/labels/${id}`]] as const) {
      expect((await api(m, p, ada.token, { title: 'agentlabel' })).status, `${m} ${p}`).toBe(401);
    }

    const upd = await api('PATCH', `/labels/${id}`, grace.token, { label: { description: null, color: '#00aa00', show_on_sidebar: 'false' } });
    expect(upd.status, upd.text).toBe(200);
    expect(upd.body).toEqual({ id, title: 'billing-issue_2', description: null, color: '#00aa00', show_on_sidebar: false });
    expect((await api('PUT', `/labels/${id}`, grace.token, { title: 'ÜBERFÄLLIG' })).status).toBe(422);

    const other = await h.account();
    const foreign = await h.api('POST', `/api/v1/accounts/${other.accountId}/labels`, { token: other.admin.token, body: { title: 'billing-issue_2' } });
    expect(foreign.status).toBe(200); // per account
    expect((await api('GET', `/labels/${foreign.body.id}`, grace.token)).status).toBe(404);
    expect((await api('PATCH', `/labels/${foreign.body.id}`, grace.token, { color: '#000000' })).status).toBe(404);
    expect((await api('DELETE', `/labels/${foreign.body.id}`, grace.token)).status).toBe(404);

    const del = await api('DELETE', `/labels/${plain.body.id}`, grace.token);
    expect([del.status, del.text]).toEqual([200, '']);
    expect((await api('GET', `/labels/${plain.body.id}`, grace.token)).status).toBe(404);
  });

  it('conversation labels stay strings; the labels filter; a rename follows on conversations and contacts, a delete leaves them', async () => {
    const vip = await label('vip');
    const c1 = await conversation(inboxA.id, ['vip', 'refund']);
    const c2 = await conversation(inboxA.id, ['refund']);
    const c3 = await conversation(inboxA.id, ['free-text-label']); // no account label needed
    expect((await api('GET', `/conversations/${c3.displayId}/labels`, grace.token)).body).toEqual({ payload: ['free-text-label'] });

    const ids = async (q: string) => ((await api('GET', `/conversations?${q}`, grace.token)).body.data.payload as any[]).map((c) => c.id).sort();
    expect(await ids('labels[]=vip')).toEqual([c1.displayId]);
    expect(await ids('labels[]=refund')).toEqual([c1.displayId, c2.displayId].sort());
    expect(await ids('labels[]=vip&labels[]=free-text-label')).toEqual([c1.displayId, c3.displayId].sort());

    // A contact carrying the title too, and a conversation carrying both the old and the new title.
    expect((await api('POST', `/contacts/${c1.contactId}/labels`, grace.token, { labels: ['vip'] })).status).toBe(200);
    await api('POST', `/conversations/${c2.displayId}/labels`, grace.token, { labels: ['vip', 'gold'] });
    const renamed = await api('PATCH', `/labels/${vip.id}`, grace.token, { title: 'Gold' });
    expect(renamed.status, renamed.text).toBe(200);
    expect((await api('GET', `/conversations/${c1.displayId}/labels`, grace.token)).body.payload.sort()).toEqual(['gold', 'refund']);
    expect((await api('GET', `/conversations/${c2.displayId}/labels`, grace.token)).body.payload).toEqual(['gold']);
    expect((await api('GET', `/contacts/${c1.contactId}/labels`, grace.token)).body.payload).toEqual(['gold']);
    expect(await ids('labels[]=vip')).toEqual([]);

    expect((await api('DELETE', `/labels/${vip.id}`, grace.token)).status).toBe(200);
    expect((await api('GET', `/conversations/${c1.displayId}/labels`, grace.token)).body.payload.sort()).toEqual(['gold', 'refund']);
  });

  it('meta.labels of /conversations/meta: every account label with its open and unread conversations the caller can see, whatever the filters', async () => {
    const h2 = h;
    const { accountId: acc, admin } = await h2.account();
    const agent = await h2.user(acc, { name: 'Agent' });
    const a = await h2.inbox(acc, { name: 'A', members: [agent.id] });
    const b = await h2.inbox(acc, { name: 'B' });
    const call = (method: string, path: string, token: string, body?: unknown) => h2.api(method, `/api/v1/accounts/${acc}${path}`, { token, body });
    for (const title of ['urgent', 'later', 'empty']) expect((await call('POST', '/labels', admin.token, { title })).status).toBe(200);
    const conv = async (inboxId: number, labels: string[]) => {
      const contact = await apiContact(h2, admin.token, acc, inboxId, 'Visitor');
      const c = await apiConversation(h2, admin.token, acc, inboxId, contact);
      await call('POST', `/conversations/${c.displayId}/labels`, admin.token, { labels });
      return c;
    };
    const u1 = await conv(a.id, ['urgent', 'URGENT']); // case-insensitive, counted once
    await conv(a.id, ['urgent', 'later']);
    await conv(b.id, ['urgent']);
    const resolved = await conv(a.id, ['later']);
    await call('POST', `/conversations/${resolved.displayId}/toggle_status`, admin.token, { status: 'resolved' });
    // One unread conversation: an incoming message after the agents' last visit.
    expect((await call('POST', `/conversations/${u1.displayId}/messages`, admin.token, { content: 'hi', message_type: 'incoming' })).status).toBe(200);

    const meta = async (token: string, q = '') => {
      const r = await call('GET', `/conversations/meta${q}`, token);
      expect(r.status, r.text).toBe(200);
      return r.body.meta.labels as any[];
    };
    const asAdmin = await meta(admin.token);
    expect(asAdmin).toEqual([
      { id: expect.any(Number), title: 'empty', open_count: 0, unread_count: 0 },
      { id: expect.any(Number), title: 'later', open_count: 1, unread_count: 0 },
      { id: expect.any(Number), title: 'urgent', open_count: 3, unread_count: 1 },
    ]);
    // The agent sees inbox A only; the list's filters do not change them.
    expect((await meta(agent.token)).map((l) => [l.title, l.open_count, l.unread_count])).toEqual([
      ['empty', 0, 0],
      ['later', 1, 0],
      ['urgent', 2, 1],
    ]);
    expect(await meta(admin.token, '?status=resolved&assignee_type=me')).toEqual(asAdmin);
    // The counts of the meta keep the reference's keys.
    const r = await call('GET', '/conversations/meta', admin.token);
    expect(r.body.meta).toMatchObject({ mine_count: 0, all_count: 3, inboxes: expect.any(Array) });
    await call('POST', `/conversations/${u1.displayId}/update_last_seen`, admin.token);
    expect((await meta(admin.token)).find((l) => l.title === 'urgent').unread_count).toBe(0);
  });
});

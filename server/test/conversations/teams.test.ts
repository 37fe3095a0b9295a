import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Value } from 'typebox/value';
import { CABLE_EVENTS } from '../../src/realtime/event-schemas.js';
import { describeEachDb, type TestServer, type TestUser } from '../support/harness.js';
import { agentScene, type AgentScene } from '../support/scene.js';
import { apiContact, apiConversation, consumer, disconnectAll, subscribe } from '../realtime/cable.js';
import { waitUntil, type Receiver } from '../webhooks/support.js';

/**
 * Teams (issue 12): CRUD and members (administrators change, every member reads), a conversation's
 * team through `assignments {team_id}` and on create, the team filter of the list and meta, the
 * activity lines, the events (team.changed on agents' sockets, conversation_updated with team_id on
 * the callback), and a deleted team leaving its conversations.
 */
describeEachDb('teams', (dialect) => {
  let h: TestServer;
  let rx: Receiver;
  let accountId: number;
  let grace: TestUser; // administrator
  let ada: TestUser; // agent, inbox member
  let linus: TestUser; // agent, inbox member
  let inbox: Awaited<ReturnType<TestServer['inbox']>>;

  let scene: AgentScene;

  beforeAll(async () => {
    scene = await agentScene(dialect, ['Ada Lovelace', 'Linus Torvalds']);
    ({ h, rx, accountId, grace, inbox } = scene);
    [ada, linus] = scene.agents;
  });
  afterEach(() => disconnectAll());
  afterAll(() => scene?.close());

  const base = () => `/api/v1/accounts/${accountId}`;
  const api = (method: string, path: string, token: string, body?: unknown) => h.api(method, `${base()}${path}`, { token, body });
  /** A team without auto-assignment unless asked (the agents' sockets of other tests make them online). */
  async function team(name: string, extra: Record<string, unknown> = {}) {
    const r = await api('POST', '/teams', grace.token, { team: { name, allow_auto_assign: false, ...extra } });
    expect(r.status, r.text).toBe(200);
    return r.body as { id: number; name: string };
  }
  async function fresh(name = 'Jane') {
    const contact = await apiContact(h, grace.token, accountId, inbox.id, name);
    return apiConversation(h, grace.token, accountId, inbox.id, contact);
  }
  const lines = async (displayId: number) =>
    ((await api('GET', `/conversations/${displayId}/messages`, grace.token)).body.payload as any[]).filter((m) => m.message_type === 2).map((m) => m.content);
  const show = async (displayId: number) => (await api('GET', `/conversations/${displayId}`, grace.token)).body;

  it('CRUD: administrators create, rename and delete; names are lowercased and unique per account; agents read, and get 401 on writes', async () => {
    const created = await api('POST', '/teams', grace.token, { team: { name: 'Support Tier 1', description: 'First line', allow_auto_assign: false } });
    expect(created.status, created.text).toBe(200);
    expect(created.body).toEqual({ id: expect.any(Number), name: 'support tier 1', description: 'First line', allow_auto_assign: false, account_id: accountId, is_member: false });
    const id = created.body.id;

    // Unwrapped fields work too; allow_auto_assign defaults to true, description to null.
    const billing = await api('POST', '/teams', grace.token, { name: 'Billing' });
    expect(billing.body).toMatchObject({ name: 'billing', description: null, allow_auto_assign: true });

    // Taken whatever the case; blank; too long; a string boolean is coerced.
    const dup = await api('POST', '/teams', grace.token, { team: { name: 'SUPPORT tier 1' } });
    expect(dup.status).toBe(422);
    expect(dup.body).toMatchObject({ message: 'Name has already been taken', attributes: ['name'] });
    expect((await api('POST', '/teams', grace.token, { team: { name: '  ' } })).status).toBe(422);
    expect((await api('POST', '/teams', grace.token, { team: {} })).body).toMatchObject({ attributes: ['name'] });
    expect((await api('POST', '/teams', grace.token, { team: { name: 'x'.repeat(256) } })).status).toBe(422);

    // Agents read the list (a bare array, by name) and one team; they cannot write.
    const list = await api('GET', '/teams', ada.token);
    expect(list.status).toBe(200);
    expect(list.body.map((t: any) => t.name)).toEqual(['billing', 'support tier 1']);
    expect((await api('GET', `/teams/${id}`, ada.token)).body).toMatchObject({ id, name: 'support tier 1' });
    for (const [m, p, b] of [
      ['POST', '/teams', { name: 'agents' }],
      ['PATCH', `/teams/${id}`, { name: 'mine' }],
      ['DELETE', `/teams/${id}`, undefined],
      ['POST', `/teams/${id}/team_members`, { user_ids: [ada.id] }],
    ] as const) {
      const r = await api(m, p, ada.token, b);
      expect(r.status, `${m} ${p}`).toBe(401);
      expect(r.body).toEqual({ error: 'You are not authorized to do this action' });
    }

    const renamed = await api('PATCH', `/teams/${id}`, grace.token, { team: { name: 'Tier One', allow_auto_assign: 'true' } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ id, name: 'tier one', description: 'First line', allow_auto_assign: true });
    expect((await api('PUT', `/teams/${id}`, grace.token, { description: '' })).body.description).toBeNull();
    expect((await api('PATCH', `/teams/${id}`, grace.token, { name: 'BILLING' })).status).toBe(422);

    // Another account's team is a 404; another account is a 401.
    const other = await h.account();
    const foreign = await h.api('POST', `/api/v1/accounts/${other.accountId}/teams`, { token: other.admin.token, body: { name: 'foreign' } });
    expect((await api('GET', `/teams/${foreign.body.id}`, grace.token)).status).toBe(404);
    expect((await api('PATCH', `/teams/${foreign.body.id}`, grace.token, { name: 'x' })).status).toBe(404);
    expect((await api('DELETE', `/teams/${foreign.body.id}`, grace.token)).status).toBe(404);
    expect((await h.api('GET', `/api/v1/accounts/${other.accountId}/teams`, { token: grace.token })).status).toBe(401);
    // The same name in another account is fine.
    expect((await h.api('POST', `/api/v1/accounts/${other.accountId}/teams`, { token: other.admin.token, body: { name: 'billing' } })).status).toBe(200);

    const del = await api('DELETE', `/teams/${billing.body.id}`, grace.token);
    expect(del.status).toBe(200);
    expect(del.text).toBe('');
    expect((await api('GET', `/teams/${billing.body.id}`, grace.token)).status).toBe(404);
    expect((await api('DELETE', `/teams/${billing.body.id}`, grace.token)).status).toBe(404);
    const notAnId = await api('GET', '/teams/abc', grace.token);
    expect([notAnId.status, notAnId.body]).toEqual([404, { error: 'Resource could not be found' }]);
  });

  it('members: add (the agents named), replace, remove; strangers refused with nothing written; is_member follows', async () => {
    const t = await team('members');
    const path = `/teams/${t.id}/team_members`;
    expect((await api('GET', path, ada.token)).body).toEqual([]);

    const added = await api('POST', path, grace.token, { user_ids: [ada.id, ada.id] });
    expect(added.status, added.text).toBe(200);
    expect(added.body.map((a: any) => a.id)).toEqual([ada.id]);
    expect(added.body[0]).toMatchObject({ id: ada.id, name: 'Ada Lovelace', role: 'agent', account_id: accountId, email: ada.email });
    // Adding again and adding more: every agent named comes back, nobody twice.
    const more = await api('POST', path, grace.token, { user_ids: [ada.id, linus.id] });
    expect(more.body.map((a: any) => a.id).sort()).toEqual([ada.id, linus.id].sort());
    expect((await api('GET', path, ada.token)).body.map((a: any) => a.name)).toEqual(['Ada Lovelace', 'Linus Torvalds']);
    expect((await api('GET', `/teams/${t.id}`, ada.token)).body.is_member).toBe(true);
    expect((await api('GET', '/teams', ada.token)).body.find((x: any) => x.id === t.id).is_member).toBe(true);
    expect((await api('GET', `/teams/${t.id}`, grace.token)).body.is_member).toBe(false);

    // A user of another account: 422 naming them, nothing changes.
    const other = await h.account();
    const bad = await api('PATCH', path, grace.token, { user_ids: [grace.id, other.admin.id] });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ attributes: ['user_ids'], invalid_user_ids: [other.admin.id] });
    expect((await api('GET', path, grace.token)).body.map((a: any) => a.id).sort()).toEqual([ada.id, linus.id].sort());
    expect((await api('POST', path, grace.token, { user_ids: ['nope'] })).status).toBe(422);

    const replaced = await api('PATCH', path, grace.token, { user_ids: [grace.id, linus.id] });
    expect(replaced.status).toBe(200);
    expect(replaced.body.map((a: any) => a.name)).toEqual(['Grace Hopper', 'Linus Torvalds']);
    expect((await api('GET', `/teams/${t.id}`, ada.token)).body.is_member).toBe(false);

    const removed = await api('DELETE', path, grace.token, { user_ids: [linus.id] });
    expect(removed.status).toBe(200);
    expect(removed.text).toBe('');
    expect((await api('GET', path, grace.token)).body.map((a: any) => a.id)).toEqual([grace.id]);
    expect((await api('GET', `/teams/999999/team_members`, grace.token)).status).toBe(404);
  });

  it('assignments {team_id}: returns the team, meta.team and push/webhook team; the assignee stays only if a team member; 0 removes; unknown team 422', async () => {
    const sales = await team('Sales');
    await api('POST', `/teams/${sales.id}/team_members`, grace.token, { user_ids: [ada.id] });
    const jane = await apiContact(h, grace.token, accountId, inbox.id, 'Team Jane');
    const conv = await apiConversation(h, grace.token, accountId, inbox.id, jane);
    const assign = (body: object, token = ada.token) => api('POST', `/conversations/${conv.displayId}/assignments`, token, body);

    // No team: meta has no team key (as the reference).
    expect(await show(conv.displayId)).not.toHaveProperty('meta.team');

    expect((await assign({ assignee_id: linus.id })).status).toBe(200);
    const agentSocket = await subscribe(consumer(h), { pubsub_token: ada.pubsub_token, account_id: accountId, user_id: ada.id });
    const contactSocket = await subscribe(consumer(h), { pubsub_token: jane.pubsubToken });
    rx.requests.length = 0;

    const r = await assign({ team_id: sales.id });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ id: sales.id, name: 'sales', description: null, allow_auto_assign: false, account_id: accountId, is_member: true });
    // meta.team is the team JSON, is_member for the caller (Grace is no member of sales, Ada is).
    const shown = await show(conv.displayId);
    expect(shown.meta.team).toEqual({ id: sales.id, name: 'sales', description: null, allow_auto_assign: false, account_id: accountId, is_member: false });
    expect((await api('GET', `/conversations/${conv.displayId}`, ada.token)).body.meta.team.is_member).toBe(true);
    expect((await api('GET', `/conversations?team_id=${sales.id}`, ada.token)).body.data.payload[0].meta.team.is_member).toBe(true);
    // Linus is not in sales: the conversation lost its assignee (reference: validate_current_assignee_team).
    expect(shown.meta).not.toHaveProperty('assignee');

    // Agents' sockets: team.changed with the team in meta; conversation.updated names team_id and assignee_id.
    const changed = await agentSocket.next('team.changed');
    expect(changed.data).toMatchObject({ id: conv.displayId, meta: { team: { id: sales.id, name: 'sales' }, assignee: null }, account_id: accountId });
    expect([...Value.Errors(CABLE_EVENTS['team.changed'], changed.data)].map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
    // (the earlier assignee change's conversation.updated may still be on its way: wait for the one with the team)
    const updated = await agentSocket.next('conversation.updated', (m) => m.data.id === conv.displayId && m.data.meta.team != null);
    expect(updated.data.meta.team).toEqual({ id: sales.id, name: 'sales' });

    // The callback: conversation_updated with changed_attributes team_id (and the dropped assignee).
    const teamHook = (q: { json?: any }) => q.json?.event === 'conversation_updated' && q.json.changed_attributes?.some((c: object) => 'team_id' in c);
    await waitUntil(() => rx.requests.some(teamHook), 15_000, 'conversation_updated with team_id');
    const hook = rx.requests.find(teamHook)!.json;
    expect(hook.changed_attributes).toEqual(
      expect.arrayContaining([{ team_id: { previous_value: null, current_value: sales.id } }, { assignee_id: { previous_value: linus.id, current_value: null } }]),
    );
    expect(hook.meta.team).toEqual({ id: sales.id, name: 'sales' });
    expect(rx.requests.some((q) => q.json?.event === 'team_changed' || /team\.changed/.test(q.body))).toBe(false);
    // The contact never hears of teams: a later reply reaches its socket, a team.changed never did.
    const marker = await api('POST', `/conversations/${conv.displayId}/messages`, ada.token, { content: 'after the team change', message_type: 'outgoing' });
    expect(marker.status, marker.text).toBe(200);
    await contactSocket.next('message.created', (m) => m.data.id === marker.body.id);
    expect(contactSocket.received.map((m) => m.event)).not.toContain('team.changed');

    // The same team again changes nothing; an assignee in the team stays when the team is set.
    expect((await assign({ team_id: String(sales.id) })).body.id).toBe(sales.id);
    expect((await assign({ assignee_id: ada.id })).status).toBe(200);
    const support = await team('Support');
    await api('POST', `/teams/${support.id}/team_members`, grace.token, { user_ids: [ada.id] });
    await assign({ team_id: support.id });
    expect((await show(conv.displayId)).meta).toMatchObject({ assignee: { id: ada.id }, team: { id: support.id } });

    // Unknown / foreign team: 422, nothing changes. 0 removes the team and answers null.
    const other = await h.account();
    const foreign = await h.api('POST', `/api/v1/accounts/${other.accountId}/teams`, { token: other.admin.token, body: { name: 'foreign' } });
    for (const team_id of [foreign.body.id, 999999, 'x', -1]) {
      const bad = await assign({ team_id });
      expect(bad.status, String(team_id)).toBe(422);
      expect(bad.body.attributes).toEqual(['team_id']);
    }
    expect((await show(conv.displayId)).meta.team.id).toBe(support.id);
    const cleared = await assign({ team_id: 0 });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toBeNull();
    const after = await show(conv.displayId);
    expect(after.meta).not.toHaveProperty('team');
    expect(after.meta.assignee.id).toBe(ada.id); // removing the team leaves the assignee

    // assignee_id wins when both are sent (the reference's order).
    expect((await assign({ assignee_id: linus.id, team_id: sales.id })).body).toMatchObject({ id: linus.id, email: linus.email });
    expect((await show(conv.displayId)).meta).not.toHaveProperty('team');
  });

  it('activity lines: assigned to a team, via a team, unassigned from a team — each by its performer, never a second assignee line', async () => {
    const ops = await team('Ops');
    const dev = await team('Dev');
    await api('POST', `/teams/${dev.id}/team_members`, grace.token, { user_ids: [ada.id] });
    const conv = await fresh('Activity');
    const assign = (body: object) => api('POST', `/conversations/${conv.displayId}/assignments`, grace.token, body);
    await assign({ team_id: ops.id });
    await assign({ team_id: dev.id });
    await assign({ team_id: null });
    await assign({ team_id: null }); // nothing to remove: no line
    await assign({ assignee_id: linus.id });
    await assign({ team_id: dev.id }); // Linus is not in dev: dropped, one line only
    expect(await lines(conv.displayId)).toEqual([
      'Assigned to ops by Grace Hopper',
      'Assigned to dev by Grace Hopper',
      'Unassigned from dev by Grace Hopper',
      'Assigned to Linus Torvalds by Grace Hopper',
      'Assigned to dev by Grace Hopper',
    ]);
    // A conversation created with a team and an assignee in it.
    const contact = await apiContact(h, grace.token, accountId, inbox.id, 'Created');
    const created = await api('POST', '/conversations', grace.token, { source_id: contact.sourceId, team_id: dev.id, assignee_id: ada.id });
    expect(created.status, created.text).toBe(200);
    expect(created.body.meta).toMatchObject({ team: { id: dev.id, name: 'dev' }, assignee: { id: ada.id } });
    // …and with an assignee outside it: the assignee is dropped; an unknown team is a 422 and creates nothing.
    const dropped = await api('POST', '/conversations', grace.token, { source_id: contact.sourceId, team_id: dev.id, assignee_id: linus.id });
    expect(dropped.body.meta).not.toHaveProperty('assignee');
    const before = (await api('GET', '/conversations?status=all', grace.token)).body.data.meta.all_count;
    expect((await api('POST', '/conversations', grace.token, { source_id: contact.sourceId, team_id: 999999 })).status).toBe(422);
    expect((await api('GET', '/conversations?status=all', grace.token)).body.data.meta.all_count).toBe(before);
  });

  it('allow_auto_assign: a conversation joining the team without a member as assignee goes to an online member of team and inbox, the least loaded first', async () => {
    const presence = h.server.ctx.realtime.presence;
    const online = async (u: TestUser) => {
      const sock = await subscribe(consumer(h), { pubsub_token: u.pubsub_token, account_id: accountId, user_id: u.id });
      sock.sub.perform('update_presence');
      await waitUntil(() => presence.isPresent(accountId, u.id), 15_000, `user ${u.id} online`);
    };
    const hana = await h.user(accountId, { name: 'Hana Online' });
    const ivan = await h.user(accountId, { name: 'Ivan Online' });
    const busy = await h.user(accountId, { name: 'Bea Busy' });
    const away = await h.user(accountId, { name: 'Otto Offline' });
    const outside = await h.user(accountId, { name: 'Nina NoInbox' }); // online, in the team, not in the inbox
    const pool = await h.inbox(accountId, { name: 'Pool', members: [hana.id, ivan.id, busy.id, away.id] });
    for (const u of [hana, ivan, busy, outside]) await online(u);
    expect((await api('PATCH', `/agents/${busy.id}`, grace.token, { availability: 'busy' })).status).toBe(200);
    const auto = await team('Auto', { allow_auto_assign: true });
    expect((await api('POST', `/teams/${auto.id}/team_members`, grace.token, { user_ids: [hana.id, ivan.id, busy.id, away.id, outside.id] })).status).toBe(200);
    const inPool = async (name: string) => {
      const contact = await apiContact(h, grace.token, accountId, pool.id, name);
      return apiConversation(h, grace.token, accountId, pool.id, contact);
    };
    const toTeam = async (displayId: number) => {
      const r = await api('POST', `/conversations/${displayId}/assignments`, grace.token, { team_id: auto.id });
      expect(r.status, r.text).toBe(200);
      return (await show(displayId)).meta.assignee?.id ?? null;
    };

    // Hana and Ivan qualify (online, in both); the fewest open conversations wins, ties to the lowest id.
    const first = await inPool('First');
    expect(await toTeam(first.displayId)).toBe(hana.id);
    expect(await lines(first.displayId)).toEqual(['Assigned to Hana Online via auto by Grace Hopper']);
    const second = await inPool('Second');
    expect(await toTeam(second.displayId)).toBe(ivan.id);
    // Created with the team: assigned the same way.
    const contact = await apiContact(h, grace.token, accountId, pool.id, 'Third');
    const third = await api('POST', '/conversations', grace.token, { source_id: contact.sourceId, team_id: auto.id });
    expect(third.status, third.text).toBe(200);
    expect(third.body.meta.assignee.id).toBe(hana.id);
    // A member as assignee stays; resolved conversations do not count as load.
    expect((await api('POST', `/conversations/${third.body.id}/toggle_status`, grace.token, { status: 'resolved' })).status).toBe(200);
    const kept = await inPool('Kept');
    expect((await api('POST', `/conversations/${kept.displayId}/assignments`, grace.token, { assignee_id: away.id })).status).toBe(200);
    expect(await toTeam(kept.displayId)).toBe(away.id);

    // Nobody online in the team: it stays unassigned. Nor does a team without allow_auto_assign assign.
    const offlineOnly = await team('Nightshift', { allow_auto_assign: true });
    await api('POST', `/teams/${offlineOnly.id}/team_members`, grace.token, { user_ids: [away.id, busy.id] });
    const lonely = await inPool('Lonely');
    expect((await api('POST', `/conversations/${lonely.displayId}/assignments`, grace.token, { team_id: offlineOnly.id })).status).toBe(200);
    expect((await show(lonely.displayId)).meta).not.toHaveProperty('assignee');
    const manual = await team('Manual');
    await api('POST', `/teams/${manual.id}/team_members`, grace.token, { user_ids: [hana.id] });
    const untouched = await inPool('Untouched');
    expect((await api('POST', `/conversations/${untouched.displayId}/assignments`, grace.token, { team_id: manual.id })).status).toBe(200);
    expect((await show(untouched.displayId)).meta).not.toHaveProperty('assignee');
    expect(await lines(untouched.displayId)).toEqual(['Assigned to manual by Grace Hopper']);
  });

  it('team_id filters the list and the meta counts; deleting a team unsets it on its conversations', async () => {
    const a = await team('Filter A');
    const b = await team('Filter B');
    const c1 = await fresh('One');
    const c2 = await fresh('Two');
    const c3 = await fresh('Three');
    await api('POST', `/conversations/${c1.displayId}/assignments`, grace.token, { team_id: a.id });
    await api('POST', `/conversations/${c2.displayId}/assignments`, grace.token, { team_id: a.id });
    await api('POST', `/conversations/${c3.displayId}/assignments`, grace.token, { team_id: b.id });
    await api('POST', `/conversations/${c2.displayId}/assignments`, grace.token, { assignee_id: ada.id });

    const list = await api('GET', `/conversations?team_id=${a.id}`, ada.token);
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.payload.map((c: any) => c.id).sort()).toEqual([c1.displayId, c2.displayId].sort());
    expect(list.body.data.meta).toMatchObject({ all_count: 2, assigned_count: 1, unassigned_count: 1, mine_count: 1 });
    const meta = await api('GET', `/conversations/meta?team_id=${b.id}`, ada.token);
    expect(meta.body.meta).toMatchObject({ all_count: 1, unassigned_count: 1 });
    expect((await api('GET', `/conversations?team_id=abc`, ada.token)).status).toBe(422);

    expect((await api('DELETE', `/teams/${a.id}`, grace.token)).status).toBe(200);
    expect((await show(c1.displayId)).meta).not.toHaveProperty('team');
    expect((await show(c3.displayId)).meta.team.id).toBe(b.id);
    expect((await api('GET', `/conversations?team_id=${a.id}`, grace.token)).body.data.payload).toEqual([]);
    const row = await h.server.ctx.database.db.selectFrom('conversations').select('team_id').where('id', '=', c2.id).executeTakeFirstOrThrow();
    expect(row.team_id).toBeNull();
    expect(await h.server.ctx.database.db.selectFrom('team_members').select('id').where('team_id', '=', a.id).execute()).toEqual([]);
  });
});

import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeEachDb, type TestServer } from '../support/harness.js';
import { agentScene, type AgentScene } from '../support/scene.js';
import { eventsSince, lastEventId } from '../support/conversations.js';
import { apiContact, apiConversation, consumer, disconnectAll, subscribe, until } from '../realtime/cable.js';
import { reopenDueSnoozes } from '../../src/conversations/snooze.js';

/**
 * Snoozes that end by themselves: a conversation snoozed until a time is open again once that
 * time has passed (the reference's scheduled reopening), with the events of any reopening and no
 * activity line; "until the next reply" and future snoozes stay; the worker sweeps at start.
 */
describeEachDb('snoozes that end by themselves', (dialect) => {
  let h: TestServer;
  let scene: AgentScene;
  beforeAll(async () => {
    scene = await agentScene(dialect);
    h = scene.h;
    // The sweeps here are the test's own: the worker's timer must not take the first one.
    await h.server.workers.find((w) => w.name === 'snooze')!.stop();
  });
  afterEach(() => disconnectAll());
  afterAll(() => scene?.close());

  const api = (method: string, path: string, body?: unknown) => h.api(method, `/api/v1/accounts/${scene.accountId}${path}`, { token: scene.grace.token, body });
  const show = async (id: number) => (await api('GET', `/conversations/${id}`)).body;
  async function snoozed(name: string, until: number | null) {
    const { grace, accountId, inbox } = scene;
    const contact = await apiContact(h, grace.token, accountId, inbox.id, name);
    const conv = await apiConversation(h, grace.token, accountId, inbox.id, contact);
    const r = await api('POST', `/conversations/${conv.displayId}/toggle_status`, { status: 'snoozed', snoozed_until: until });
    expect(r.status, r.text).toBe(200);
    expect(r.body.payload.current_status).toBe('snoozed');
    return conv;
  }
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  it('a snooze whose time has passed opens again, with status_changed and conversation_updated and no activity line; others stay', async () => {
    const due = await snoozed('Due Visitor', nowSeconds() - 60);
    const later = await snoozed('Later Visitor', nowSeconds() + 3600);
    const nextReply = await snoozed('Next Reply Visitor', null);
    const [ada] = scene.agents;
    const agent = await subscribe(consumer(h), { pubsub_token: ada.pubsub_token, account_id: scene.accountId, user_id: ada.id });
    const before = await lastEventId(h);
    const linesBefore = (await api('GET', `/conversations/${due.displayId}/messages`)).body.payload.filter((m: any) => m.message_type === 2).length;

    expect(await reopenDueSnoozes(h.server.ctx)).toBe(1);
    expect(await show(due.displayId)).toMatchObject({ status: 'open', snoozed_until: null });
    expect((await show(later.displayId)).status).toBe('snoozed');
    expect(await show(nextReply.displayId)).toMatchObject({ status: 'snoozed', snoozed_until: null });

    // The system's change: no performer, the events of any reopening.
    const evs = (await eventsSince(h, before)).filter((e) => e.payload.conversation_id === due.id);
    expect(evs.map((e) => e.name)).toEqual(['conversation.status_changed', 'conversation.updated']);
    expect(evs[0].payload).not.toHaveProperty('performer.id');
    expect(evs[1].payload.changed_attributes).toEqual(
      expect.arrayContaining([{ status: { previous_value: 'snoozed', current_value: 'open' } }]),
    );
    // No activity line (as the reference).
    const lines = (await api('GET', `/conversations/${due.displayId}/messages`)).body.payload.filter((m: any) => m.message_type === 2);
    expect(lines).toHaveLength(linesBefore);
    // Agents hear it live; the callback gets conversation_status_changed.
    const heard = await agent.next('conversation.status_changed', (m) => m.data.id === due.displayId);
    expect(heard.data.status).toBe('open');
    await until(() => scene.rx.requests.some((q) => q.json?.event === 'conversation_status_changed' && q.json.id === due.displayId && q.json.status === 'open'), 'the callback');

    // A second sweep finds nothing to do.
    expect(await reopenDueSnoozes(h.server.ctx)).toBe(0);
    expect((await show(later.displayId)).status).toBe('snoozed');
  });

  it('the worker sweeps when it starts: what ended while the server was down opens at once', async () => {
    const due = await snoozed('Restart Visitor', nowSeconds() - 5);
    // A stopping sweep leaves the rest for the next start.
    expect(await reopenDueSnoozes(h.server.ctx, Date.now(), () => true)).toBe(0);
    expect((await show(due.displayId)).status).toBe('snoozed');
    const worker = h.server.workers.find((w) => w.name === 'snooze')!;
    expect(worker).toBeDefined();
    await worker.stop();
    await worker.start();
    await until(async () => (await show(due.displayId)).status === 'open', 'the snooze to end');
    await worker.stop();
  });
});

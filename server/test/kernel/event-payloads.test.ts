import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent, type OutboxEvent } from '../../src/kernel/events/outbox.js';
import { DOMAIN_EVENTS, EVENT_SCHEMAS, isEventPayload, type EventMap } from '../../src/kernel/events/types.js';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

describe('event payload schemas', () => {
  it('has one schema per domain event', () => {
    expect(Object.keys(EVENT_SCHEMAS).sort()).toEqual([...DOMAIN_EVENTS].sort());
  });

  it.each([
    ['message.created', { message_id: 1, conversation_id: 2 }, true],
    ['message.created', { message_id: 1, conversation_id: 2, echo_id: 'e' }, true],
    ['message.created', { message_id: '1', conversation_id: 2 }, false],
    ['message.updated', { message_id: 1, conversation_id: 2 }, false],
    ['conversation.typing_on', { conversation_id: 1, typist: { type: 'user', id: 3 }, is_private: false }, true],
    ['conversation.typing_on', { conversation_id: 1, typist: { type: 'bot', id: 3 }, is_private: false }, false],
    ['conversation.typing_off', { conversation_id: 1, typist: { type: 'contact', id: 3 }, is_private: 'true' }, false],
    ['assignee.changed', { conversation_id: 1, previous_assignee_id: null }, true],
    ['team.changed', { conversation_id: 1, previous_team_id: 4, performer: { type: 'user', id: 2 } }, true],
    ['team.changed', { conversation_id: 1 }, false],
    ['contact.updated', { contact_id: 1, changed_attributes: [{ name: { previous_value: 'a', current_value: 'b' } }] }, true],
    ['contact.updated', { contact_id: 1, changed_attributes: { name: ['a', 'b'] } }, false],
    ['user.credentials_rotated', { user_id: 1, credentials_version: 2 }, true],
    ['no.such_event', {}, false],
    ['inbox.created', null, false],
    ['inbox.created', [1], false],
  ])('%s %j → %s', (name, payload, ok) => expect(isEventPayload(name, payload)).toBe(ok));
});

describeEachDb('outbox: a payload that is not valid for its event name is a poison event', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect);
  });
  afterAll(() => h?.close());

  it('is recorded as dead at once (one attempt) and never handed to a listener; the next event is', async () => {
    const seen: OutboxEvent[] = [];
    const name = `payload-check-${dialect}`;
    const { dispatcher, database } = h.server.ctx;
    dispatcher.register({ name, handle: async (events) => void seen.push(...events) });
    await waitFor(() => database.db.selectFrom('event_consumers').select('name').where('name', '=', name).executeTakeFirst(), 'cursor');
    const { accountId } = await h.account();
    await database.transaction(async (trx) => {
      // Written around the types, as an older or buggy writer could have stored it.
      await recordEvent(trx, dialect, accountId, 'message.created', { message_id: 'not a number' } as unknown as EventMap['message.created']);
      await recordEvent(trx, dialect, accountId, 'inbox.updated', { inbox_id: 7 });
    });
    await dispatcher.drain(20_000);
    const dead = await database.db.selectFrom('dead_events').selectAll().where('listener', '=', name).execute();
    expect(dead.map((d) => [d.event_name, d.attempts])).toEqual([['message.created', 1]]);
    expect(seen.map((e) => [e.name, e.payload])).toEqual([['inbox.updated', { inbox_id: 7 }]]);
  });
});

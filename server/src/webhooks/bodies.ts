import type { Executor } from '../kernel/db.js';
import type { AnyOutboxEvent } from '../kernel/events/types.js';
import { MESSAGE_TYPE } from '../kernel/constants.js';
import { loadBundles, type ConversationBundle } from '../conversations/bundle.js';
import { loadSenders } from '../conversations/people.js';
import { findMessagesByIds } from '../messages/repository.js';
import { findAccountRef } from '../contacts/repository.js';
import type { MessageRow } from '../messages/format.js';
import { conversationsByIds } from './repository.js';
import { conversationEventBody, loadTypist, messageEventBody, webhookBody } from './presenters.js';

/** The body of one event, and the message it is about (message events). */
export type EventBody = { body: string; messageId: number | null };

const messageIdOf = (e: AnyOutboxEvent) => (e.name === 'message.created' || e.name === 'message.updated' ? e.payload.message_id : null);
/** The conversation of a message or conversation event (a message event names its message's conversation). */
const conversationIdOf = (e: AnyOutboxEvent) =>
  (e.name.startsWith('conversation.') || e.name.startsWith('message.')) && 'conversation_id' in e.payload ? (e.payload as { conversation_id: number }).conversation_id : null;

/**
 * The webhook bodies of a listener batch, each built once per event (every endpoint of the event
 * gets the same bytes) from data loaded for the whole batch, per account: the batch's messages,
 * their conversations, the conversations' bundles (loadBundles: a fixed number of queries for any
 * number of conversations), the account's name and the messages' senders. So a burst of messages
 * costs the same few queries as one. Contact and inbox events (rare) are built one at a time.
 *
 * The bytes are those `webhookBody` builds event by event (test/webhooks/bodies.test.ts). An event
 * gets no body (null) when its subject is gone, and a message event none for an activity message
 * (activity messages never leave as webhooks). A body that cannot be built throws: the dispatcher
 * then handles the batch's events one at a time and records the bad one as dead.
 */
export async function webhookBodies(db: Executor, events: AnyOutboxEvent[]): Promise<Map<number, EventBody | null>> {
  const out = new Map<number, EventBody | null>();
  const byAccount = new Map<number, AnyOutboxEvent[]>();
  for (const e of events) {
    if (conversationIdOf(e) === null) {
      const body = await webhookBody(db, e);
      out.set(e.id, body === null ? null : { body, messageId: null });
      continue;
    }
    let list = byAccount.get(e.accountId);
    if (!list) byAccount.set(e.accountId, (list = []));
    list.push(e);
  }
  for (const [accountId, list] of byAccount) await accountBodies(db, accountId, list, out);
  return out;
}

async function accountBodies(db: Executor, accountId: number, events: AnyOutboxEvent[], out: Map<number, EventBody | null>) {
  // The conversations first (message events carry theirs): their bundles hold their latest
  // messages, usually the very messages of the batch, so only the others are read.
  const bundles = new Map<number, ConversationBundle>();
  const loadConversations = async (ids: Iterable<number>) => {
    const missing = [...new Set(ids)].filter((id) => !bundles.has(id));
    for (const b of await loadBundles(db, await conversationsByIds(db, accountId, missing))) bundles.set(b.conv.id, b);
  };
  await loadConversations(events.map(conversationIdOf).filter((id): id is number => id !== null));
  const messages = new Map<number, MessageRow>();
  for (const b of bundles.values()) for (const m of [b.lastMessage, b.lastNonActivity, b.lastChat]) if (m) messages.set(m.id, m);
  const unread = events.map(messageIdOf).filter((id): id is number => id !== null && !messages.has(id));
  for (const m of await findMessagesByIds(db, accountId, unread)) messages.set(m.id, m);
  // A message in another conversation than its event says (never written so, but read as stored).
  const elsewhere = [...messages.values()].filter((m) => !bundles.has(m.conversation_id) && m.message_type !== MESSAGE_TYPE.activity);
  if (elsewhere.length) await loadConversations(elsewhere.map((m) => m.conversation_id));
  const account = bundles.size ? await findAccountRef(db, accountId) : undefined;
  const wanted = new Map<number, MessageRow>();
  for (const e of events) {
    const mid = messageIdOf(e);
    const m = mid === null ? undefined : messages.get(mid);
    if (m && bundles.has(m.conversation_id)) wanted.set(m.id, m);
  }
  const senderOf = wanted.size && account ? await loadSenders(db, accountId, [...wanted.values()], [...bundles.values()].map((b) => b.contact)) : null;

  for (const e of events) {
    if (!account) {
      out.set(e.id, null);
      continue;
    }
    if (e.name === 'message.created' || e.name === 'message.updated') {
      const m = messages.get(e.payload.message_id);
      const b = m && m.message_type !== MESSAGE_TYPE.activity ? bundles.get(m.conversation_id) : undefined;
      out.set(e.id, m && b && senderOf ? { body: messageEventBody(e, m, b, account, senderOf(m)), messageId: m.id } : null);
      continue;
    }
    const b = bundles.get(conversationIdOf(e)!);
    if (!b) {
      out.set(e.id, null);
      continue;
    }
    const user = e.name === 'conversation.typing_on' || e.name === 'conversation.typing_off' ? await loadTypist(db, e.payload.typist) : undefined;
    const body = conversationEventBody(e, b, account, user);
    out.set(e.id, body === null ? null : { body, messageId: null });
  }
}

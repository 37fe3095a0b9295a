import type { Logger } from 'pino';
import type { Executor, Tx } from '../kernel/db.js';
import type { Listener, OutboxEvent } from '../kernel/events/outbox.js';
import type { DomainEventName } from '../kernel/events/types.js';
import { findInbox } from '../inboxes/repository.js';
import { loadMessageWebhookData } from '../messages/presenters.js';
import { loadConversationWebhookData } from '../conversations/presenters.js';
import { loadContactWebhookData } from '../contacts/presenters.js';
import { inboxEventWebhookData } from '../inboxes/presenter.js';
import { findAccountRef } from '../contacts/repository.js';
import { userWebhookData } from '../users/presenter.js';
import { newDeliveryId } from './signer.js';
import {
  activeWebhooks,
  contactInboxIds,
  conversationInbox,
  findUserBasics,
  inboxCallbackUrl,
  insertDeliveries,
  messageRouting,
  type NewDelivery,
} from './repository.js';
import { seedShapeConversation, seedShapeMessage, stripSecrets } from './presenters.js';
import type { ClaimedDelivery } from './delivery-repository.js';

/** Domain event → webhook event name. Events not listed here are not delivered. */
export const WEBHOOK_EVENTS: Partial<Record<DomainEventName, string>> = {
  'message.created': 'message_created',
  'message.updated': 'message_updated',
  'conversation.created': 'conversation_created',
  'conversation.updated': 'conversation_updated',
  'conversation.status_changed': 'conversation_status_changed',
  'conversation.typing_on': 'conversation_typing_on',
  'conversation.typing_off': 'conversation_typing_off',
  'contact.created': 'contact_created',
  'contact.updated': 'contact_updated',
  'inbox.created': 'inbox_created',
  'inbox.updated': 'inbox_updated',
};

/** What the API-channel callback receives (no subscription filter); contact and inbox events go to account webhooks only. */
const CALLBACK_EVENTS = new Set([
  'message_created',
  'message_updated',
  'conversation_created',
  'conversation_updated',
  'conversation_status_changed',
  'conversation_typing_on',
  'conversation_typing_off',
]);

type Json = Record<string, any>;

/** Where an event belongs: the inbox whose callback hears it, and the inboxes an inbox-filtered webhook matches. */
type Routing = { callbackInbox: number | null; inboxIds: number[]; messageId: number | null; senderType: string | null };

/**
 * Outbox → webhook_deliveries. Runs inside the transaction that advances its cursor, so every
 * (event, endpoint) pair gets exactly one row, committed with the cursor. The body is built once
 * per event and stored as the exact bytes every attempt sends.
 */
/** The part of the delivery worker the listener uses: wake it for due rows, or hand new rows over without a claim round. */
export type Adopter = {
  wake(endpointKeys?: string[]): void;
  reserve(key: string): boolean;
  release(keys: string[]): void;
  lease(): number;
  adopt(rows: ClaimedDelivery[]): Promise<void>;
};

export function webhookListener(deps: { log: Logger; worker: Adopter }): Listener {
  let inserted: string[] = [];
  // Rows reserved on this node's worker in the current batch, handed over after commit.
  let reserved: string[] = [];
  let adoptable: ClaimedDelivery[] = [];
  return {
    name: 'webhooks',
    async handle(events, trx) {
      // A batch whose commit failed never reached afterCommit: give its reservations back.
      if (reserved.length) deps.worker.release(reserved);
      reserved = [];
      adoptable = [];
      inserted = [];
      try {
        await collect(events, trx);
      } catch (err) {
        if (reserved.length) deps.worker.release(reserved);
        reserved = [];
        adoptable = [];
        throw err;
      }
    },
    afterCommit() {
      const rows = adoptable;
      reserved = [];
      adoptable = [];
      if (rows.length) void deps.worker.adopt(rows);
      if (inserted.length) deps.worker.wake(inserted); // rows this node could not take at once are due now
    },
  };

  async function collect(events: OutboxEvent[], trx: Tx) {
    const callbacks = new Map<number, boolean>();
    const hooks = new Map<number, Awaited<ReturnType<typeof activeWebhooks>>>();
    const rows: NewDelivery[] = [];
    for (const e of events) {
      const event = WEBHOOK_EVENTS[e.name];
      if (!event) continue;
      const routing = await route(trx, e);
      if (!routing) continue;
      const endpoints: { type: 'inbox' | 'webhook'; id: number }[] = [];
      const cb = routing.callbackInbox;
      if (cb != null && CALLBACK_EVENTS.has(event)) {
        if (!callbacks.has(cb)) callbacks.set(cb, !!(await inboxCallbackUrl(trx, e.accountId, cb)));
        if (callbacks.get(cb)) endpoints.push({ type: 'inbox', id: cb });
      }
      if (!hooks.has(e.accountId)) hooks.set(e.accountId, await activeWebhooks(trx, e.accountId));
      for (const w of hooks.get(e.accountId)!) {
        if (!w.subscriptions.has(event)) continue;
        if (w.inbox_id != null && !routing.inboxIds.includes(w.inbox_id)) continue;
        endpoints.push({ type: 'webhook', id: w.id });
      }
      if (!endpoints.length) continue;
      // A body that cannot be built throws: the dispatcher retries the event on its own, then records
      // it as a dead event and moves on (a transient failure is retried, never skipped).
      const body = await buildBody(trx, event, e, routing);
      if (!body) continue;
      const payload = JSON.stringify(stripSecrets(body));
      for (const ep of endpoints) {
        rows.push({
          delivery_id: newDeliveryId(),
          account_id: e.accountId,
          endpoint_type: ep.type,
          endpoint_id: ep.id,
          event_id: e.id,
          event_name: event,
          message_id: routing.messageId,
          payload,
        });
      }
    }
    if (!rows.length) return;
    const lease = deps.worker.lease();
    for (const r of rows) {
      const key = `${r.endpoint_type}:${r.endpoint_id}`;
      if (deps.worker.reserve(key)) {
        r.lease_until = lease;
        reserved.push(key);
      }
    }
    const ids = await insertDeliveries(trx, rows);
    const unused: string[] = [];
    for (const r of rows) {
      const key = `${r.endpoint_type}:${r.endpoint_id}`;
      const id = ids.get(r.delivery_id);
      if (!r.lease_until) {
        if (id !== undefined) inserted.push(key);
      } else if (id === undefined) unused.push(key); // already there (a re-run): nothing to send
      else adoptable.push({ ...r, id, event_name: r.event_name, attempts: 0, lease_until: lease, logged: 0 });
    }
    if (unused.length) deps.worker.release(unused);
    reserved = adoptable.map((d) => `${d.endpoint_type}:${d.endpoint_id}`);
    inserted = [...new Set(inserted)];
  }
}

async function route(db: Tx, e: OutboxEvent): Promise<Routing | null> {
  const p = e.payload as Json;
  if (e.name.startsWith('message.')) {
    const m = await messageRouting(db, e.accountId, Number(p.message_id));
    if (!m || m.message_type === 2) return null; // activity messages never leave as webhooks
    return { callbackInbox: m.inbox_id, inboxIds: [m.inbox_id], messageId: m.id, senderType: m.sender_type };
  }
  if (e.name.startsWith('conversation.')) {
    const c = await conversationInbox(db, e.accountId, Number(p.conversation_id));
    if (!c) return null;
    return { callbackInbox: c.inbox_id, inboxIds: [c.inbox_id], messageId: null, senderType: null };
  }
  if (e.name.startsWith('contact.')) {
    const inboxIds = await contactInboxIds(db, e.accountId, Number(p.contact_id));
    return { callbackInbox: null, inboxIds, messageId: null, senderType: null };
  }
  if (e.name.startsWith('inbox.')) {
    const id = Number(p.inbox_id);
    return { callbackInbox: null, inboxIds: [id], messageId: null, senderType: null };
  }
  return null;
}

/** `changed_attributes` as the reference sends it: a list of `{attr: {previous_value, current_value}}`. */
export function changedAttributesList(raw: unknown): Json[] | null {
  if (raw == null) return null;
  if (Array.isArray(raw)) return raw as Json[];
  if (typeof raw !== 'object') return null;
  return Object.entries(raw as Json).map(([k, v]) => {
    if (Array.isArray(v)) return { [k]: { previous_value: v[0] ?? null, current_value: v[1] ?? null } };
    if (v && typeof v === 'object' && ('previous_value' in v || 'current_value' in v)) return { [k]: v };
    return { [k]: { previous_value: null, current_value: v } };
  });
}

async function buildBody(db: Executor, event: string, e: OutboxEvent, routing: Routing): Promise<Json | null> {
  const p = e.payload as Json;
  switch (event) {
    case 'message_created':
    case 'message_updated': {
      const data = await loadMessageWebhookData(db, Number(p.message_id));
      return data ? { ...seedShapeMessage(data as Json, routing.senderType), event } : null;
    }
    case 'conversation_created':
    case 'conversation_updated':
    case 'conversation_status_changed': {
      const data = await loadConversationWebhookData(db, Number(p.conversation_id));
      if (!data) return null;
      const body: Json = { ...seedShapeConversation(data as Json), event };
      if (event !== 'conversation_created') body.changed_attributes = changedAttributesList(p.changed_attributes);
      return body;
    }
    case 'conversation_typing_on':
    case 'conversation_typing_off': {
      const conversation = await loadConversationWebhookData(db, Number(p.conversation_id));
      if (!conversation) return null;
      const typist = (p.typist ?? {}) as { type?: string; id?: number };
      let user: Json | null = null;
      if (typist.type === 'contact') user = ((await loadContactWebhookData(db, Number(typist.id))) as Json) ?? null;
      else if (typist.id != null) {
        const u = await findUserBasics(db, Number(typist.id));
        user = u ? userWebhookData(u) : null;
      }
      return { event, user, conversation: seedShapeConversation(conversation as Json), is_private: !!p.is_private };
    }
    case 'contact_created':
    case 'contact_updated': {
      const data = await loadContactWebhookData(db, Number(p.contact_id));
      if (!data) return null;
      const body: Json = { ...(data as Json), event };
      if (event === 'contact_updated' && p.changed_attributes != null) body.changed_attributes = changedAttributesList(p.changed_attributes);
      return body;
    }
    case 'inbox_created':
    case 'inbox_updated': {
      const inbox = await findInbox(db, e.accountId, Number(p.inbox_id));
      const account = await findAccountRef(db, e.accountId);
      return inbox && account ? { ...inboxEventWebhookData(inbox, account), event } : null;
    }
  }
  return null;
}

import type { Logger } from 'pino';
import type { Tx } from '../kernel/db.js';
import type { Listener } from '../kernel/events/outbox.js';
import type { AnyOutboxEvent } from '../kernel/events/types.js';
import { MESSAGE_TYPE } from '../kernel/constants.js';
import { newDeliveryId } from './signer.js';
import {
  activeWebhooks,
  contactInboxIds,
  conversationInbox,
  inboxCallbackUrl,
  insertDeliveries,
  messageRouting,
  type NewDelivery,
} from './repository.js';
import { webhookBody, webhookEventOf, type WebhookEventName } from './presenters.js';
import type { ClaimedDelivery } from './delivery-repository.js';

export { WEBHOOK_EVENTS } from './presenters.js';

/** What the API-channel callback receives (no subscription filter); contact and inbox events go to account webhooks only. */
const CALLBACK_EVENTS = new Set<WebhookEventName>([
  'message_created',
  'message_updated',
  'conversation_created',
  'conversation_updated',
  'conversation_status_changed',
  'conversation_typing_on',
  'conversation_typing_off',
]);

/** Where an event belongs: the inbox whose callback hears it, and the inboxes an inbox-filtered webhook matches. */
type Routing = { callbackInbox: number | null; inboxIds: number[]; messageId: number | null };

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

  async function collect(events: AnyOutboxEvent[], trx: Tx) {
    const callbacks = new Map<number, boolean>();
    const hooks = new Map<number, Awaited<ReturnType<typeof activeWebhooks>>>();
    const rows: NewDelivery[] = [];
    for (const e of events) {
      const event = webhookEventOf(e.name);
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
      const payload = await webhookBody(trx, e);
      if (!payload) continue;
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

async function route(db: Tx, e: AnyOutboxEvent): Promise<Routing | null> {
  switch (e.name) {
    case 'message.created':
    case 'message.updated': {
      const m = await messageRouting(db, e.accountId, e.payload.message_id);
      if (!m || m.message_type === MESSAGE_TYPE.activity) return null; // activity messages never leave as webhooks
      return { callbackInbox: m.inbox_id, inboxIds: [m.inbox_id], messageId: m.id };
    }
    case 'conversation.created':
    case 'conversation.updated':
    case 'conversation.status_changed':
    case 'conversation.typing_on':
    case 'conversation.typing_off': {
      const c = await conversationInbox(db, e.accountId, e.payload.conversation_id);
      return c ? { callbackInbox: c.inbox_id, inboxIds: [c.inbox_id], messageId: null } : null;
    }
    case 'contact.created':
    case 'contact.updated':
      return { callbackInbox: null, inboxIds: await contactInboxIds(db, e.accountId, e.payload.contact_id), messageId: null };
    case 'inbox.created':
    case 'inbox.updated':
      return { callbackInbox: null, inboxIds: [e.payload.inbox_id], messageId: null };
    default:
      return null;
  }
}

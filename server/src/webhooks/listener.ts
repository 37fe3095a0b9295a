import type { Logger } from 'pino';
import type { Executor } from '../kernel/db.js';
import type { BatchCommit, Listener } from '../kernel/events/outbox.js';
import type { AnyOutboxEvent } from '../kernel/events/types.js';
import { newDeliveryId } from './signer.js';
import { contactInboxIds, insertDeliveries, type NewDelivery } from './repository.js';
import { webhookEventOf, type WebhookEventName } from './presenters.js';
import { webhookBodies } from './bodies.js';
import { EndpointDirectory } from './routing.js';
import { endpointKey, isDeliveryStateOnly, type ClaimedDelivery } from './delivery-repository.js';

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

/** The part of the delivery worker the listener uses: hand new rows over without a claim round, or tell it rows wait in the database. */
export type Adopter = {
  /** Room for one new row of the endpoint on this node, to be inserted in flight under `lease()` (false: insert it pending). */
  reserve(key: string): boolean;
  release(keys: string[]): void;
  lease(): number;
  adopt(rows: ClaimedDelivery[]): Promise<void>;
  /** Rows inserted pending (no room, or older rows of the endpoint wait): claim them as soon as their endpoint has room. */
  queued(rows: { key: string; id: number }[]): void;
};

type Endpoint = { type: 'inbox' | 'webhook'; id: number };

/**
 * Outbox → webhook_deliveries: every (event, endpoint) pair gets exactly one row, holding the exact
 * bytes every attempt sends, built once per event.
 *
 * A `plan` listener: the batch is routed from the endpoint directory (routing.ts) without a query
 * when nothing changed — an inbox without a callback in an account without webhooks costs nothing
 * but the events read — and bodies are built for the whole batch at once (bodies.ts). The rows are
 * inserted by the returned commit, in the transaction that moves the cursor; a batch without rows
 * writes nothing (SQLite: the cursor moves in memory; after a crash those events are routed again,
 * and `insertDeliveries` dedupes on (event, endpoint), so a re-run never inserts a second row).
 */
export function webhookListener(deps: { log: Logger; worker: Adopter; directory?: EndpointDirectory }): Listener {
  const directory = deps.directory ?? new EndpointDirectory();
  /** Where this node's last batch left the cursor: any other start means someone else moved it. */
  let lastTo: number | null = null;
  let queued: { key: string; id: number }[] = [];
  // Rows reserved on this node's worker in the current batch, handed over after commit.
  let reserved: string[] = [];
  let adoptable: ClaimedDelivery[] = [];

  const giveBack = () => {
    if (reserved.length) deps.worker.release(reserved);
    reserved = [];
    adoptable = [];
    queued = [];
  };

  return {
    name: 'webhooks',
    async handle(events, trx) {
      const commit = await plan(events, trx, null);
      await commit?.(trx);
    },
    plan: (events, db, cursor) => plan(events, db, cursor),
    // PostgreSQL asks first, outside the cursor's transaction: a batch without an endpoint costs no transaction.
    async skip(events, db, cursor) {
      giveBack();
      continuity(cursor);
      if ((await targetsOf(events, db)).size) return false;
      lastTo = events[events.length - 1].id;
      return true;
    },
    afterCommit() {
      const rows = adoptable;
      const pending = queued;
      reserved = [];
      adoptable = [];
      queued = [];
      // Adopted rows are older than the batch's queued ones: the worker queues them first.
      if (rows.length) void deps.worker.adopt(rows);
      if (pending.length) deps.worker.queued(pending);
    },
  };

  async function plan(events: AnyOutboxEvent[], db: Executor, cursor: number | null): Promise<BatchCommit | null> {
    // A batch whose commit failed never reached afterCommit: give its reservations back.
    giveBack();
    continuity(cursor);
    lastTo = events[events.length - 1].id;
    try {
      const rows = await route(events, db);
      if (!rows.length) return null;
      const lease = deps.worker.lease();
      for (const r of rows) {
        const key = endpointKey(r.endpoint_type, r.endpoint_id);
        if (deps.worker.reserve(key)) {
          r.lease_until = lease;
          reserved.push(key);
        }
      }
      return async (trx) => {
        const ids = await insertDeliveries(trx, rows);
        const unused: string[] = [];
        adoptable = [];
        queued = [];
        for (const r of rows) {
          const key = endpointKey(r.endpoint_type, r.endpoint_id);
          const id = ids.get(r.delivery_id);
          if (!r.lease_until) {
            if (id !== undefined) queued.push({ key, id });
          } else if (id === undefined) unused.push(key); // already there (a re-run): nothing to send
          else adoptable.push({ ...r, id, event_name: r.event_name, attempts: 0, lease_until: lease, logged: 0 });
        }
        if (unused.length) deps.worker.release(unused);
        reserved = adoptable.map((d) => endpointKey(d.endpoint_type, d.endpoint_id));
      };
    } catch (err) {
      giveBack();
      throw err;
    }
  }

  /**
   * The directory holds only what this node saw happen: if another node (or a skipped dead event,
   * or a rolled-back batch) moved the cursor since this node's last batch, changes may have passed
   * unseen, so it starts over.
   */
  function continuity(cursor: number | null) {
    if (cursor === null || cursor !== lastTo) directory.clear();
  }

  /** The endpoints of each event of the batch that has any (no query when the directory knows them). */
  async function targetsOf(events: AnyOutboxEvent[], db: Executor): Promise<Map<number, Endpoint[]>> {
    // What the batch changes is forgotten first; what is then loaded is at least as new as every
    // event of the batch (they were all committed before it was read).
    for (const e of events) directory.observe(e);
    const targets = new Map<number, Endpoint[]>();
    const hooked = events.filter((e) => webhookEventOf(e.name));
    if (!hooked.length) return targets;
    await directory.load(db, {
      conversations: hooked.map(conversationOf).filter((id): id is number => id !== null),
      inboxes: hooked.flatMap((e) => (e.name === 'inbox.created' || e.name === 'inbox.updated' ? [e.payload.inbox_id] : [])),
      accounts: hooked.map((e) => e.accountId),
    });
    for (const e of hooked) {
      const endpoints = await endpointsOf(db, e);
      if (endpoints.length) targets.set(e.id, endpoints);
    }
    return targets;
  }

  /** The batch's delivery rows, in event order. */
  async function route(events: AnyOutboxEvent[], db: Executor): Promise<NewDelivery[]> {
    const targets = await targetsOf(events, db);
    if (!targets.size) return [];
    const hooked = events.filter((e) => targets.has(e.id));
    const bodies = await webhookBodies(db, hooked);
    const rows: NewDelivery[] = [];
    for (const e of hooked) {
      const endpoints = targets.get(e.id);
      const built = endpoints && bodies.get(e.id);
      if (!endpoints || !built) continue;
      for (const ep of endpoints) {
        rows.push({
          delivery_id: newDeliveryId(),
          account_id: e.accountId,
          endpoint_type: ep.type,
          endpoint_id: ep.id,
          event_id: e.id,
          event_name: webhookEventOf(e.name)!,
          message_id: built.messageId,
          payload: built.body,
        });
      }
    }
    return rows;
  }

  /** The endpoints that hear about an event: its inbox's callback, and the account webhooks subscribed to it (inbox filter applied). */
  async function endpointsOf(db: Executor, e: AnyOutboxEvent): Promise<Endpoint[]> {
    const event = webhookEventOf(e.name)!;
    const conv = conversationOf(e);
    let inboxIds: number[] | null;
    if (conv !== null) {
      const inbox = directory.inboxOf(e.accountId, conv);
      if (inbox === null) return []; // the conversation is gone (or not the account's)
      inboxIds = [inbox];
    } else if (e.name === 'inbox.created' || e.name === 'inbox.updated') inboxIds = [e.payload.inbox_id];
    else inboxIds = null; // contact events: the contact's inboxes, read only if a filter needs them
    const out: Endpoint[] = [];
    if (conv !== null && CALLBACK_EVENTS.has(event) && !isDeliveryStateOnly(e) && directory.hasCallback(e.accountId, inboxIds![0])) out.push({ type: 'inbox', id: inboxIds![0] });
    for (const w of directory.webhooksOf(e.accountId)) {
      if (!w.subscriptions.has(event)) continue;
      if (w.inbox_id != null) {
        if (inboxIds === null) inboxIds = e.name === 'contact.created' || e.name === 'contact.updated' ? await contactInboxIds(db, e.accountId, e.payload.contact_id) : [];
        if (!inboxIds.includes(w.inbox_id)) continue;
      }
      out.push({ type: 'webhook', id: w.id });
    }
    return out;
  }
}

/** The conversation a message or conversation event is about (messages carry their conversation id). */
function conversationOf(e: AnyOutboxEvent): number | null {
  switch (e.name) {
    case 'message.created':
    case 'message.updated':
    case 'conversation.created':
    case 'conversation.updated':
    case 'conversation.status_changed':
    case 'conversation.typing_on':
    case 'conversation.typing_off':
      return e.payload.conversation_id;
    default:
      return null;
  }
}

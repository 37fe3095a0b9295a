import type { Database, Executor, Tx } from '../kernel/db.js';
import { fromJson, now, toJson } from '../kernel/db.js';
import { recordEvent } from '../kernel/events/outbox.js';
import { MESSAGE_STATUS, MESSAGE_STATUS_NAMES as STATUS_NAMES, MESSAGE_TYPE } from '../kernel/constants.js';
import type { AnyOutboxEvent } from '../kernel/events/types.js';
import { redactText } from '../kernel/redact.js';
import { deliveryState } from '../messages/format.js';
import type { DeliveryRow } from './repository.js';

/** The delivery worker's queries: claiming due rows, endpoints, and writing attempt outcomes. */

export type EndpointType = 'inbox' | 'webhook';

export type ClaimedDelivery = Pick<
  DeliveryRow,
  'id' | 'delivery_id' | 'account_id' | 'endpoint_type' | 'endpoint_id' | 'event_name' | 'message_id' | 'payload' | 'attempts'
> & {
  lease_until: number;
  /** Attempts already in the log (redelivery restarts `attempts`, the log keeps counting). */
  logged: number;
  /** A claim candidate whose lease expired (in flight on a node that crashed), rather than a pending row. */
  expired?: boolean;
};

export const endpointKey = (type: string, id: number) => `${type}:${id}`;

/**
 * Claims due deliveries in one short transaction: pending rows whose time has come, plus in-flight
 * rows whose lease expired (their sender crashed). PostgreSQL locks the candidates with
 * `FOR UPDATE SKIP LOCKED` so several nodes never claim the same row; SQLite has one writer.
 * `take` picks which candidates to lease (per-endpoint caps); the others stay untouched.
 */
export async function claimDue(
  database: Database,
  opts: {
    limit: number;
    leaseMs: number;
    /** Also re-claim in-flight rows whose lease expired (a crashed or stopped node's sends). */
    includeExpired: boolean;
    saturated: Record<EndpointType, number[]>;
    take: (rows: ClaimedDelivery[]) => ClaimedDelivery[];
  },
): Promise<{ claimed: ClaimedDelivery[]; more: boolean }> {
  return database.transaction(async (trx) => {
    const t = now();
    const lease = t + opts.leaseMs;
    const cols = ['id', 'delivery_id', 'account_id', 'endpoint_type', 'endpoint_id', 'event_name', 'message_id', 'attempts'] as const;
    // Two index-friendly queries (status, next_attempt_at) rather than one OR: due pending rows, then expired leases.
    const candidates = (status: 'pending' | 'in_flight') => {
      let q = trx.selectFrom('webhook_deliveries').select(cols).where('status', '=', status);
      q = status === 'pending' ? q.where('next_attempt_at', '<=', t).orderBy('next_attempt_at').orderBy('id') : q.where('lease_until', '<=', t);
      for (const type of ['inbox', 'webhook'] as const) {
        const ids = opts.saturated[type];
        if (ids.length) q = q.where((eb) => eb.not(eb.and([eb('endpoint_type', '=', type), eb('endpoint_id', 'in', ids)])));
      }
      q = q.limit(opts.limit);
      if (database.dialect === 'postgres') q = q.forUpdate().skipLocked();
      return q.execute();
    };
    const expired = opts.includeExpired ? await candidates('in_flight') : [];
    const due = await candidates('pending');
    // `more`: a query hit its limit, so due rows may remain beyond what was seen.
    const more = expired.length === opts.limit || due.length === opts.limit;
    const found = [...expired.map((r) => ({ ...r, expired: true })), ...due];
    const rows = found.map((r) => ({ ...r, payload: '', lease_until: lease, logged: 0 }));
    const kept = opts.take(rows);
    if (!kept.length) return { claimed: [], more };
    await leaseRows(trx, kept, t, lease);
    return { claimed: kept, more };
  });
}

/**
 * Claims an endpoint's due pending rows from row id `fromId` on, oldest first, at most `limit`
 * (its free room on this node): the refill of an endpoint whose new rows overflowed into the
 * database. One short transaction on the endpoint index (endpoint_type, endpoint_id, id); on
 * PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED`, so nodes never claim the same row.
 */
export async function claimEndpoint(
  database: Database,
  opts: { type: EndpointType; id: number; fromId: number; limit: number; leaseMs: number },
): Promise<ClaimedDelivery[]> {
  return database.transaction(async (trx) => {
    const t = now();
    const lease = t + opts.leaseMs;
    let q = trx
      .selectFrom('webhook_deliveries')
      .select(['id', 'delivery_id', 'account_id', 'endpoint_type', 'endpoint_id', 'event_name', 'message_id', 'attempts', 'payload'])
      .where('endpoint_type', '=', opts.type)
      .where('endpoint_id', '=', opts.id)
      .where('id', '>=', opts.fromId)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', t)
      .orderBy('id')
      .limit(opts.limit);
    if (database.dialect === 'postgres') q = q.forUpdate().skipLocked();
    const found = await q.execute();
    if (!found.length) return [];
    const rows = found.map((r) => ({ ...r, lease_until: lease, logged: 0 }));
    await leaseRows(trx, rows, t, lease, false);
    return rows;
  });
}

/** Leases claimed rows (in flight until `lease`) and fills in their logged attempts (and their bodies, unless read already). */
async function leaseRows(trx: Tx, kept: ClaimedDelivery[], t: number, lease: number, readBodies = true) {
  const ids = kept.map((r) => r.id);
  await trx.updateTable('webhook_deliveries').set({ status: 'in_flight', lease_until: lease, updated_at: t }).where('id', 'in', ids).execute();
  // Bodies are read only for the rows actually leased (candidates beyond the caps may be large).
  const bodies = readBodies ? await trx.selectFrom('webhook_deliveries').select(['id', 'payload']).where('id', 'in', ids).execute() : [];
  const byId = new Map(bodies.map((b) => [b.id, b.payload]));
  const counts = await trx
    .selectFrom('webhook_attempts')
    .select(['delivery_id', (eb) => eb.fn.countAll().as('n')])
    .where('delivery_id', 'in', ids)
    .groupBy('delivery_id')
    .execute();
  const logged = new Map(counts.map((c) => [c.delivery_id, Number(c.n)]));
  for (const r of kept) {
    if (readBodies) r.payload = byId.get(r.id) ?? '';
    r.logged = logged.get(r.id) ?? 0;
  }
}

export type Endpoint = {
  type: EndpointType;
  id: number;
  url: string | null;
  secret: string;
  previousSecret: string | null;
  rotatedAt: number | null;
  disabled: boolean;
};

/** Current URL and secrets of the endpoints of a claimed batch (a changed URL or secret applies to retries). */
export async function loadEndpoints(db: Executor, keys: { inbox: number[]; webhook: number[] }): Promise<Map<string, Endpoint>> {
  const out = new Map<string, Endpoint>();
  if (keys.inbox.length) {
    const rows = await db
      .selectFrom('inboxes')
      .innerJoin('channel_api', 'channel_api.id', 'inboxes.channel_id')
      .select(['inboxes.id', 'channel_api.webhook_url', 'channel_api.secret', 'channel_api.previous_secret', 'channel_api.secret_rotated_at'])
      .where('inboxes.id', 'in', keys.inbox)
      .execute();
    for (const r of rows) {
      out.set(endpointKey('inbox', r.id), {
        type: 'inbox',
        id: r.id,
        url: r.webhook_url || null,
        secret: r.secret,
        previousSecret: r.previous_secret,
        rotatedAt: r.secret_rotated_at == null ? null : Number(r.secret_rotated_at),
        disabled: false,
      });
    }
  }
  if (keys.webhook.length) {
    const rows = await db.selectFrom('webhooks').selectAll().where('id', 'in', keys.webhook).execute();
    for (const r of rows) {
      out.set(endpointKey('webhook', r.id), {
        type: 'webhook',
        id: r.id,
        url: r.url,
        secret: r.secret,
        previousSecret: r.previous_secret,
        rotatedAt: r.secret_rotated_at == null ? null : Number(r.secret_rotated_at),
        disabled: r.disabled_at != null,
      });
    }
  }
  return out;
}

export type Outcome = {
  delivery: ClaimedDelivery;
  /** Null when no request was made (endpoint gone or disabled). */
  attempt: {
    startedAt: number;
    durationMs: number;
    statusCode: number | null;
    snippet: string | null;
    error: string | null;
  } | null;
  status: 'succeeded' | 'pending' | 'failed';
  nextAttemptAt: number | null;
  error: string | null;
  statusCode: number | null;
  /** 410 Gone from an account webhook: disable it. */
  disableWebhook?: string;
  /** The SSRF guard refused the address (no connection made): remembered on the row (`blocked`). */
  blocked?: boolean;
};

/**
 * Writes the outcomes of finished sends in one transaction (group commit). A delivery row is
 * updated only while it still carries the lease this worker set: a redelivery or a reclaim after
 * an expired lease wins. Outgoing-message status follows `message_created` callback deliveries.
 */
export async function writeOutcomes(database: Database, outcomes: Outcome[]) {
  await database.transaction(async (trx) => {
    const t = now();
    const logged = outcomes.filter((o) => o.attempt);
    for (let i = 0; i < logged.length; i += 100) {
      await trx
        .insertInto('webhook_attempts')
        .values(
          logged.slice(i, i + 100).map((o) => ({
            delivery_id: o.delivery.id,
            attempt: o.delivery.logged + 1,
            started_at: o.attempt!.startedAt,
            duration_ms: o.attempt!.durationMs,
            status_code: o.attempt!.statusCode,
            response_snippet: o.attempt!.snippet,
            error: o.attempt!.error,
          })),
        )
        .execute();
    }
    // Plain successes (nothing follows from them) are written together, one statement per lease
    // and status code — the rows adopted from one listener batch share a lease; the others one by
    // one, since what follows depends on whether that row still carried this worker's lease.
    const groups = new Map<string, Outcome[]>();
    const single: Outcome[] = [];
    for (const o of outcomes) {
      if (!isPlainSuccess(o)) {
        single.push(o);
        continue;
      }
      const k = `${o.delivery.lease_until}|${o.delivery.attempts}|${o.statusCode}`;
      const g = groups.get(k);
      if (g) g.push(o);
      else groups.set(k, [o]);
    }
    for (const g of groups.values()) {
      const { delivery: d, statusCode } = g[0];
      for (let i = 0; i < g.length; i += 100) {
        await trx
          .updateTable('webhook_deliveries')
          .set({
            status: 'succeeded',
            attempts: d.attempts + 1,
            next_attempt_at: null,
            lease_until: null,
            last_status_code: statusCode,
            last_error: null,
            blocked: 0,
            completed_at: t,
            updated_at: t,
          })
          .where('id', 'in', g.slice(i, i + 100).map((o) => o.delivery.id))
          .where('status', '=', 'in_flight')
          .where('lease_until', '=', d.lease_until)
          .execute();
      }
    }
    for (const o of single) {
      const d = o.delivery;
      const res = await trx
        .updateTable('webhook_deliveries')
        .set({
          status: o.status,
          attempts: o.attempt ? d.attempts + 1 : d.attempts,
          next_attempt_at: o.nextAttemptAt,
          lease_until: null,
          last_status_code: o.statusCode,
          last_error: o.error,
          blocked: o.blocked ? 1 : 0,
          completed_at: o.status === 'pending' ? null : t,
          updated_at: t,
        })
        .where('id', '=', d.id)
        .where('status', '=', 'in_flight')
        .where('lease_until', '=', d.lease_until)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) continue; // redelivered or reclaimed meanwhile
      if (o.disableWebhook) await disableWebhook(trx, database.dialect, d.account_id, d.endpoint_id, o.disableWebhook, t);
      // A message's callback: every failed attempt and the end of a delivery that failed before
      // are the message's business (its delivery state); a first-time success is not.
      if (isMessageCallback(d) && (o.status !== 'succeeded' || d.logged > 0)) await markOutgoingMessage(trx, database.dialect, d.message_id!, o);
    }
  });
}

/**
 * A success after which nothing else is written: an attempt was made, no webhook to disable, and
 * no outgoing message to set back to sent (only a message_created callback that failed before can
 * have marked one failed).
 */
function isPlainSuccess(o: Outcome) {
  const d = o.delivery;
  if (o.status !== 'succeeded' || !o.attempt || o.error !== null || o.nextAttemptAt !== null || o.disableWebhook) return false;
  return !(isMessageCallback(d) && d.logged > 0);
}

/** The `message_created` delivery of a message to its API inbox's callback: its outcome is the message's delivery state. */
const isMessageCallback = (d: ClaimedDelivery) => d.endpoint_type === 'inbox' && d.event_name === 'message_created' && d.message_id != null;

async function disableWebhook(trx: Tx, dialect: Database['dialect'], accountId: number, webhookId: number, reason: string, t: number) {
  await trx.updateTable('webhooks').set({ disabled_at: t, disabled_reason: reason, updated_at: t }).where('id', '=', webhookId).execute();
  // The listener stops routing events to it from this event on (src/webhooks/routing.ts).
  await recordEvent(trx, dialect, accountId, 'webhook.changed', { webhook_id: webhookId });
  await trx
    .updateTable('webhook_deliveries')
    .set({ status: 'failed', last_error: `endpoint disabled: ${reason}`, next_attempt_at: null, completed_at: t, updated_at: t })
    .where('endpoint_type', '=', 'webhook')
    .where('endpoint_id', '=', webhookId)
    .where('status', '=', 'pending')
    .execute();
}


/**
 * The delivery state of an outgoing message from its callback's outcome (messages/format.ts
 * deliveryState, `content_attributes.delivery`): `retrying` from the first failed attempt,
 * `delivered` when an attempt after failures succeeds, `failed` when the delivery fails for good.
 * DESIGN §3 as before: failing for good also makes the message `status: failed` with
 * `content_attributes.external_error`; a later success sets a failed message back to sent.
 * Incoming (and any non-outgoing) messages are never touched. Records one `message.updated` when
 * something changed, `previous_changes` naming what did (`delivery`, `status`, `external_error`).
 */
async function markOutgoingMessage(trx: Tx, dialect: Database['dialect'], messageId: number, o: Outcome) {
  const m = await trx
    .selectFrom('messages')
    .select(['id', 'account_id', 'conversation_id', 'message_type', 'status', 'content_attributes'])
    .where('id', '=', messageId)
    .executeTakeFirst();
  if (!m || m.message_type !== MESSAGE_TYPE.outgoing) return;
  const attrs = fromJson<Record<string, unknown>>(m.content_attributes, {});
  const before = { delivery: attrs.delivery ?? null, external_error: attrs.external_error ?? null };
  const made = o.attempt ? o.delivery.attempts + 1 : o.delivery.attempts;
  // The text may quote the callback URL: its credentials never reach the message.
  const error = o.error === null ? null : redactText(o.error);
  let status = m.status;
  if (o.status === 'pending') {
    if (!o.attempt) return;
    attrs.delivery = deliveryState('retrying', made, o.nextAttemptAt, error);
  } else if (o.status === 'failed') {
    // Failing without an attempt (callback removed, inbox gone) matters only to a message that was retrying.
    if (!o.attempt && !before.delivery) return;
    attrs.delivery = deliveryState('failed', made, null, error);
    if (m.status !== MESSAGE_STATUS.failed) {
      status = MESSAGE_STATUS.failed;
      attrs.external_error = error ?? 'webhook delivery failed';
    }
  } else {
    // A success after failures: the state says so; a message marked failed becomes sent again.
    if (!before.delivery && m.status !== MESSAGE_STATUS.failed) return;
    attrs.delivery = deliveryState('delivered', made, null, null);
    if (m.status === MESSAGE_STATUS.failed) {
      status = MESSAGE_STATUS.sent;
      delete attrs.external_error;
    }
  }
  const previous: Record<string, unknown[]> = {};
  if (status !== m.status) previous.status = [STATUS_NAMES[m.status] ?? m.status, STATUS_NAMES[status] ?? status];
  if ((attrs.external_error ?? null) !== before.external_error) previous.external_error = [before.external_error, attrs.external_error ?? null];
  if (JSON.stringify(attrs.delivery) !== JSON.stringify(before.delivery)) previous.delivery = [before.delivery, attrs.delivery];
  if (!Object.keys(previous).length) return;
  await trx
    .updateTable('messages')
    .set({ status, content_attributes: toJson(attrs), updated_at: now() })
    .where('id', '=', m.id)
    .execute();
  await recordEvent(trx, dialect, m.account_id, 'message.updated', { message_id: m.id, conversation_id: m.conversation_id, previous_changes: previous });
}

/**
 * A `message.updated` that only moved a message's callback delivery state: not sent back to that
 * callback (it is the endpoint failing, and would hear of a message it has not received yet),
 * only to sockets and account webhooks (src/webhooks/listener.ts).
 */
export function isDeliveryStateOnly(e: AnyOutboxEvent): boolean {
  if (e.name !== 'message.updated') return false;
  const keys = Object.keys(e.payload.previous_changes ?? {});
  return keys.length === 1 && keys[0] === 'delivery';
}

/** Shutdown: hand unfinished sends back as due now, without counting an attempt. */
export async function releaseLeases(db: Executor, leased: { id: number; lease_until: number }[]) {
  const t = now();
  for (const r of leased) {
    await db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', lease_until: null, next_attempt_at: t, updated_at: t })
      .where('id', '=', r.id)
      .where('status', '=', 'in_flight')
      .where('lease_until', '=', r.lease_until)
      .execute();
  }
}

/**
 * SQLite has exactly one delivering process: in-flight rows found at start are orphans of a
 * crash and are due again at once (PostgreSQL nodes wait for the lease to expire instead).
 */
export async function recoverOrphans(db: Executor): Promise<number> {
  const t = now();
  const res = await db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', lease_until: null, next_attempt_at: t, updated_at: t })
    .where('status', '=', 'in_flight')
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/**
 * A start with WEBHOOK_ALLOW_PRIVATE_NETWORK=true: pending deliveries whose last attempt the SSRF
 * guard refused are due now, not after their retry delay (minutes to hours). Failed ones stay
 * failed, as every dead letter: they are sent again on purpose (redeliver, or a message's retry).
 */
export async function releaseBlocked(db: Executor): Promise<number> {
  const t = now();
  const res = await db
    .updateTable('webhook_deliveries')
    .set({ next_attempt_at: t, updated_at: t })
    .where('status', '=', 'pending')
    .where('blocked', '=', 1)
    .where('next_attempt_at', '>', t)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Earliest time something becomes due (pending or an expiring lease), for the wake-up timer. */
export async function nextDueAt(db: Executor): Promise<number | null> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => eb.fn.min('next_attempt_at').as('at'))
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return row?.at == null ? null : Number(row.at);
}

import type { Selectable } from 'kysely';
import type { Executor } from '../kernel/db.js';
import { fromJson, now, toJson } from '../kernel/db.js';
import type { ConversationsTable, WebhookAttemptsTable, WebhookDeliveriesTable, WebhooksTable } from '../kernel/schema.js';

/** Account webhooks and the delivery log. Every query is scoped by account. */

export type WebhookRow = Selectable<WebhooksTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;
export type AttemptRow = Selectable<WebhookAttemptsTable>;
export type WebhookWithInbox = WebhookRow & { inbox_name: string | null };
type ConversationRow = Selectable<ConversationsTable>;

function selectWebhook(db: Executor) {
  return db
    .selectFrom('webhooks')
    .leftJoin('inboxes', 'inboxes.id', 'webhooks.inbox_id')
    .selectAll('webhooks')
    .select('inboxes.name as inbox_name');
}

export function listWebhooks(db: Executor, accountId: number): Promise<WebhookWithInbox[]> {
  return selectWebhook(db).where('webhooks.account_id', '=', accountId).orderBy('webhooks.id').execute();
}

export function findWebhook(db: Executor, accountId: number, id: number): Promise<WebhookWithInbox | undefined> {
  return selectWebhook(db).where('webhooks.account_id', '=', accountId).where('webhooks.id', '=', id).executeTakeFirst();
}

export async function webhookUrlTaken(db: Executor, accountId: number, url: string, exceptId?: number): Promise<boolean> {
  let q = db.selectFrom('webhooks').select('id').where('account_id', '=', accountId).where('url', '=', url);
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  return !!(await q.executeTakeFirst());
}

export async function inboxInAccount(db: Executor, accountId: number, inboxId: number): Promise<boolean> {
  const row = await db.selectFrom('inboxes').select('id').where('account_id', '=', accountId).where('id', '=', inboxId).executeTakeFirst();
  return !!row;
}

export type WebhookFields = { url: string; name: string | null; inbox_id: number | null; subscriptions: string[] };

export async function insertWebhook(db: Executor, accountId: number, f: WebhookFields, secret: string): Promise<number> {
  const t = now();
  const row = await db
    .insertInto('webhooks')
    .values({
      account_id: accountId,
      inbox_id: f.inbox_id,
      url: f.url,
      name: f.name,
      subscriptions: toJson(f.subscriptions),
      secret,
      previous_secret: null,
      secret_rotated_at: null,
      disabled_at: null,
      disabled_reason: null,
      created_at: t,
      updated_at: t,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Updates the given fields; any update re-enables an endpoint that a 410 disabled. */
export async function updateWebhook(db: Executor, accountId: number, id: number, f: Partial<WebhookFields>) {
  await db
    .updateTable('webhooks')
    .set({
      ...(f.url !== undefined ? { url: f.url } : {}),
      ...(f.name !== undefined ? { name: f.name } : {}),
      ...(f.inbox_id !== undefined ? { inbox_id: f.inbox_id } : {}),
      ...(f.subscriptions !== undefined ? { subscriptions: toJson(f.subscriptions) } : {}),
      disabled_at: null,
      disabled_reason: null,
      updated_at: now(),
    })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .execute();
}

export async function rotateWebhookSecret(db: Executor, accountId: number, id: number, current: string, next: string) {
  const t = now();
  await db
    .updateTable('webhooks')
    .set({ secret: next, previous_secret: current, secret_rotated_at: t, updated_at: t })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .execute();
}

/** Deletes the webhook and its delivery log (attempts cascade). */
export async function deleteWebhook(db: Executor, accountId: number, id: number) {
  await db
    .deleteFrom('webhook_deliveries')
    .where('account_id', '=', accountId)
    .where('endpoint_type', '=', 'webhook')
    .where('endpoint_id', '=', id)
    .execute();
  await db.deleteFrom('webhooks').where('account_id', '=', accountId).where('id', '=', id).execute();
}

export const subscriptionsOf = (w: Pick<WebhookRow, 'subscriptions'>) => fromJson<string[]>(w.subscriptions, []);

// ---------------------------------------------------------------- delivery log

export const PAGE_SIZE = 25;

export async function listDeliveries(
  db: Executor,
  accountId: number,
  q: { endpointType: 'inbox' | 'webhook'; endpointId: number; status?: string; page: number },
): Promise<{ rows: DeliveryRow[]; count: number }> {
  let base = db
    .selectFrom('webhook_deliveries')
    .where('account_id', '=', accountId)
    .where('endpoint_type', '=', q.endpointType)
    .where('endpoint_id', '=', q.endpointId);
  if (q.status) base = base.where('status', '=', q.status);
  const total = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  const rows = await base
    .selectAll()
    .orderBy('id', 'desc')
    .limit(PAGE_SIZE)
    .offset((q.page - 1) * PAGE_SIZE)
    .execute();
  return { rows, count: Number(total?.n ?? 0) };
}

export async function attemptsOf(db: Executor, deliveryRowIds: number[]): Promise<Map<number, AttemptRow[]>> {
  const out = new Map<number, AttemptRow[]>();
  if (!deliveryRowIds.length) return out;
  const rows = await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', deliveryRowIds).orderBy('id').execute();
  for (const r of rows) {
    const list = out.get(r.delivery_id) ?? [];
    list.push(r);
    out.set(r.delivery_id, list);
  }
  return out;
}

/** By row id (digits) or by delivery id (`msg_…`). */
export function findDelivery(db: Executor, accountId: number, key: string): Promise<DeliveryRow | undefined> {
  let q = db.selectFrom('webhook_deliveries').selectAll().where('account_id', '=', accountId);
  if (/^\d+$/.test(key)) {
    // A row id beyond the integer column's range cannot exist (PostgreSQL would reject the comparison).
    if (Number(key) > 2_147_483_647) return Promise.resolve(undefined);
    q = q.where('id', '=', Number(key));
  } else q = q.where('delivery_id', '=', key);
  return q.executeTakeFirst();
}

/** Back to pending, due now, with the retry schedule restarted; the delivery id stays the same. */
export async function requeueDelivery(db: Executor, accountId: number, id: number) {
  const t = now();
  await db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', attempts: 0, next_attempt_at: t, lease_until: null, completed_at: null, updated_at: t })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .execute();
}

/** The latest `message_created` callback delivery of a message to its API inbox, if one was made. */
export function messageCallbackDelivery(db: Executor, accountId: number, inboxId: number, messageId: number): Promise<DeliveryRow | undefined> {
  return db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('message_id', '=', messageId)
    .where('account_id', '=', accountId)
    .where('endpoint_type', '=', 'inbox')
    .where('endpoint_id', '=', inboxId)
    .where('event_name', '=', 'message_created')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

// ---------------------------------------------------------------- fan-out (outbox listener)

/** The inbox and account of these conversations (the listener's routing directory; a conversation never changes inbox). */
export async function conversationInboxes(db: Executor, ids: number[]): Promise<{ id: number; account_id: number; inbox_id: number }[]> {
  if (!ids.length) return [];
  return db.selectFrom('conversations').select(['id', 'account_id', 'inbox_id']).where('id', 'in', ids).execute();
}

/** Whether these inboxes have an API-channel callback URL, with their account. */
export async function inboxCallbacks(db: Executor, inboxIds: number[]): Promise<{ id: number; account_id: number; webhook_url: string | null }[]> {
  if (!inboxIds.length) return [];
  return db
    .selectFrom('inboxes')
    .innerJoin('channel_api', 'channel_api.id', 'inboxes.channel_id')
    .select(['inboxes.id', 'inboxes.account_id', 'channel_api.webhook_url'])
    .where('inboxes.id', 'in', inboxIds)
    .execute();
}

export type ActiveWebhook = { id: number; inbox_id: number | null; subscriptions: Set<string> };

/** Enabled account webhooks of these accounts, with their filters. */
export async function activeWebhooksOf(db: Executor, accountIds: number[]): Promise<Map<number, ActiveWebhook[]>> {
  const out = new Map<number, ActiveWebhook[]>(accountIds.map((id) => [id, []]));
  if (!accountIds.length) return out;
  const rows = await db
    .selectFrom('webhooks')
    .select(['id', 'account_id', 'inbox_id', 'subscriptions'])
    .where('account_id', 'in', accountIds)
    .where('disabled_at', 'is', null)
    .orderBy('id')
    .execute();
  for (const r of rows) out.get(r.account_id)?.push({ id: r.id, inbox_id: r.inbox_id, subscriptions: new Set(subscriptionsOf(r)) });
  return out;
}

/** The inboxes a contact has a session in (an inbox-filtered webhook hears about those contacts). */
export async function contactInboxIds(db: Executor, accountId: number, contactId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('contact_inboxes')
    .innerJoin('contacts', 'contacts.id', 'contact_inboxes.contact_id')
    .select('contact_inboxes.inbox_id')
    .where('contacts.account_id', '=', accountId)
    .where('contacts.id', '=', contactId)
    .execute();
  return rows.map((r) => r.inbox_id);
}

/** Conversations of the account by internal id (webhook bodies of a listener batch). */
export function conversationsByIds(db: Executor, accountId: number, ids: number[]): Promise<ConversationRow[]> {
  if (!ids.length) return Promise.resolve([]);
  return db.selectFrom('conversations').selectAll().where('account_id', '=', accountId).where('id', 'in', ids).execute();
}

export function findUserBasics(db: Executor, userId: number) {
  return db.selectFrom('users').select(['id', 'name', 'email']).where('id', '=', userId).executeTakeFirst();
}

export type NewDelivery = {
  delivery_id: string;
  account_id: number;
  endpoint_type: 'inbox' | 'webhook';
  endpoint_id: number;
  event_id: number;
  event_name: string;
  message_id: number | null;
  payload: string;
  /** Set when this node's worker takes the row at once: it is inserted in flight under this lease. */
  lease_until?: number | null;
};

/**
 * One row per (event, endpoint), due now — pending, or already in flight under the inserting node's
 * lease; a re-run of the same event inserts nothing. Returns the inserted rows' ids.
 */
export async function insertDeliveries(db: Executor, rows: NewDelivery[]): Promise<Map<string, number>> {
  const t = now();
  const ids = new Map<string, number>();
  for (let i = 0; i < rows.length; i += 100) {
    const inserted = await db
      .insertInto('webhook_deliveries')
      .values(
        rows.slice(i, i + 100).map((r) => ({
          ...r,
          status: r.lease_until ? 'in_flight' : 'pending',
          attempts: 0,
          next_attempt_at: t,
          lease_until: r.lease_until ?? null,
          last_status_code: null,
          last_error: null,
          completed_at: null,
          created_at: t,
          updated_at: t,
        })),
      )
      .onConflict((oc) => oc.columns(['event_id', 'endpoint_type', 'endpoint_id']).doNothing())
      .returning(['id', 'delivery_id'])
      .execute();
    for (const r of inserted) ids.set(r.delivery_id, r.id);
  }
  return ids;
}

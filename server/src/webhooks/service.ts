import type { AppContext } from '../context.js';
import type { Executor } from '../kernel/db.js';
import { isUniqueViolation } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import { webhookSecret } from '../kernel/tokens.js';
import * as repo from './repository.js';
import { presentCallbackWarnings, presentDelivery, presentDeliveryPage, presentWebhookList, presentWebhookPayload } from './presenters.js';
import { privateCallback } from './callback-check.js';
import { ALLOWED_SUBSCRIPTIONS, DEFAULT_SUBSCRIPTIONS } from './schemas.js';

/** Account webhooks, the delivery log and redelivery. Callers have checked the administrator role. */

export type WebhookInput = { url?: string; name?: string | null; inbox_id?: number | null; subscriptions?: string[] };

const ALLOWED = new Set<string>(ALLOWED_SUBSCRIPTIONS);

async function validate(ctx: AppContext, accountId: number, input: WebhookInput, exceptId?: number): Promise<Partial<repo.WebhookFields>> {
  const db = ctx.database.db;
  const out: Partial<repo.WebhookFields> = {};
  if (input.url !== undefined) {
    const url = input.url.trim();
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      /* invalid below */
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || !parsed.hostname) {
      throw errors.invalid('Url is invalid', ['url']);
    }
    if (await repo.webhookUrlTaken(db, accountId, url, exceptId)) throw errors.invalid('Url has already been taken', ['url']);
    out.url = url;
  }
  if (input.subscriptions !== undefined) {
    const subs = [...new Set(input.subscriptions.map((s) => String(s).trim()))];
    if (!subs.length || subs.some((s) => !ALLOWED.has(s))) throw errors.invalid('Subscriptions Invalid events', ['subscriptions']);
    out.subscriptions = subs;
  }
  if (input.inbox_id !== undefined) {
    if (input.inbox_id !== null && !(await repo.inboxInAccount(db, accountId, input.inbox_id))) {
      throw errors.invalid('Inbox must belong to the account', ['inbox_id']);
    }
    out.inbox_id = input.inbox_id;
  }
  if (input.name !== undefined) out.name = input.name === '' ? null : input.name;
  return out;
}

/**
 * The `warnings` of a callback URL (an inbox's `webhook_url`, a webhook's `url`): the SSRF guard
 * refuses its address while WEBHOOK_ALLOW_PRIVATE_NETWORK=false. Undefined when there is nothing to
 * say, or a host name lookup could not tell within its bound (src/webhooks/callback-check.ts).
 * Asked outside any transaction: a lookup may take up to its bound.
 */
export async function callbackWarnings(ctx: AppContext, url: string | null | undefined, field: 'webhook_url' | 'url') {
  return presentCallbackWarnings(await privateCallback(url, { allowPrivateNetwork: ctx.config.webhookAllowPrivateNetwork }), field);
}

async function presentOne(ctx: AppContext, accountId: number, id: number) {
  const w = await repo.findWebhook(ctx.database.db, accountId, id);
  if (!w) throw errors.notFound();
  return presentWebhookPayload(w, await callbackWarnings(ctx, w.url, 'url'));
}

function uniqueUrl<T>(p: Promise<T>): Promise<T> {
  return p.catch((err) => {
    throw isUniqueViolation(err) ? errors.invalid('Url has already been taken', ['url']) : err;
  });
}

export async function listWebhooks(ctx: AppContext, accountId: number) {
  const rows = await repo.listWebhooks(ctx.database.db, accountId);
  // Lookups of distinct hosts run together, each bounded, answers cached for a while.
  return presentWebhookList(rows, await Promise.all(rows.map((w) => callbackWarnings(ctx, w.url, 'url'))));
}

/*
 * Every change to which webhooks an account has, or what they hear, records `webhook.changed` in
 * its transaction: the webhook listener reads the account's webhooks again when it reaches that
 * event, so every event committed after the change is routed with it (src/webhooks/routing.ts).
 */

export async function createWebhook(ctx: AppContext, accountId: number, input: WebhookInput) {
  if (input.url === undefined) throw errors.invalid("Url can't be blank", ['url']);
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as WebhookInput;
  const f = await validate(ctx, accountId, { subscriptions: [...DEFAULT_SUBSCRIPTIONS], inbox_id: null, name: null, ...given });
  const id = await uniqueUrl(
    ctx.database.transaction(async (trx) => {
      const created = await repo.insertWebhook(trx, accountId, f as repo.WebhookFields, webhookSecret());
      await ctx.events(trx, accountId, 'webhook.changed', { webhook_id: created });
      return created;
    }),
  );
  return presentOne(ctx, accountId, id);
}

export async function updateWebhook(ctx: AppContext, accountId: number, id: number, input: WebhookInput) {
  if (!(await repo.findWebhook(ctx.database.db, accountId, id))) throw errors.notFound();
  const f = await validate(ctx, accountId, input, id);
  await uniqueUrl(
    ctx.database.transaction(async (trx) => {
      await repo.updateWebhook(trx, accountId, id, f);
      await ctx.events(trx, accountId, 'webhook.changed', { webhook_id: id });
    }),
  );
  return presentOne(ctx, accountId, id);
}

export async function deleteWebhook(ctx: AppContext, accountId: number, id: number) {
  if (!(await repo.findWebhook(ctx.database.db, accountId, id))) throw errors.notFound();
  await ctx.database.transaction(async (trx) => {
    await repo.deleteWebhook(trx, accountId, id);
    await ctx.events(trx, accountId, 'webhook.changed', { webhook_id: id });
  });
}

/** New secret; the old one keeps signing alongside it (webhook-signature) for 24 h. */
export async function resetWebhookSecret(ctx: AppContext, accountId: number, id: number) {
  const w = await repo.findWebhook(ctx.database.db, accountId, id);
  if (!w) throw errors.notFound();
  await repo.rotateWebhookSecret(ctx.database.db, accountId, id, w.secret, webhookSecret());
  return presentOne(ctx, accountId, id);
}

async function page(ctx: AppContext, accountId: number, endpointType: 'inbox' | 'webhook', endpointId: number, q: { page?: number; status?: string }) {
  const db = ctx.database.db;
  const pageNo = q.page ?? 1;
  const { rows, count } = await repo.listDeliveries(db, accountId, { endpointType, endpointId, status: q.status, page: pageNo });
  const attempts = await repo.attemptsOf(db, rows.map((r) => r.id));
  return presentDeliveryPage(rows, attempts, count, pageNo, repo.PAGE_SIZE);
}

export async function webhookDeliveries(ctx: AppContext, accountId: number, webhookId: number, q: { page?: number; status?: string }) {
  if (!(await repo.findWebhook(ctx.database.db, accountId, webhookId))) throw errors.notFound();
  return page(ctx, accountId, 'webhook', webhookId, q);
}

export async function inboxDeliveries(ctx: AppContext, accountId: number, inboxId: number, q: { page?: number; status?: string }) {
  if (!(await repo.inboxInAccount(ctx.database.db, accountId, inboxId))) throw errors.notFound();
  return page(ctx, accountId, 'inbox', inboxId, q);
}

/** Any status → pending now with the schedule restarted; the delivery id stays the same. */
export async function redeliver(ctx: AppContext, accountId: number, key: string) {
  const db = ctx.database.db;
  const d = await repo.findDelivery(db, accountId, key);
  if (!d) throw errors.notFound();
  await repo.requeueDelivery(db, accountId, d.id);
  ctx.deliveries.wake();
  const fresh = (await repo.findDelivery(db, accountId, String(d.id)))!;
  const attempts = await repo.attemptsOf(db, [d.id]);
  return presentDelivery(fresh, attempts.get(d.id) ?? []);
}

/**
 * Re-queues the `message_created` callback delivery of an outgoing message (POST …/messages/:id/retry),
 * in the caller's transaction: the same delivery id and body, due now, retry schedule restarted.
 * Returns whether there was one; the caller wakes the worker (`ctx.deliveries.wake()`) after commit.
 */
export async function requeueMessageCallback(db: Executor, accountId: number, inboxId: number, messageId: number): Promise<boolean> {
  const d = await repo.messageCallbackDelivery(db, accountId, inboxId, messageId);
  if (!d) return false;
  await repo.requeueDelivery(db, accountId, d.id);
  return true;
}

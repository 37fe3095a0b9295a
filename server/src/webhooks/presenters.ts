import type { Executor } from '../kernel/db.js';
import { fromJson, unix } from '../kernel/db.js';
import type { AnyOutboxEvent, ChangedAttributes, DomainEventName } from '../kernel/events/types.js';
import { scrubSecrets } from '../kernel/scrub.js';
import { logPageMeta } from '../kernel/presenters.js';
import { findInbox } from '../inboxes/repository.js';
import { inboxEventWebhookData } from '../inboxes/presenter.js';
import { loadMessageWebhookData, messageWebhookData } from '../messages/presenters.js';
import type { MessageRow, Sender } from '../messages/format.js';
import { conversationWebhookData, loadConversationWebhookData } from '../conversations/presenters.js';
import type { ConversationBundle } from '../conversations/bundle.js';
import { loadContactWebhookData } from '../contacts/presenters.js';
import { findAccountRef } from '../contacts/repository.js';
import { userWebhookData } from '../users/presenter.js';
import type { AttemptRow, DeliveryRow, WebhookWithInbox } from './repository.js';
import { findUserBasics, subscriptionsOf } from './repository.js';
import type { PrivateCallback } from './callback-check.js';

// ------------------------------------------------------------------ callback warnings

/** ipaddr.js range names as a sentence says them. */
const RANGE_WORDS: Record<string, string> = { linkLocal: 'link-local', carrierGradeNat: 'carrier-grade NAT', uniqueLocal: 'unique local', unspecified: 'unspecified', private: 'private', loopback: 'loopback' };

/**
 * `warnings` of an inbox or webhook whose callback URL the SSRF guard refuses: one
 * `{code: 'private_network', field, host, address, reason, message}`; undefined (the key is left
 * out) when there is nothing to say.
 */
export function presentCallbackWarnings(found: PrivateCallback | null, field: 'webhook_url' | 'url') {
  if (!found) return undefined;
  const range = RANGE_WORDS[found.reason] ?? found.reason;
  const where = found.host === found.address ? `is ${/^[aeiou]/i.test(range) ? 'an' : 'a'} ${range} address` : `resolves to ${found.address} (${range})`;
  const message =
    `The callback URL's host ${found.host} ${where}: deliveries to it are refused while WEBHOOK_ALLOW_PRIVATE_NETWORK=false. ` +
    'Use a publicly reachable URL, or set WEBHOOK_ALLOW_PRIVATE_NETWORK=true on the server if ChannelX should call this network.';
  return [{ code: 'private_network' as const, field, host: found.host, address: found.address, reason: found.reason, message }];
}
export type CallbackWarnings = ReturnType<typeof presentCallbackWarnings>;

// ------------------------------------------------------------------ API JSON (administrators)

/** `{id, name, url, account_id, subscriptions, secret, inbox?}` as the reference renders a webhook, plus `warnings` when its URL is refused. */
export function presentWebhook(w: WebhookWithInbox, warnings?: CallbackWarnings) {
  return {
    id: w.id,
    name: w.name,
    url: w.url,
    account_id: w.account_id,
    subscriptions: subscriptionsOf(w),
    secret: w.secret,
    webhook_type: w.inbox_id ? 'inbox_type' : 'account_type',
    ...(w.inbox_id ? { inbox: { id: w.inbox_id, name: w.inbox_name } } : {}),
    disabled_at: unix(w.disabled_at),
    disabled_reason: w.disabled_reason,
    ...(warnings ? { warnings } : {}),
  };
}

/** `{payload: {webhook}}` (create, update, secret reset). */
export const presentWebhookPayload = (w: WebhookWithInbox, warnings?: CallbackWarnings) => ({ payload: { webhook: presentWebhook(w, warnings) } });

/** `{payload: {webhooks}}`. */
export const presentWebhookList = (rows: WebhookWithInbox[], warnings: (CallbackWarnings | undefined)[] = []) => ({
  payload: { webhooks: rows.map((w, i) => presentWebhook(w, warnings[i])) },
});

export function presentAttempt(a: AttemptRow) {
  return {
    attempt: a.attempt,
    started_at: Math.floor(Number(a.started_at) / 1000),
    status_code: a.status_code,
    duration_ms: a.duration_ms,
    response_snippet: a.response_snippet,
    error: a.error,
  };
}

export function presentDelivery(d: DeliveryRow, attempts: AttemptRow[]) {
  return {
    id: d.id,
    delivery_id: d.delivery_id,
    event: d.event_name,
    status: d.status,
    endpoint_type: d.endpoint_type,
    endpoint_id: d.endpoint_id,
    message_id: d.message_id,
    attempts_count: attempts.length,
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    next_attempt_at: d.status === 'pending' ? unix(Number(d.next_attempt_at)) : null,
    completed_at: unix(d.completed_at == null ? null : Number(d.completed_at)),
    created_at: Math.floor(Number(d.created_at) / 1000),
    updated_at: Math.floor(Number(d.updated_at) / 1000),
    payload: fromJson(d.payload, {}),
    attempts: attempts.map(presentAttempt),
  };
}

export function presentDeliveryPage(rows: DeliveryRow[], attempts: Map<number, AttemptRow[]>, count: number, page: number, perPage: number) {
  return {
    meta: logPageMeta(count, page, perPage),
    payload: rows.map((d) => presentDelivery(d, attempts.get(d.id) ?? [])),
  };
}

// ------------------------------------------------------------------ webhook bodies

/** Domain event → webhook event name. Events not listed here are not delivered. */
export const WEBHOOK_EVENTS = {
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
} as const satisfies Partial<Record<DomainEventName, string>>;
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[keyof typeof WEBHOOK_EVENTS];

export const webhookEventOf = (name: DomainEventName): WebhookEventName | undefined => (WEBHOOK_EVENTS as Partial<Record<DomainEventName, WebhookEventName>>)[name];

/** `changed_attributes` as the reference sends it: a list of `{attr: {previous_value, current_value}}`. */
const changedList = (raw: ChangedAttributes | undefined) => raw ?? null;

type AccountRef = { id: number; name: string };


/** A webhook body as the exact bytes every attempt sends: the event's data, `event`, secrets scrubbed. */
export const webhookBytes = (body: Record<string, unknown>) => JSON.stringify(scrubSecrets(body));

/** The body of a message event from a batch's data. */
export function messageEventBody(e: AnyOutboxEvent & { name: 'message.created' | 'message.updated' }, m: MessageRow, b: ConversationBundle, account: AccountRef, sender: Sender) {
  return webhookBytes({ ...messageWebhookData(m, b, account, sender), event: webhookEventOf(e.name) });
}

/** The body of a conversation event from a batch's data (`user`: the typist of a typing event, loaded by the caller). */
export function conversationEventBody(e: AnyOutboxEvent, b: ConversationBundle, account: AccountRef, user?: Record<string, unknown> | null): string | null {
  const event = webhookEventOf(e.name);
  const data = conversationWebhookData(b, account);
  switch (e.name) {
    case 'conversation.created':
      return webhookBytes({ ...data, event });
    case 'conversation.updated':
    case 'conversation.status_changed':
      return webhookBytes({ ...data, event, changed_attributes: changedList(e.payload.changed_attributes) });
    case 'conversation.typing_on':
    case 'conversation.typing_off':
      return webhookBytes({ event, user: user ?? null, conversation: data, is_private: e.payload.is_private });
    default:
      return null;
  }
}

/** The typist of a typing event, as its webhook body shows it (null when gone). */
export async function loadTypist(db: Executor, typist: { type: 'user' | 'contact'; id: number }): Promise<Record<string, unknown> | null> {
  if (typist.type === 'contact') return loadContactWebhookData(db, typist.id);
  const u = await findUserBasics(db, typist.id);
  return u ? userWebhookData(u) : null;
}

/**
 * A webhook body by its own queries: the entity's webhook data (src/<entity>/presenters.ts), the
 * `event` key, what changed, secrets scrubbed, as the exact bytes every attempt sends. Null when
 * the subject is gone (or the event has no webhook). The listener builds message and conversation
 * bodies for a whole batch instead (src/webhooks/bodies.ts, the builders above); contact and inbox
 * bodies are built here.
 */
export async function webhookBody(db: Executor, e: AnyOutboxEvent): Promise<string | null> {
  const body = await bodyOf(db, e);
  return body ? webhookBytes(body) : null;
}

async function bodyOf(db: Executor, e: AnyOutboxEvent): Promise<Record<string, unknown> | null> {
  const event = webhookEventOf(e.name);
  switch (e.name) {
    case 'message.created':
    case 'message.updated': {
      const data = await loadMessageWebhookData(db, e.payload.message_id);
      return data && { ...data, event };
    }
    case 'conversation.created': {
      const data = await loadConversationWebhookData(db, e.payload.conversation_id);
      return data && { ...data, event };
    }
    case 'conversation.updated':
    case 'conversation.status_changed': {
      const data = await loadConversationWebhookData(db, e.payload.conversation_id);
      return data && { ...data, event, changed_attributes: changedList(e.payload.changed_attributes) };
    }
    case 'conversation.typing_on':
    case 'conversation.typing_off': {
      const conversation = await loadConversationWebhookData(db, e.payload.conversation_id);
      if (!conversation) return null;
      const user = await loadTypist(db, e.payload.typist);
      return { event, user, conversation, is_private: e.payload.is_private };
    }
    case 'contact.created':
    case 'contact.updated': {
      const data = await loadContactWebhookData(db, e.payload.contact_id);
      if (!data) return null;
      const changed = e.name === 'contact.updated' ? e.payload.changed_attributes : undefined;
      return { ...data, event, ...(changed ? { changed_attributes: changed } : {}) };
    }
    case 'inbox.created':
    case 'inbox.updated': {
      const inbox = await findInbox(db, e.accountId, e.payload.inbox_id);
      const account = await findAccountRef(db, e.accountId);
      return inbox && account ? { ...inboxEventWebhookData(inbox, account), event } : null;
    }
    default:
      return null;
  }
}

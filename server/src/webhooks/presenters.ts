import { fromJson, unix } from '../kernel/db.js';
import type { AttemptRow, DeliveryRow, WebhookWithInbox } from './repository.js';
import { subscriptionsOf } from './repository.js';
import { MESSAGE_TYPES } from '../messages/format.js';
import { CONVERSATION_STATUSES } from '../conversations/repository.js';

// ------------------------------------------------------------------ API JSON (administrators)

/** `{id, name, url, account_id, subscriptions, secret, inbox?}` as the reference renders a webhook. */
export function presentWebhook(w: WebhookWithInbox) {
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
  };
}

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
    meta: { count, current_page: page, total_pages: Math.max(1, Math.ceil(count / perPage)) },
    payload: rows.map((d) => presentDelivery(d, attempts.get(d.id) ?? [])),
  };
}

// ------------------------------------------------------------------ webhook bodies

/** Keys that never leave the server in a webhook body, at any depth. */
const SECRET_KEYS = new Set([
  'pubsub_token',
  'hmac_token',
  'secret',
  'previous_secret',
  'access_token',
  'api_access_token',
  'password',
  'password_hash',
  'token_digest',
  'identifier_hash',
]);

/** Removes secret-bearing keys recursively (defence in depth: presenters should not include them). */
export function stripSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripSecrets) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (!SECRET_KEYS.has(k)) out[k] = stripSecrets(v);
    return out as T;
  }
  return value;
}

type Json = Record<string, any>;

/** The seed's example shape wins: string message_type, typed sender, channel and string status in `conversation`. */
export function seedShapeMessage(data: Json, senderType: string | null): Json {
  const out: Json = { ...data };
  if (typeof out.message_type === 'number') out.message_type = MESSAGE_TYPES[out.message_type] ?? out.message_type;
  if (out.sender && typeof out.sender === 'object' && !out.sender.type) {
    const t = (senderType ?? '').toLowerCase();
    out.sender = { ...out.sender, type: t === 'agentbot' ? 'agent_bot' : t || 'contact' };
  }
  if (out.conversation && typeof out.conversation === 'object') out.conversation = seedShapeConversation(out.conversation);
  return out;
}

export function seedShapeConversation(data: Json): Json {
  const out: Json = { ...data };
  out.channel ??= 'Channel::Api';
  if (typeof out.status === 'number') out.status = CONVERSATION_STATUSES[out.status] ?? out.status;
  return out;
}

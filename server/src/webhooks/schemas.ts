import { Type } from 'typebox';
import { AnyJson, Id, NullableText, Open, Text } from '../accounts/schemas.js';

/** The reference's column default, used when a create request names no subscriptions. */
export const DEFAULT_SUBSCRIPTIONS = [
  'conversation_status_changed',
  'conversation_updated',
  'conversation_created',
  'contact_created',
  'contact_updated',
  'message_created',
  'message_updated',
  'webwidget_triggered',
] as const;

/** Subscriptions an account webhook may take (the reference list): the defaults, inbox and typing events. */
export const ALLOWED_SUBSCRIPTIONS = [
  ...DEFAULT_SUBSCRIPTIONS,
  'inbox_created',
  'inbox_updated',
  'conversation_typing_on',
  'conversation_typing_off',
] as const;

export const DELIVERY_STATUSES = ['pending', 'in_flight', 'succeeded', 'failed'] as const;

const WebhookFields = {
  url: Type.Optional(Text(2048, { description: 'http(s) URL, unique per account' })),
  name: Type.Optional(NullableText(255)),
  inbox_id: Type.Optional(Type.Union([Type.Null(), Id], { description: 'only events of this inbox; null = every inbox' })),
  subscriptions: Type.Optional(
    Type.Array(Type.String({ maxLength: 64 }), {
      maxItems: 32,
      description: `non-empty; any of ${ALLOWED_SUBSCRIPTIONS.join(', ')}`,
    }),
  ),
};

/** `{webhook:{…}}` as the reference takes it, or the same fields unwrapped. */
export const WebhookBody = Type.Object({ ...WebhookFields, webhook: Type.Optional(Type.Object(WebhookFields)) });

/** `warnings` of an inbox or webhook whose callback URL cannot be delivered to (absent when there is nothing to say). */
export const CallbackWarningsJson = Type.Array(
  Open(
    {
      code: Type.Literal('private_network'),
      field: Type.String({ description: "the attribute it is about: 'webhook_url' (inbox) or 'url' (webhook)" }),
      host: Type.String(),
      address: Type.String({ description: 'the refused address the host is or resolves to' }),
      reason: Type.String({ description: 'loopback, private, linkLocal, carrierGradeNat, uniqueLocal, unspecified, …' }),
      message: Type.String({ description: 'what it means and what to do, for a person' }),
    },
    'The URL is stored, but deliveries to this address are refused while WEBHOOK_ALLOW_PRIVATE_NETWORK=false',
  ),
  {
    description:
      'Extra key (not in the reference), present only when there is something to say: the callback host is (or, looked up within 1.5 s, resolves to) an address the SSRF guard refuses. A lookup that fails says nothing.',
  },
);

export const WebhookJson = Open(
  {
    id: Type.Integer(),
    name: Type.Union([Type.String(), Type.Null()]),
    url: Type.String(),
    account_id: Type.Integer(),
    subscriptions: Type.Array(Type.String()),
    secret: Type.String({ description: 'signing secret (whsec_…), shown to administrators' }),
    inbox: Type.Optional(Open({ id: Type.Integer(), name: Type.Union([Type.String(), Type.Null()]) })),
    disabled_at: Type.Union([Type.Integer(), Type.Null()], { description: 'unix seconds; set when the endpoint answered 410 Gone' }),
    warnings: Type.Optional(CallbackWarningsJson),
  },
  'An account webhook',
);

export const WebhookResponse = Open({ payload: Open({ webhook: WebhookJson }) });
export const WebhookListResponse = Open({ payload: Open({ webhooks: Type.Array(WebhookJson) }) });

export const AttemptJson = Open({
  attempt: Type.Integer(),
  started_at: Type.Integer({ description: 'unix seconds' }),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  duration_ms: Type.Integer(),
  response_snippet: Type.Union([Type.String(), Type.Null()], { description: 'first 1 KiB of the response body' }),
  error: Type.Union([Type.String(), Type.Null()]),
});

export const DeliveryJson = Open(
  {
    id: Type.Integer(),
    delivery_id: Type.String({ description: 'X-ChannelX-Delivery / webhook-id; the same across retries' }),
    event: Type.String(),
    status: Type.String({ description: DELIVERY_STATUSES.join(' | ') }),
    attempts: Type.Array(AttemptJson),
    next_attempt_at: Type.Union([Type.Integer(), Type.Null()]),
    created_at: Type.Integer(),
    payload: AnyJson,
  },
  'One event sent to one endpoint',
);

export const DeliveryPageResponse = Open({
  meta: Open({ count: Type.Integer(), current_page: Type.Integer(), total_pages: Type.Integer() }),
  payload: Type.Array(DeliveryJson),
});

export const DeliveryQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  status: Type.Optional(Type.Union(DELIVERY_STATUSES.map((s) => Type.Literal(s)))),
});

export const InboxDeliveriesParams = Type.Object({ account_id: Id, inbox_id: Id });
export const RedeliverParams = Type.Object({
  account_id: Id,
  id: Type.String({ maxLength: 64, pattern: '^(\\d{1,10}|msg_[0-9A-Za-z]{1,60})$', description: 'row id or delivery id' }),
});

import { Type } from 'typebox';
import { Open } from '../accounts/schemas.js';

export const DeadEventJson = Open(
  {
    id: Type.Integer(),
    listener: Type.String({ description: 'the outbox listener that gave up: webhooks | realtime | …' }),
    event_id: Type.Integer({ description: 'id of the outbox event' }),
    event: Type.String({ description: 'domain event name, e.g. message.created' }),
    account_id: Type.Integer(),
    error: Type.String({ description: 'the last error message (truncated; no stack)' }),
    attempts: Type.Integer({ description: 'attempts made before the event was skipped' }),
    created_at: Type.Integer({ description: 'unix seconds' }),
  },
  'An event a listener could not process after bounded retries; the listener moved on without it',
);

export const DeadEventPageResponse = Open({
  meta: Open({ count: Type.Integer(), current_page: Type.Integer(), total_pages: Type.Integer() }),
  payload: Type.Array(DeadEventJson),
});

export const DeadEventQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
});

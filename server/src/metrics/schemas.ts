import { Type } from 'typebox';
import { Open } from '../accounts/schemas.js';

/** GET /health/ready (200 when every check passes, 503 otherwise). */
export const ReadinessJson = Open({
  status: Type.String({ description: 'ready | not_ready' }),
  checks: Open({
    database: Type.String({ description: 'up | down' }),
    migrations: Type.String({ description: 'applied | pending | unknown (database down)' }),
    outbox: Type.String({ description: 'running | stopped | failing (a listener is retrying a transient failure)' }),
    deliveries: Type.String({ description: 'running | stopped (the webhook delivery worker)' }),
    cable: Type.String({ description: 'accepting | closing (/cable, closed first at shutdown)' }),
  }),
  failing: Type.Array(Type.String(), { description: 'the names of the checks that failed (empty when ready)' }),
  pending_migrations: Type.Array(Type.String()),
  failing_listeners: Type.Array(Type.String()),
  version: Type.String(),
});

/** GET /metrics: the Prometheus text exposition format (version 0.0.4). */
export const MetricsText = Type.String({ description: 'Prometheus text exposition format' });

import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from '../kernel/db.js';
import { now } from '../kernel/db.js';
import { redactText } from '../kernel/redact.js';
import pkg from '../../package.json' with { type: 'json' };
import { endpointKey, releaseLeases, type ClaimedDelivery, type Endpoint, type Outcome } from './delivery-repository.js';
import type { WebhookSender } from './sender.js';
import { decideOutcome } from './retry-policy.js';
import { signedHeaders } from './signer.js';

export const USER_AGENT = `ChannelX-Webhooks/${pkg.version}`;

export type AttemptDeps = { database: Database; config: Config; log: Logger; client: WebhookSender; signal: AbortSignal };

/**
 * One attempt at a claimed delivery: signs and posts it (or fails it at once when its endpoint is
 * gone, disabled or without URL) and logs it. Returns the outcome to record, or null when the
 * send was cut short by shutdown (the row is handed back, not counted as an attempt).
 */
export async function attemptDelivery(deps: AttemptDeps, d: ClaimedDelivery, ep: Endpoint | undefined): Promise<Outcome | null> {
  if (!ep || !ep.url || ep.disabled) {
    const why = !ep ? 'endpoint no longer exists' : ep.disabled ? 'endpoint disabled' : 'callback URL removed';
    return { delivery: d, attempt: null, status: 'failed', nextAttemptAt: null, error: why, statusCode: null };
  }
  const startedAt = now();
  const headers = signedHeaders({
    deliveryId: d.delivery_id,
    event: d.event_name,
    body: d.payload,
    secrets: { secret: ep.secret, previousSecret: ep.previousSecret, rotatedAt: ep.rotatedAt },
    userAgent: USER_AGENT,
    at: startedAt,
  });
  const r = await deps.client.post(ep.url, headers, d.payload, deps.signal);
  if (deps.signal.aborted && r.error) {
    // Shutting down mid-send: not an attempt; the row is due again at the next start.
    await releaseLeases(deps.database.db, [d]).catch(() => {});
    return null;
  }
  const outcome = decideOutcome(d, ep, r, startedAt, deps.config.webhookRetrySchedule);
  // A refusal by the SSRF guard is the operator's to fix (the address, or WEBHOOK_ALLOW_PRIVATE_NETWORK): a warning.
  deps.log[r.blocked ? 'warn' : 'info'](
    {
      delivery_id: d.delivery_id,
      endpoint: endpointKey(d.endpoint_type, d.endpoint_id),
      event: d.event_name,
      attempt: d.attempts + 1,
      status: r.statusCode,
      ms: r.durationMs,
      // a transport error may quote the callback URL: no user-info nor credential parameter reaches the log
      ...(r.error ? { error: redactText(r.error) } : {}),
      outcome: outcome.status,
    },
    r.blocked ? 'webhook attempt refused: private network address' : 'webhook attempt',
  );
  return outcome;
}

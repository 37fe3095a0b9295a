import { now } from '../kernel/db.js';
import type { ClaimedDelivery, Endpoint, Outcome } from './delivery-repository.js';
import type { SendResult } from './http-client.js';

const DAY_MS = 24 * 3600 * 1000;

/**
 * What one attempt means for its delivery: success, another attempt per `schedule` (seconds per
 * retry, ±10 % jitter, a Retry-After honoured up to a day), or failed for good (schedule used up,
 * or 410 Gone, which also disables a webhook).
 */
export function decideOutcome(d: ClaimedDelivery, ep: Endpoint, r: SendResult, startedAt: number, schedule: number[]): Outcome {
  const attempt = { startedAt, durationMs: r.durationMs, statusCode: r.statusCode, snippet: r.snippet, error: r.error };
  const base = { delivery: d, attempt, error: r.error, statusCode: r.statusCode, ...(r.blocked ? { blocked: true } : {}) };
  if (!r.error) return { ...base, status: 'succeeded', nextAttemptAt: null };
  if (r.statusCode === 410) {
    return { ...base, status: 'failed', nextAttemptAt: null, ...(ep.type === 'webhook' ? { disableWebhook: '410 Gone' } : {}) };
  }
  const made = d.attempts + 1;
  if (made > schedule.length) return { ...base, status: 'failed', nextAttemptAt: null };
  let delay = schedule[made - 1] * 1000 * (0.9 + Math.random() * 0.2);
  if (r.retryAfterMs != null) delay = Math.max(delay, Math.min(r.retryAfterMs, DAY_MS));
  return { ...base, status: 'pending', nextAttemptAt: now() + Math.round(delay) };
}

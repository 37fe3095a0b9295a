/** How the dispatcher retries. Injectable (constructor, setRetryPolicy) so tests run fast. */
export type RetryPolicy = {
  /** Attempts at one event handled on its own before it is recorded as dead (default 3). */
  attempts: number;
  /** Pause before the second attempt at a failing event, doubled for each further one (default 50 ms). */
  backoffMs: number;
  /** Pause after the first transient failure, doubled for each further one (default 100 ms)… */
  transientMs: number;
  /** …up to this (default 30 s). */
  transientMaxMs: number;
};

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 50, transientMs: 100, transientMaxMs: 30_000 };

/** Pause before the next try after `failures` consecutive transient failures (exponential, capped). */
export function transientDelay(policy: RetryPolicy, failures: number): number {
  return Math.min(policy.transientMaxMs, policy.transientMs * 2 ** Math.min(failures - 1, 30));
}

/** Pause before attempt `failures + 1` at an event that failed on its own. */
export function eventBackoff(policy: RetryPolicy, failures: number): number {
  return policy.backoffMs * 2 ** (failures - 1);
}

/** Retry timing for a batch an output failed to deliver. */
export interface BackoffPolicy {
  /** Delay before the first retry, in ms. */
  initialMs: number;
  /** Cap on any single delay, in ms. */
  maxMs: number;
  /** Growth factor per attempt. */
  multiplier: number;
  /** Relative jitter, 0..1: the delay is spread over ±jitter around the nominal value. */
  jitter: number;
}

/** Defaults: 500 ms, doubling, capped at 30 s, ±20 % jitter. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, multiplier: 2, jitter: 0.2 };

/**
 * Delay before retry number `attempt` (1 = first retry). Jitter keeps several
 * failed batches (and several receivers behind one collector) from retrying in lockstep.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const exp = Math.max(0, attempt - 1);
  const nominal = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.multiplier, exp));
  const spread = nominal * policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.min(policy.maxMs, Math.round(nominal + spread)));
}

import type { RetryPolicy } from './workflow-definition';

/**
 * The ceiling of the delay before retry number `failedAttempts` (1 after the first failure):
 * initialDelayMs × backoffFactor^(failedAttempts − 1), capped at maxDelayMs.
 */
export function backoffCeilingMs(policy: RetryPolicy, failedAttempts: number): number {
  const exponent = Math.max(0, failedAttempts - 1);
  const raw = policy.initialDelayMs * Math.pow(policy.backoffFactor, exponent);
  return Math.min(policy.maxDelayMs, Number.isFinite(raw) ? raw : policy.maxDelayMs);
}

/**
 * "Full jitter" (AWS architecture blog, Exponential Backoff And Jitter): a uniform delay between 0
 * and the ceiling, so tasks that failed together do not retry together.
 */
export function backoffDelayMs(policy: RetryPolicy, failedAttempts: number, random: () => number = Math.random): number {
  const ceiling = backoffCeilingMs(policy, failedAttempts);
  return Math.min(ceiling, Math.floor(random() * (ceiling + 1)));
}

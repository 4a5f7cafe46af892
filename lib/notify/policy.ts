/** Pure delivery policies of the notifier: retry with backoff, and per-recipient pacing. */

/** Retry settings. */
export interface RetryPolicy {
  /** Attempts before a transient failure becomes a dead letter. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** 10 attempts from 30 s doubling up to 30 min: about 2.5 hours of outage before a dead letter. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 10, baseDelayMs: 30_000, maxDelayMs: 30 * 60_000 };

/** What to do after a failed send. */
export type RetryDecision = { action: "retry"; atMs: number } | { action: "dead" };

/**
 * After failed attempt number `attempts` (1 for the first): a permanent failure is dead at once,
 * a transient one retried at `now + base·2^(attempts−1)` (capped) until `maxAttempts`.
 */
export function decideRetry(
  attempts: number,
  permanent: boolean,
  nowMs: number,
  policy: RetryPolicy = DEFAULT_RETRY,
): RetryDecision {
  if (permanent || attempts >= policy.maxAttempts) return { action: "dead" };
  const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return { action: "retry", atMs: nowMs + delay };
}

/** Pacing settings: at most `perWindow` messages to one recipient per `windowMs`. */
export interface RateLimit {
  perWindow: number;
  windowMs: number;
}

/** 5 messages per recipient per 10 minutes; more wait for the next window (nothing is dropped). */
export const DEFAULT_RATE_LIMIT: RateLimit = { perWindow: 5, windowMs: 10 * 60_000 };

/** A recipient's sends in the current window (`["notify_rate", userId]`). */
export interface RateState {
  windowStartMs: number;
  count: number;
}

/** May one more message go to this recipient now? If so, the state after it; if not, when. */
export type PaceDecision = { send: true; next: RateState } | { send: false; atMs: number };

/** Fixed-window pacing. Pure. */
export function paceRecipient(
  state: RateState | null,
  nowMs: number,
  limit: RateLimit = DEFAULT_RATE_LIMIT,
): PaceDecision {
  if (!state || nowMs - state.windowStartMs >= limit.windowMs || nowMs < state.windowStartMs) {
    return { send: true, next: { windowStartMs: nowMs, count: 1 } };
  }
  if (state.count < limit.perWindow) return { send: true, next: { ...state, count: state.count + 1 } };
  return { send: false, atMs: state.windowStartMs + limit.windowMs };
}

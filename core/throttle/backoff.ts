import { backoffCeiling } from '../backoff.js';

/**
 * How long a throttled message waits before it is tried again, in whole seconds.
 *
 * @example
 * const backoff: ThrottleBackoff = { baseSeconds: 1, capSeconds: 60 };
 */
export interface ThrottleBackoff {
  /** The first ceiling; it doubles with every attempt. Above 0. */
  baseSeconds: number;
  /** The largest delay; SQS timers and visibility changes take at most 900 seconds here. */
  capSeconds: number;
}

/**
 * The delay before a throttled message is tried again: full jitter, a random point in
 * [1, min(cap, base * 2^attempt)] seconds, so that messages throttled together come back spread
 * out. When a lease end was seen, no later than just after it: a slot is surely free by then.
 * Whole seconds, at least 1: SQS timers count in seconds, and 0 would hand the message straight
 * back for another refused try.
 *
 * @example
 * throttleDelaySeconds(0, { baseSeconds: 1, capSeconds: 60 });        // 1 or 2
 * throttleDelaySeconds(5, { baseSeconds: 1, capSeconds: 60 }, 1_500); // at most 2 (+ jitter)
 */
export function throttleDelaySeconds(
  attempt: number,
  backoff: ThrottleBackoff,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  let delay = random() * backoffCeiling(attempt, backoff.baseSeconds, backoff.capSeconds);
  if (retryAfterMs !== undefined) {
    delay = Math.min(delay, retryAfterMs / 1000 + random() * backoff.baseSeconds);
  }
  return Math.min(Math.floor(backoff.capSeconds), Math.max(1, Math.ceil(delay)));
}

/** SQS timers and visibility changes take at most 900 seconds. */
const sqsMaxDelaySeconds = 900;

/**
 * The timer of a record the start rate held back: the whole seconds until `notBeforeMs`, the
 * moment the rate allows its start, rounded up (SQS counts whole seconds; early is refused
 * again). Past 900 s the copy comes back at 900 s, is held back again and re-queued for the
 * rest: a chain of timers, never a failure.
 *
 * @example
 * rateDelaySeconds(Date.now() + 1_200, Date.now()); // 2
 */
export function rateDelaySeconds(notBeforeMs: number, nowMs: number): number {
  return Math.min(sqsMaxDelaySeconds, Math.max(0, Math.ceil((notBeforeMs - nowMs) / 1000)));
}

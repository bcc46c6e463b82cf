/**
 * Capped exponential back-off with full jitter: a random delay in [0, min(cap, base * 2^attempt)).
 * Full jitter spreads competing clients out best (AWS Architecture Blog, "Exponential Backoff And Jitter").
 *
 * @example
 * await sleep(fullJitterDelay(attempt, { baseMs: 25, capMs: 1000 }));
 */
export function fullJitterDelay(
  attempt: number,
  { baseMs, capMs }: { baseMs: number; capMs: number },
): number {
  return Math.random() * backoffCeiling(attempt, baseMs, capMs);
}

/**
 * The ceiling of a capped exponential back-off, in the unit of `base` and `cap`:
 * min(cap, base * 2^attempt). The exponent stops growing at 30, past any cap.
 *
 * @example
 * backoffCeiling(3, 1, 60); // 8
 */
export function backoffCeiling(attempt: number, base: number, cap: number): number {
  return Math.min(cap, base * 2 ** Math.min(Math.max(attempt, 0), 30));
}

/**
 * Waits `ms`, or rejects with the signal's reason as soon as it aborts.
 *
 * @example
 * await sleep(100, controller.signal);
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

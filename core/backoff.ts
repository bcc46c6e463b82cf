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
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.random() * ceiling;
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

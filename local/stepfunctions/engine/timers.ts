import { MAX_TIMER_MS } from '../types.js';

/**
 * Waits `ms` (any length: past the `setTimeout` limit it waits in chunks), rejecting with the
 * signal's reason as soon as it aborts.
 *
 * @example
 * await sleep(1000, signal);
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    let timer: NodeJS.Timeout | undefined;
    const deadline = Date.now() + Math.max(0, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const arm = () => {
      const left = deadline - Date.now();
      if (left <= 0) {
        signal.removeEventListener('abort', onAbort);
        return resolve();
      }
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}

/**
 * Settles like `work`, or rejects with the signal's reason when it aborts first: a task whose
 * runner ignores the signal still cannot hold its state up.
 *
 * @example
 * const result = await untilAborted(runner.run(call), call.signal);
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * A controller aborted with the parent's reason when the parent aborts (a branch of a run).
 *
 * @example
 * const branch = linkedController(execution.signal);
 */
export function linkedController(parent: AbortSignal): AbortController {
  const controller = new AbortController();
  if (parent.aborted) controller.abort(parent.reason);
  else {
    const onAbort = () => controller.abort(parent.reason);
    parent.addEventListener('abort', onAbort, { once: true });
    controller.signal.addEventListener('abort', () => parent.removeEventListener('abort', onAbort), {
      once: true,
    });
  }
  return controller;
}

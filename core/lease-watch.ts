import { LeaseEndingError, LockLostError } from './errors.js';
import type { Lease } from './lease.js';
import type { Clock } from './store.js';

/**
 * How long before its end a lease counts as ending: 10 % of its length, at least 100 ms.
 * The time is the holder's to stop what it does while the slot is still its own: it covers a
 * late timer (a busy event loop), the function's own wind-down, and a rival whose clock runs a
 * little ahead (it sees the lease end sooner). It scales with the lease, because work under a
 * long lease takes longer to stop; the floor is for very short leases.
 *
 * @example
 * leaseEndMarginMs(10_000); // 1000
 */
export function leaseEndMarginMs(leaseMs: number): number {
  return Math.max(100, Math.round(leaseMs * 0.1));
}

/** What `watchLease` watches. */
export interface LeaseWatchOptions {
  /** The copy of the lease handed to the work; each refresh moves its `expiresAtMs`. */
  lease: Lease;
  /** Moves the lease end (`lock.extend()`); rejects with `LockLostError` once the lease is gone. */
  extend: () => Promise<Pick<Lease, 'expiresAtMs'>>;
  /** The lease length, for the end margin. */
  leaseMs: number;
  /** Refresh this often; undefined: never (the signal aborts near the lease end). */
  refreshMs?: number;
  /** The caller's own signal; its abort is passed on with its reason. */
  signal?: AbortSignal;
  /** The clock the lease end was computed with. */
  clock: Clock;
}

/** A running watch: the signal for the work, and `stop()` to call once the work settled. */
export interface LeaseWatch {
  signal: AbortSignal;
  /** Clears every timer and waits for a refresh in flight, so nothing fires or writes afterwards. */
  stop(): Promise<void>;
}

/**
 * Gives the work under a lease a signal that aborts when the lease ends or is lost, and keeps the
 * lease alive with a refresh every `refreshMs`. The signal aborts once, with the first of: a
 * `LeaseEndingError` when the lease is within its margin of the end and no refresh moved it (none
 * configured, or one still hanging), a `LockLostError` from a refresh that found the slot taken,
 * a `LeaseEndingError` caused by any other refresh failure, or the caller's signal's reason.
 * Refreshes go on after the caller's abort, so the work keeps its slot while it winds down; they
 * stop at the first failure.
 *
 * @example
 * const watch = watchLease({ lease, extend: () => lock.extend(), leaseMs: 30_000, refreshMs: 10_000, clock: Date.now });
 * try { await work(watch.signal); } finally { await watch.stop(); }
 */
export function watchLease(options: LeaseWatchOptions): LeaseWatch {
  const { lease, extend, refreshMs, signal: callerSignal, clock } = options;
  const marginMs = leaseEndMarginMs(options.leaseMs);
  const controller = new AbortController();
  let stopped = false;
  let endTimer: ReturnType<typeof setTimeout> | undefined;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let refreshing: Promise<void> | undefined;

  const abort = (reason: unknown) => {
    if (!stopped) controller.abort(reason);
  };
  const endingError = (cause?: unknown) =>
    new LeaseEndingError(
      lease.resourceId,
      lease.concurrencyId,
      lease.expiresAtMs,
      cause === undefined ? undefined : { cause },
    );
  const watchEnd = () => {
    clearTimeout(endTimer);
    endTimer = setTimeout(() => abort(endingError()), Math.max(0, lease.expiresAtMs - marginMs - clock()));
  };
  const refresh = async () => {
    try {
      const { expiresAtMs } = await extend();
      if (stopped) return;
      lease.expiresAtMs = expiresAtMs;
      watchEnd();
      scheduleRefresh();
    } catch (error) {
      abort(error instanceof LockLostError ? error : endingError(error));
    }
  };
  const scheduleRefresh = () => {
    if (refreshMs === undefined) return;
    refreshTimer = setTimeout(() => {
      refreshing = refresh();
    }, refreshMs);
  };
  const passOnCallerAbort = () => abort(callerSignal?.reason);

  if (callerSignal?.aborted) passOnCallerAbort();
  callerSignal?.addEventListener('abort', passOnCallerAbort, { once: true });
  watchEnd();
  scheduleRefresh();

  return {
    signal: controller.signal,
    async stop() {
      stopped = true;
      clearTimeout(endTimer);
      clearTimeout(refreshTimer);
      callerSignal?.removeEventListener('abort', passOnCallerAbort);
      // The release must not race an extend still on the wire.
      await refreshing;
    },
  };
}

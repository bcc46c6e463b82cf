import { type AcquireOptions, DynamoDbLock, type DynamoDbLockOptions } from './dynamo-db-lock.js';
import type { Lease } from './lease.js';
import { leaseEndMarginMs, watchLease } from './lease-watch.js';
import { validateKnownOptions, validateRefreshMs } from './validate.js';

/** Options of `withLock`: the lock's, the acquire's, and the refresh. */
export interface WithLockOptions extends DynamoDbLockOptions, AcquireOptions {
  /**
   * Extend the lease (by the lock's `duration`) this often while the function runs. Above 0 and
   * below the lease less its end margin (10 %, at least 100 ms). Default: no refresh; the signal
   * aborts near the lease end instead.
   */
  refreshMs?: number;
}

/** Every option name, checked here so a misspelt one is refused with the full list in the message. */
const optionNames = Object.keys({
  concurrency: true,
  duration: true,
  tableName: true,
  client: true,
  owner: true,
  logger: true,
  backoff: true,
  clock: true,
  maxClockSkewMs: true,
  rate: true,
  permits: true,
  timeoutMs: true,
  signal: true,
  refreshMs: true,
} satisfies Record<keyof WithLockOptions, true>);

/**
 * Runs `fn(lease, signal)` while holding a slot of `resourceId`, and releases it afterwards, also
 * when `fn` throws. When `fn` throws and the release fails too, both come back as an
 * `AggregateError` whose first error is `fn`'s own: the release's failure never hides it.
 *
 * `signal` aborts, at most once and never after `fn` settled, when the slot may stop being `fn`'s:
 * - with a `LeaseEndingError` 10 % of the lease (at least 100 ms) before its end, when nothing
 *   refreshed it: no `refreshMs`, or a refresh still pending;
 * - with a `LockLostError` when a refresh finds the slot released or taken by another;
 * - with a `LeaseEndingError` whose `cause` is the failure, when a refresh fails otherwise;
 * - with the reason of the caller's `signal`, when that aborts (refreshes go on while `fn` winds down).
 * `fn` decides what to do about it; `withLock` still returns `fn`'s result.
 *
 * `lease` is `fn`'s own copy and stays current: each refresh moves its `expiresAtMs`.
 *
 * @example
 * const answer = await withLock('partner-api', { concurrency: 2, timeoutMs: 30_000 }, async (lease) => callPartner(lease.fencingToken));
 * @example
 * // A job longer than the lease: refresh every 10 s, and stop writing once the slot is in doubt.
 * await withLock('nightly-report', { duration: 30, refreshMs: 10_000 }, async (lease, signal) => {
 *   for (const batch of batches) {
 *     signal.throwIfAborted(); // LockLostError, LeaseEndingError, or the caller's reason
 *     await write(batch, lease.fencingToken);
 *   }
 * });
 */
export async function withLock<T>(
  resourceId: string,
  options: WithLockOptions,
  fn: (lease: Lease, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  validateKnownOptions(options, optionNames);
  const { timeoutMs, signal, refreshMs, ...lockOptions } = options;
  const lock = new DynamoDbLock(resourceId, lockOptions);
  const leaseMs = Math.round(lock.duration * 1000);
  // The holder's lease is the told one: the clock bound shorter than the stored lease.
  if (refreshMs !== undefined)
    validateRefreshMs(refreshMs, leaseMs - lock.maxClockSkewMs, leaseEndMarginMs(leaseMs));
  const lease = {
    ...(await lock.acquire({
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(signal ? { signal } : {}),
    })),
  };
  const watch = watchLease({
    lease,
    extend: () => lock.extend(),
    leaseMs,
    ...(refreshMs === undefined ? {} : { refreshMs }),
    ...(signal ? { signal } : {}),
    clock: options.clock ?? Date.now,
  });
  let result: T;
  try {
    result = await fn(lease, watch.signal);
  } catch (error) {
    await watch.stop();
    try {
      await lock.release();
    } catch (releaseError) {
      throw new AggregateError(
        [error, releaseError],
        `withLock("${resourceId}"): the function failed, and so did the release`,
      );
    }
    throw error;
  }
  await watch.stop();
  await lock.release();
  return result;
}

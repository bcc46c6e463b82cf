import { type AcquireOptions, DynamoDbLock, type DynamoDbLockOptions } from './dynamo-db-lock.js';
import type { Lease } from './lease.js';

/**
 * Runs `fn` while holding a slot of `resourceId`, and releases it afterwards, also when `fn` throws.
 * When `fn` throws and the release fails too, both come back as an `AggregateError` whose first
 * error is `fn`'s own: the release's failure never hides it.
 *
 * @example
 * const answer = await withLock('partner-api', { concurrency: 2, timeoutMs: 30_000 }, async (lease) => callPartner(lease.fencingToken));
 */
export async function withLock<T>(
  resourceId: string,
  options: DynamoDbLockOptions & AcquireOptions,
  fn: (lease: Lease) => Promise<T>,
): Promise<T> {
  const { timeoutMs, signal, ...lockOptions } = options;
  const lock = new DynamoDbLock(resourceId, lockOptions);
  const lease = await lock.acquire({
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(signal ? { signal } : {}),
  });
  let result: T;
  try {
    result = await fn(lease);
  } catch (error) {
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
  await lock.release();
  return result;
}

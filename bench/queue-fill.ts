import type { Lease } from '../core/lease.js';
import { takeSlot } from '../core/operations/take-slot.js';
import { recordWaiting } from '../core/waiting/record-waiting.js';
import type { WaitingStore } from '../core/waiting/waiting-store.js';

/**
 * A mutex held with a long lease and `waiters` requests recorded behind it (as the acquire step
 * records them, with made-up task tokens), 25 at a time: the shape of a long queue without the
 * workflows. Answers the holder's lease.
 *
 * @example
 * const holder = await queueBehindHolder(store, 'partner-api', 1_000);
 */
export async function queueBehindHolder(
  store: WaitingStore,
  resourceId: string,
  waiters: number,
  /** Characters of each made-up task token (Step Functions' are up to 2,048). */
  tokenLength = 40,
): Promise<Lease> {
  const taken = await takeSlot(store, {
    resourceId,
    concurrencyId: 0,
    releaseCode: 'f'.repeat(32),
    durationMs: 3_600_000,
  });
  if (!taken.granted) throw new Error(`slot 0 of ${resourceId} should be free`);
  const batch = 25;
  for (let first = 0; first < waiters; first += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, waiters - first) }, (_, offset) =>
        recordWaiting(
          store,
          {
            resourceId,
            concurrency: 1,
            leaseMs: 3_600_000,
            waitUntilMs: Number.POSITIVE_INFINITY,
            taskToken: `token-${resourceId}-${first + offset}-`.padEnd(tokenLength, 'x'),
          },
          { retryChain: 'chain', dueMs: store.clock() + 3_600_000 },
        ),
      ),
    );
  }
  return taken.lease;
}

import type { Lease } from '../core/lease.js';
import type { SlotPool, SlotTake } from '../core/throttle/slot-pool.js';
import type { InvocationClock } from './deadline.js';
import type { ParkedRunner } from './parked-runner.js';

/**
 * After a batch parked throttled copies, tries each of their keys' slots once more and, when one
 * is free, runs the key's parked records itself (up to `concurrency` workers, as a holder would).
 *
 * Why: a holder looks for parked records once its own are done. If it looked before this batch's
 * parking writes landed, it found none and let its slot go, and nobody would run them until their
 * copies' timers end (a second or more with the slot idle). Either the holder's query comes after
 * the parking (it sees them) or its release comes before this take (the take finds the slot
 * free); only a release between the two is missed, and the copies still come back. Cost per key
 * and batch: one take (a refused write and a read while the key is held), and on success the
 * parked runs' usual writes.
 *
 * @example
 * await takeOverParked(parkedKeys, pool, clock, parked, settings.parallelism);
 */
export async function takeOverParked(
  parkedKeys: ReadonlyMap<string, number>,
  pool: SlotPool,
  clock: InvocationClock,
  parked: ParkedRunner,
  parallelism: number,
): Promise<void> {
  await Promise.all(
    [...parkedKeys].map(async ([key, concurrency]) => {
      const workers: Promise<void>[] = [];
      for (let worker = 0; worker < Math.min(concurrency, parallelism) && clock.canStart(); worker++) {
        // The first take asks the table again though this invocation found the key full: it was,
        // before the parking. A refusal then stops the other workers without a write.
        const taken: SlotTake = await pool
          .take(key, concurrency, { wait: false, recheck: worker === 0 })
          .catch(() => ({}));
        if (!taken.lease) break;
        workers.push(runAndGiveBack(key, taken.lease, pool, parked));
      }
      await Promise.all(workers);
    }),
  );
}

/** One take-over worker: the key's parked records under `lease`, then the lease given back. */
async function runAndGiveBack(
  key: string,
  lease: Lease,
  pool: SlotPool,
  parked: ParkedRunner,
): Promise<void> {
  let held: Lease | undefined = lease;
  try {
    held = await parked.runWhileParked(key, lease, pool);
  } finally {
    if (held) await pool.giveBack(held);
  }
}

import type { SQSRecord } from 'aws-lambda';
import type { Lease } from '../core/lease.js';
import type { SlotPool } from '../core/throttle/slot-pool.js';
import type { InvocationClock } from './deadline.js';
import { keyOf, type ThrottleSettings } from './options.js';
import type { RecordOutcome } from './run-batch.js';

/**
 * One FIFO message group of a batch, in order; it stops at the first failed or throttled record
 * (held back by the key's rate: throttled until the rate's moment), and the rest of the group
 * is deferred with it, so order holds.
 *
 * @example
 * await runGroup(indexes, records, settings, pool, clock, outcomes, run);
 */
export async function runGroup(
  indexes: number[],
  records: SQSRecord[],
  settings: ThrottleSettings,
  pool: SlotPool,
  clock: InvocationClock,
  outcomes: RecordOutcome[],
  run: (index: number, lease: Lease | undefined) => Promise<RecordOutcome>,
): Promise<void> {
  let lease: Lease | undefined;
  const stop = (position: number, outcome: RecordOutcome, rest: RecordOutcome): void => {
    outcomes[indexes[position] as number] = outcome;
    for (const later of indexes.slice(position + 1)) outcomes[later] = rest;
  };
  try {
    for (const [position, index] of indexes.entries()) {
      if (!clock.canStart()) return stop(position, { status: 'unstarted' }, { status: 'deferred' });
      try {
        const { key, concurrency } = keyOf(settings, records[index] as SQSRecord);
        // One lease at a time per worker: whoever holds a lease never waits, so no worker waits in a cycle.
        if (lease && lease.resourceId !== key) {
          await pool.giveBack(lease);
          lease = undefined;
        }
        if (!lease && concurrency !== undefined) {
          const taken = await pool.take(key, concurrency, { wait: true });
          if (!taken.lease) {
            const { retryAfterMs, rateNotBeforeMs } = taken;
            return stop(
              position,
              {
                status: 'throttled',
                ...(retryAfterMs !== undefined && { retryAfterMs }),
                ...(rateNotBeforeMs !== undefined && { rateNotBeforeMs }),
              },
              { status: 'deferred' },
            );
          }
          lease = taken.lease;
        }
        // A wait for a sibling's slot may have used the time left.
        if (!clock.canStart()) return stop(position, { status: 'unstarted' }, { status: 'deferred' });
        const start = lease ? await pool.startRecord(lease) : await pool.startWithoutSlot(key);
        if (start.kind === 'lost') {
          lease = undefined;
          return stop(position, { status: 'throttled' }, { status: 'deferred' });
        }
        if (start.kind === 'rate-limited')
          return stop(
            position,
            { status: 'throttled', rateNotBeforeMs: start.notBeforeMs },
            { status: 'deferred' },
          );
        lease = start.lease;
      } catch (error) {
        return stop(position, { status: 'failed', error }, { status: 'skipped' });
      }
      const outcome = await run(index, lease);
      if (outcome.status === 'failed') return stop(position, outcome, { status: 'skipped' });
      outcomes[index] = outcome;
    }
  } finally {
    if (lease) await pool.giveBack(lease);
  }
}

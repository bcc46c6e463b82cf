import type { Context } from 'aws-lambda';
import { LockLostError } from '../core/errors.js';
import { extendSlot, extendSlots } from '../core/operations/extend-slot.js';
import { leaseOutput } from './lib/answer.js';
import { lockStore } from './lib/clients.js';
import { errorName, StepError } from './lib/errors.js';
import { extendInput, parseStepInput } from './lib/schemas.js';

/**
 * The extend step (plain `lambda:invoke`): moves the lease end to `leaseSeconds` from now.
 * Fails with `Lock.Lost` if the caller no longer holds the slot. A lease of several permits
 * (its `slots`) is extended on all of them in one transaction.
 *
 * @example
 * // Parameters: { "resourceId.$": "$.lock.resourceId", "concurrencyId.$": "$.lock.concurrencyId",
 * //               "releaseCode.$": "$.lock.releaseCode", "leaseSeconds": 600 }
 */
export async function handler(event: unknown, context?: Context) {
  const input = parseStepInput(extendInput, event);
  const durationMs = Math.round(input.leaseSeconds * 1000);
  try {
    const { resourceId, concurrencyId, releaseCode, slots } = input;
    if (slots && slots.length > 1) {
      // Every slot of a lease of several permits moves to one end together; the tokens stay.
      const extended = await extendSlots(lockStore(context), input, slots, durationMs);
      const holds = slots.map(({ concurrencyId, fencingToken }) => ({ concurrencyId, fencingToken }));
      const first = holds.find((hold) => hold.concurrencyId === concurrencyId) ?? holds[0];
      return leaseOutput({
        resourceId,
        concurrencyId,
        releaseCode,
        fencingToken: first?.fencingToken ?? 0,
        slots: holds,
        ...extended,
      });
    }
    const extended = await extendSlot(lockStore(context), input, durationMs);
    return leaseOutput({ resourceId, concurrencyId, releaseCode, ...extended });
  } catch (error) {
    if (error instanceof LockLostError) throw new StepError(errorName.lost, error.message, { cause: error });
    throw error;
  }
}

import type { Context } from 'aws-lambda';
import { LockLostError } from '../core/errors.js';
import { extendSlot } from '../core/operations/extend-slot.js';
import { leaseOutput } from './lib/answer.js';
import { lockStore } from './lib/clients.js';
import { errorName, StepError } from './lib/errors.js';
import { extendInput, parseStepInput } from './lib/schemas.js';

/**
 * The extend step (plain `lambda:invoke`): moves the lease end to `leaseSeconds` from now.
 * Fails with `Lock.Lost` if the caller no longer holds the slot.
 *
 * @example
 * // Parameters: { "resourceId.$": "$.lock.resourceId", "concurrencyId.$": "$.lock.concurrencyId",
 * //               "releaseCode.$": "$.lock.releaseCode", "leaseSeconds": 600 }
 */
export async function handler(event: unknown, context?: Context) {
  const input = parseStepInput(extendInput, event);
  try {
    const extended = await extendSlot(lockStore(context), input, Math.round(input.leaseSeconds * 1000));
    const { resourceId, concurrencyId, releaseCode } = input;
    return leaseOutput({ resourceId, concurrencyId, releaseCode, ...extended });
  } catch (error) {
    if (error instanceof LockLostError) throw new StepError(errorName.lost, error.message, { cause: error });
    throw error;
  }
}

import type { Context } from 'aws-lambda';
import { countResource } from '../core/waiting/count-resource.js';
import { lockStore } from './lib/clients.js';
import { countInput, parseStepInput } from './lib/schemas.js';

/**
 * The count step (plain `lambda:invoke`): unexpired holders and waiting requests, one consistent read.
 *
 * @example
 * // Parameters: { "resourceId": "partner-api" } -> { "resourceId": "partner-api", "held": 3, "waiting": 7 }
 */
export async function handler(
  event: unknown,
  context?: Context,
): Promise<{ resourceId: string; held: number; waiting: number }> {
  const { resourceId } = parseStepInput(countInput, event);
  return { resourceId, ...(await countResource(lockStore(context), resourceId)) };
}

import type { Context } from 'aws-lambda';
import { countResource } from '../core/waiting/count-resource.js';
import { lockStore } from './lib/clients.js';
import { countInput, parseStepInput } from './lib/schemas.js';

/**
 * The count step (plain `lambda:invoke`): unexpired holders (slots, so permits in use) and waiting
 * requests, one consistent read; `nextStartAt` when the resource has a start rate.
 *
 * @example
 * // Parameters: { "resourceId": "partner-api" } -> { "resourceId": "partner-api", "held": 3, "waiting": 7 }
 */
export async function handler(
  event: unknown,
  context?: Context,
): Promise<{ resourceId: string; held: number; waiting: number; nextStartAt?: string }> {
  const { resourceId } = parseStepInput(countInput, event);
  return { resourceId, ...(await countResource(lockStore(context), resourceId)) };
}

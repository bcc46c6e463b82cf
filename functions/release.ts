import type { Context } from 'aws-lambda';
import { lockStore } from './lib/clients.js';
import { readConfig } from './lib/config.js';
import { parseStepInput, releaseInput } from './lib/schemas.js';
import { releaseAndSettle } from './lib/settle.js';

/**
 * The release step (plain `lambda:invoke`), given the acquire output. Frees the slot and hands
 * it at once to the oldest waiting request. `released` is false when the lease had expired and
 * was taken by another, or was released before: releasing twice is harmless.
 *
 * @example
 * // Parameters: { "Payload.$": "$.lock" } -> { "released": true }
 */
export async function handler(event: unknown, context?: Context): Promise<{ released: boolean }> {
  const input = parseStepInput(releaseInput, event);
  const store = lockStore(context);
  return releaseAndSettle(store, input, { handOff: readConfig().handoff });
}

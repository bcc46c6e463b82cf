import { isHeld } from '../item.js';
import { readResource } from './read-resource.js';
import { isWaiting } from './request.js';
import type { WaitingStore } from './waiting-store.js';

/** Holders and waiters of one resource now. */
export interface CountResult {
  held: number;
  waiting: number;
}

/**
 * Unexpired holders and waiting requests of a resource, from one consistent read.
 *
 * @example
 * const { held, waiting } = await countResource(store, 'partner-api');
 */
export async function countResource(store: WaitingStore, resourceId: string): Promise<CountResult> {
  const { slots, requests } = await readResource(store, resourceId);
  const nowMs = store.clock();
  const held = [...slots.values()].filter((item) => isHeld(item, nowMs)).length;
  const waiting = requests.filter((request) => isWaiting(request, nowMs)).length;
  return { held, waiting };
}

import { isHeld } from '../item.js';
import { readRateState } from '../rate.js';
import { readResource } from './read-resource.js';
import { isWaiting } from './request.js';
import type { WaitingStore } from './waiting-store.js';

/** Holders and waiters of one resource now. */
export interface CountResult {
  /** Slots held: the permits in use (a holder of n permits holds n slots). */
  held: number;
  waiting: number;
  /**
   * ISO 8601: the earliest moment the resource's start rate allows the next grant (at or before
   * now: at once). Present only on a resource that a rate-limited grant ever used.
   */
  nextStartAt?: string;
}

/**
 * Unexpired holders and waiting requests of a resource, from one consistent read (and the rate's
 * item, from one more).
 *
 * @example
 * const { held, waiting } = await countResource(store, 'partner-api');
 */
export async function countResource(store: WaitingStore, resourceId: string): Promise<CountResult> {
  const [{ slots, requests }, rate] = await Promise.all([
    readResource(store, resourceId),
    readRateState(store, resourceId),
  ]);
  const nowMs = store.clock();
  const held = [...slots.values()].filter((item) => isHeld(item, nowMs)).length;
  const waiting = requests.filter((request) => isWaiting(request, nowMs)).length;
  return {
    held,
    waiting,
    ...(rate === undefined ? {} : { nextStartAt: new Date(rate.nextStartAtMs).toISOString() }),
  };
}

import { releaseSlot, type SlotLease } from '../operations/release-slot.js';
import type { LockStore } from '../store.js';
import { type GrantPass, grantWaiting } from './grant-waiting.js';
import { readResource } from './read-resource.js';
import { requestKeyOf } from './request.js';
import { withdrawRequest } from './withdraw.js';

/** The release, and the pass that handed the freed slot on (absent when nobody waited). */
export interface ReleaseOutcome {
  released: boolean;
  pass?: GrantPass;
}

/**
 * Releases a slot and hands it at once to the oldest waiting request, so a freed slot never
 * sits idle for a back-off period. One write and one read when nobody waits.
 *
 * @example
 * const { released, pass } = await releaseAndHandOff(store, lease);
 */
export async function releaseAndHandOff(store: LockStore, lease: SlotLease): Promise<ReleaseOutcome> {
  const released = await releaseSlot(store, lease);
  const { requests } = await readResource(store, lease.resourceId, 'requests');
  const ownKey = requestKeyOf(lease.releaseCode);
  if (requests.some((request) => request.requestKey === ownKey && request.granted)) {
    // The releaser had waited: its item only guarded its grant, which is over.
    await withdrawRequest(store, lease.resourceId, ownKey, { evenIfGranted: true });
  }
  if (!requests.some((request) => !request.granted)) return { released };
  return { released, pass: await grantWaiting(store, lease.resourceId) };
}

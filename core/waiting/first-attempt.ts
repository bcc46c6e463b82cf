import type { Lease } from '../lease.js';
import { releaseSlot } from '../operations/release-slot.js';
import { takeSlot } from '../operations/take-slot.js';
import type { LockStore } from '../store.js';
import type { Grant } from './grant-waiting.js';
import { handOver } from './hand-over.js';
import { markGranted } from './mark-granted.js';
import { readResource } from './read-resource.js';
import {
  leaseOf,
  primarySlotOf,
  releaseCodeOf,
  requestKeyOf,
  type SlotRequest,
  type StoredRequest,
} from './request.js';

/**
 * The first attempt's verdict. `granted` with `fresh` false is a repeated request whose slot
 * was granted before: answer it again, but never free the slot if that answer fails (the first
 * answer may have gone through). `busy`: record the request as waiting.
 */
export type FirstAttempt =
  | { kind: 'granted'; lease: Lease; fresh: boolean }
  /** `handedOver`: the slot this attempt found free went to the oldest waiter; answer it. */
  | { kind: 'busy'; handedOver?: Grant };

/**
 * A workflow's first try for a slot: one conditional write to the request's primary slot, then
 * one read of the resource's waiting requests, which the grant must respect:
 * - an item of this very request exists (a repeated delivery): settle through it, so the
 *   request never ends up with two slots;
 * - older requests wait: pass the slot to the oldest and queue behind them (arrival order);
 * - nobody waits: the slot is granted.
 *
 * @example
 * const attempt = await firstAttempt(store, { resourceId, concurrency: 3, leaseMs, waitUntilMs, taskToken });
 */
export async function firstAttempt(store: LockStore, request: SlotRequest): Promise<FirstAttempt> {
  const releaseCode = releaseCodeOf(request.taskToken);
  const primary = primarySlotOf(releaseCode, request.concurrency);
  const taken = await takeSlot(store, {
    resourceId: request.resourceId,
    concurrencyId: primary,
    releaseCode,
    durationMs: request.leaseMs,
    ...(request.owner === undefined ? {} : { owner: request.owner }),
  });
  if (!taken.granted) return { kind: 'busy' };
  const giveBack = async () => {
    if (taken.fresh) await releaseSlot(store, taken.lease);
  };
  const requestKey = requestKeyOf(releaseCode);
  const state = await readResource(store, request.resourceId);
  const { requests } = state;
  const own = requests.find((stored) => stored.requestKey === requestKey);
  if (own?.granted) {
    if (own.granted.concurrencyId !== primary) await giveBack();
    return { kind: 'granted', lease: grantedLease(own), fresh: false };
  }
  if (own) {
    const marked = await markGranted(store, requestKey, taken.lease);
    if (marked.marked) return { kind: 'granted', ...taken };
    const settled = marked.current;
    // Granted the primary slot: by this very mark, whose answer was lost and whose retry was
    // refused. That slot is the grant: keep it. Granted elsewhere, or withdrawn: give it back.
    if (settled?.granted?.concurrencyId !== primary) await giveBack();
    return settled?.granted
      ? { kind: 'granted', lease: grantedLease(settled), fresh: false }
      : { kind: 'busy' };
  }
  if (taken.fresh && requests.some((stored) => !stored.granted)) {
    // Others were first: pass the slot to the oldest of them without freeing it in between.
    const handedOver = await handOver(store, taken.lease, state);
    if (handedOver) return { kind: 'busy', handedOver };
    await giveBack();
    return { kind: 'busy' };
  }
  return { kind: 'granted', ...taken };
}

/** The lease a stored, granted request holds. */
export function grantedLease(request: StoredRequest): Lease {
  const granted = request.granted;
  if (!granted) throw new Error('grantedLease: the request is not granted');
  return leaseOf(request, granted);
}

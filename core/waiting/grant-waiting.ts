import { isHeld } from '../item.js';
import type { Lease } from '../lease.js';
import type { LockStore } from '../store.js';
import { grantSlot } from './grant-transaction.js';
import { type ResourceState, readResource } from './read-resource.js';
import { primarySlotOf, type StoredRequest } from './request.js';
import { withdrawRequest } from './withdraw.js';

/** A request that just got a slot: its task must be told (and the slot freed if the task is gone). */
export interface Grant {
  request: StoredRequest;
  lease: Lease;
}

/** What a pass over a resource's waiting requests did. */
export interface GrantPass {
  grants: Grant[];
  /** Requests whose own deadline passed; withdrawn, their tasks must fail with `Lock.Timeout`. */
  expired: StoredRequest[];
  /** Requests still waiting after the pass, oldest first. */
  waiting: StoredRequest[];
  state: ResourceState;
}

/**
 * Hands every free slot of a resource to its oldest waiting requests, in arrival order.
 * Called when a slot may have become free: after a release (the handoff), by the retry loop,
 * and after a failed execution's slots were freed. Along the way it withdraws requests past
 * their deadline and forgets granted requests whose lease has ended.
 *
 * @example
 * const { grants, expired } = await grantWaiting(store, 'partner-api');
 */
export async function grantWaiting(
  store: LockStore,
  resourceId: string,
  state?: ResourceState,
): Promise<GrantPass> {
  const current = state ?? (await readResource(store, resourceId));
  const nowMs = store.clock();
  const grants: Grant[] = [];
  const expired: StoredRequest[] = [];
  const waiting: StoredRequest[] = [];
  const open: StoredRequest[] = [];
  for (const request of current.requests) {
    if (request.granted) {
      // A granted request's item only guards against repeated deliveries while its lease lasts.
      if (request.granted.expiresAtMs < nowMs)
        await withdrawRequest(store, resourceId, request.requestKey, { evenIfGranted: true });
    } else if (request.waitUntilMs < nowMs) {
      if (await withdrawRequest(store, resourceId, request.requestKey)) expired.push(request);
    } else {
      open.push(request);
    }
  }
  const widest = Math.max(0, ...open.map((request) => request.concurrency));
  const free = new Set<number>();
  for (let slot = 0; slot < widest; slot++) {
    const item = current.slots.get(slot);
    if (!item || !isHeld(item, nowMs)) free.add(slot);
  }
  for (const request of open) {
    const lease = free.size > 0 ? await grantOne(store, request, free, current) : undefined;
    if (lease) grants.push({ request, lease });
    else waiting.push(request);
  }
  return { grants, expired, waiting, state: current };
}

async function grantOne(
  store: LockStore,
  request: StoredRequest,
  free: Set<number>,
  state: ResourceState,
): Promise<Lease | undefined> {
  const primary = primarySlotOf(request.releaseCode, request.concurrency);
  const candidates = [...free].filter((slot) => slot < request.concurrency);
  // The primary slot first: a repeated first attempt of this request would write there.
  candidates.sort((a, b) => Number(b === primary) - Number(a === primary));
  for (const slot of candidates) {
    const outcome = await grantSlot(store, request, slot, state.slots.get(slot));
    if (outcome.kind === 'granted') {
      free.delete(slot);
      return outcome.lease;
    }
    if (outcome.kind === 'slot-taken') free.delete(slot);
    else return undefined;
  }
  return undefined;
}

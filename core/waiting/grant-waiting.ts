import { fullJitterDelay, sleep } from '../backoff.js';
import { isHeld } from '../item.js';
import type { Lease } from '../lease.js';
import type { LockStore } from '../store.js';
import { attribute } from '../table.js';
import { grantSlot } from './grant-transaction.js';
import { forget, timeOut } from './lifecycle.js';
import { type ResourceState, readResource } from './read-resource.js';
import { primarySlotOf, type StoredRequest } from './request.js';

/** A request that just got a slot (now `granted`): its task must be told. */
export interface Grant {
  request: StoredRequest;
  lease: Lease;
}

/** What a pass over a resource's waiting requests did. */
export interface GrantPass {
  grants: Grant[];
  /** Requests whose own deadline passed, now `timed-out`: their tasks must fail with `Lock.Timeout`. */
  expired: StoredRequest[];
  /** Requests still waiting after the pass, oldest first. */
  waiting: StoredRequest[];
  state: ResourceState;
}

/** Pauses between passes that cancelled each other: 25, 50, 100, 200, 400 ms ceilings. */
const conflictBackoff = { baseMs: 25, capMs: 400 };

/**
 * Hands every free slot of a resource to its oldest waiting requests, in arrival order.
 * Called when a slot may have become free: after a release (the handoff), by the retry loop,
 * and after a failed execution's slots were freed. Along the way it times out requests past
 * their deadline and forgets answered requests whose grant is over.
 *
 * @example
 * const { grants, expired } = await grantWaiting(store, 'partner-api');
 */
export async function grantWaiting(
  store: LockStore,
  resourceId: string,
  state?: ResourceState,
): Promise<GrantPass> {
  let pass = await grantPass(store, state ?? (await readResource(store, resourceId)));
  // Two passes on one resource (a release and a retry) can cancel each other's transactions and
  // leave a slot free; look again a few times. Many passes at once (a burst of arrivals) may
  // all cancel; full jitter lets one of them win.
  for (let round = 0; pass.conflicted && round < 5; round++) {
    await sleep(fullJitterDelay(round, conflictBackoff));
    const again = await grantPass(store, await readResource(store, resourceId));
    pass = {
      ...again,
      grants: [...pass.grants, ...again.grants],
      expired: [...pass.expired, ...again.expired],
    };
  }
  const { conflicted: _conflicted, ...result } = pass;
  return result;
}

async function grantPass(
  store: LockStore,
  current: ResourceState,
): Promise<GrantPass & { conflicted: boolean }> {
  const nowMs = store.clock();
  const grants: Grant[] = [];
  const expired: StoredRequest[] = [];
  const waiting: StoredRequest[] = [];
  const open: StoredRequest[] = [];
  const over: StoredRequest[] = [];
  const overdue: StoredRequest[] = [];
  for (const request of current.requests) {
    if (request.state === 'answered' && grantIsOver(request, current, nowMs)) over.push(request);
    else if (request.state === 'waiting' && request.waitUntilMs < nowMs) overdue.push(request);
    else if (request.state === 'waiting') open.push(request);
    // Granted but unanswered: its answerers (the granter, its retry turn, the sweeper) see to it.
  }
  const widest = Math.max(0, ...open.map((request) => request.concurrency));
  const free = new Set<number>();
  for (let slot = 0; slot < widest; slot++) {
    const item = current.slots.get(slot);
    if (!item || !isHeld(item, nowMs)) free.add(slot);
  }
  let conflicted = false;
  for (const request of open) {
    const outcome = free.size > 0 ? await grantOne(store, request, free, current) : undefined;
    if (outcome === 'conflict') conflicted = true;
    if (outcome && outcome !== 'conflict') grants.push({ request, lease: outcome });
    else waiting.push(request);
  }
  // Housekeeping after the grants, off their critical path.
  for (const request of over) if (request.granted) await forget(store, request, request.granted);
  for (const request of overdue) {
    // Refused when a grant came first: then the request is answered as granted, not timed out.
    if (await timeOut(store, request)) expired.push({ ...request, state: 'timed-out' });
  }
  return { grants, expired, waiting, state: current, conflicted };
}

/**
 * An answered request's item only guards against a repeated delivery while its grant lasts: it
 * is over once the lease ended, or the slot was released or passed to another holder.
 */
function grantIsOver(request: StoredRequest, state: ResourceState, nowMs: number): boolean {
  const granted = request.granted;
  if (!granted || granted.expiresAtMs < nowMs) return true;
  const slot = state.slots.get(granted.concurrencyId);
  return slot?.[attribute.releaseCode]?.S !== request.releaseCode || slot?.[attribute.expiresMs]?.N === '0';
}

async function grantOne(
  store: LockStore,
  request: StoredRequest,
  free: Set<number>,
  state: ResourceState,
): Promise<Lease | 'conflict' | undefined> {
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
    if (outcome.kind === 'conflict') {
      free.delete(slot);
      return 'conflict';
    }
    if (outcome.kind === 'slot-taken') free.delete(slot);
    else return undefined;
  }
  return undefined;
}

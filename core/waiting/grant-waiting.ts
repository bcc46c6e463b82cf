import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { fullJitterDelay, sleep } from '../backoff.js';
import { isHeld, leaseEndMs } from '../item.js';
import type { Lease } from '../lease.js';
import { grantSlot } from './grant-transaction.js';
import { timeOut } from './lifecycle.js';
import { dropQueueEntry, type QueueEntry, type QueueWindow, readQueueWindow, readRequest } from './queue.js';
import { primarySlotOf, type StoredRequest } from './request.js';
import type { WaitingStore } from './waiting-store.js';

/** A request that just got a slot (now `granted`): its task must be told. */
export interface Grant {
  request: StoredRequest;
  lease: Lease;
}

/** What a pass over the head of a resource's queue did. */
export interface GrantPass {
  grants: Grant[];
  /** Requests whose own deadline passed, now `timed-out`: their tasks must fail with `Lock.Timeout`. */
  expired: StoredRequest[];
  /** Entries of the window still waiting after the pass, oldest first (the queue goes on past them). */
  waiting: QueueEntry[];
  /** The earliest end of a lease held on the slots the waiting entries may use (absent: none held). */
  nextLeaseEndMs?: number;
}

/** True when the pass neither granted nor timed out the request (it may still wait). */
export function leftWaiting(pass: Pick<GrantPass, 'grants' | 'expired'>, requestKey: number): boolean {
  return (
    !pass.grants.some((grant) => grant.request.requestKey === requestKey) &&
    !pass.expired.some((request) => request.requestKey === requestKey)
  );
}

/** Pauses between passes that cancelled each other: 25, 50, 100, 200, 400 ms ceilings. */
const conflictBackoff = { baseMs: 25, capMs: 400 };

/**
 * Hands every free slot of a resource to the oldest waiting requests, in arrival order, reading
 * only the head of the queue and the slots. Called when a slot may have become free: after a
 * release (the handoff), by the retry loop, and after a failed execution's slots were freed.
 * Along the way it times out requests at the head past their deadline and drops stale entries.
 *
 * @example
 * const { grants, expired } = await grantWaiting(store, 'partner-api');
 */
export async function grantWaiting(
  store: WaitingStore,
  resourceId: string,
  window?: QueueWindow,
): Promise<GrantPass> {
  let pass = await grantPass(store, window ?? (await readQueueWindow(store, resourceId)));
  // Two passes on one resource (a release and a retry) can cancel each other's transactions and
  // leave a slot free; look again a few times. Many passes at once (a burst of arrivals) may
  // all cancel; full jitter lets one of them win.
  for (let round = 0; pass.conflicted && round < 5; round++) {
    await sleep(fullJitterDelay(round, conflictBackoff));
    const again = await grantPass(store, await readQueueWindow(store, resourceId));
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
  store: WaitingStore,
  first: QueueWindow,
): Promise<GrantPass & { conflicted: boolean }> {
  const nowMs = store.clock();
  const grants: Grant[] = [];
  const expired: StoredRequest[] = [];
  const waiting: QueueEntry[] = [];
  let conflicted = false;
  let window: QueueWindow | undefined = first;
  let free = freeSlots(window, nowMs);
  while (window) {
    for (const entry of window.entries) {
      if (entry.waitUntilMs < nowMs) {
        const request = await readRequest(store, entry.resourceId, entry.requestKey);
        // Refused when a grant came first: then the request is answered as granted, not timed out.
        if (request?.state === 'waiting' && (await timeOut(store, request)))
          expired.push({ ...request, state: 'timed-out' });
        else if (request?.state !== 'waiting') await dropQueueEntry(store, entry);
        continue;
      }
      if (![...free].some((slot) => slot < entry.concurrency)) {
        waiting.push(entry);
        continue;
      }
      const request = await readRequest(store, entry.resourceId, entry.requestKey);
      if (request?.state !== 'waiting') {
        await dropQueueEntry(store, entry);
        continue;
      }
      const outcome = await grantOne(store, request, free, window);
      if (outcome === 'conflict') conflicted = true;
      if (outcome && outcome !== 'conflict') grants.push({ request, lease: outcome });
      else waiting.push(entry);
    }
    // Slots still free and more queue past the window (stale entries, other slot counts): go on.
    window =
      free.size > 0 && window.nextKey
        ? await readQueueWindow(store, window.resourceId, { startKey: window.nextKey })
        : undefined;
    if (window) free = new Set([...free, ...freeSlots(window, nowMs)]);
  }
  return { grants, expired, waiting, ...nextLeaseEnd(first.slots, waiting, nowMs), conflicted };
}

/** Slots of the window (those its entries may use) that nobody holds at `nowMs`. */
export function freeSlots(window: QueueWindow, nowMs: number): Set<number> {
  const widest = Math.max(0, ...window.entries.map((entry) => entry.concurrency));
  const free = new Set<number>();
  for (let slot = 0; slot < widest; slot++) {
    const item = window.slots.get(slot);
    if (!item || !isHeld(item, nowMs)) free.add(slot);
  }
  return free;
}

/**
 * The earliest lease end among the held slots the waiting entries may use: when one of them frees
 * without a release at the latest (a holder that died). Absent when none is held.
 */
export function nextLeaseEnd(
  slots: Map<number, Record<string, AttributeValue>>,
  waiting: QueueEntry[],
  nowMs: number,
): { nextLeaseEndMs?: number } {
  const widest = Math.max(0, ...waiting.map((entry) => entry.concurrency));
  const ends = [...slots.entries()]
    .filter(([slot, item]) => slot < widest && isHeld(item, nowMs))
    .map(([, item]) => leaseEndMs(item) ?? nowMs);
  return ends.length === 0 ? {} : { nextLeaseEndMs: Math.min(...ends) };
}

async function grantOne(
  store: WaitingStore,
  request: StoredRequest,
  free: Set<number>,
  window: QueueWindow,
): Promise<Lease | 'conflict' | undefined> {
  const primary = primarySlotOf(request.releaseCode, request.concurrency);
  const candidates = [...free].filter((slot) => slot < request.concurrency);
  // The primary slot first: a repeated first attempt of this request would write there.
  candidates.sort((a, b) => Number(b === primary) - Number(a === primary));
  for (const slot of candidates) {
    const outcome = await grantSlot(store, request, slot, window.slots.get(slot));
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

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { fullJitterDelay, sleep } from '../backoff.js';
import { isHeld, leaseEndMs } from '../item.js';
import type { Lease } from '../lease.js';
import { type RateCell, rateAttribute, rateRefusal } from '../rate.js';
import { grantSlots } from './grant-transaction.js';
import { timeOut } from './lifecycle.js';
import { dropQueueEntry, type QueueEntry, type QueueWindow, readQueueWindow, readRequest } from './queue.js';
import { permitsOf, primarySlotOf, type StoredRequest } from './request.js';
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
  /**
   * When the resource's start rate lets the head start (absent: the rate did not hold anyone
   * back). The head's turn is set for that moment: nothing else would wake it then.
   */
  rateNotBeforeMs?: number;
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
 * A request for several permits gets them all in one transaction, on slots free together. Until
 * that many are free, it holds the queue as the rate does: the pass grants nobody behind it, even
 * a request for one slot that would fit (first come, first served).
 *
 * With a start rate, each grant counts a start in its own transaction. Once the rate holds the
 * head back (seen in the rate item read with the slots, or from a grant refused by it), the
 * pass grants nobody behind it, even on a free slot: first come, first served, and the rate is
 * the resource's. It answers the moment the head may start (`rateNotBeforeMs`).
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
  // all cancel; full jitter lets one of them win. A pass the rate stopped has nothing to look
  // again for before the rate's moment (the head's turn is set for it).
  for (let round = 0; pass.conflicted && pass.rateNotBeforeMs === undefined && round < 5; round++) {
    await sleep(fullJitterDelay(round, conflictBackoff));
    const again = await grantPass(store, await readQueueWindow(store, resourceId));
    pass = {
      ...again,
      conflicted: again.conflicted,
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
  // The rate item as this pass knows it: as read, then as its own grants left it.
  let rateItem = first.rateItem;
  let rateNotBeforeMs: number | undefined;
  // Set when the window shows a request another granter let in since it was read (below).
  let stale = false;
  // Set when a head needs more permits than are free: nobody behind it is granted (below).
  let heldForPermits = false;
  while (window) {
    for (const entry of window.entries) {
      if (stale) {
        waiting.push(entry);
        continue;
      }
      if (entry.waitUntilMs < nowMs) {
        const request = await readRequest(store, entry.resourceId, entry.requestKey);
        // Refused when a grant came first: then the request is answered as granted, not timed out.
        if (request?.state === 'waiting' && (await timeOut(store, request)))
          expired.push({ ...request, state: 'timed-out' });
        else if (request?.state !== 'waiting') await dropQueueEntry(store, entry);
        continue;
      }
      if (rateNotBeforeMs !== undefined || heldForPermits) {
        waiting.push(entry);
        continue;
      }
      const fits = usableSlots(free, entry).length >= entry.permits;
      if (!fits && entry.permits === 1) {
        waiting.push(entry);
        continue;
      }
      const request = await readRequest(store, entry.resourceId, entry.requestKey);
      if (request?.state !== 'waiting') {
        await dropQueueEntry(store, entry);
        // Let in by another pass: so may be the entries behind it. Look again from the head.
        stale = grantedSinceRead(request);
        conflicted ||= stale;
        continue;
      }
      // A head that needs more slots than are free together holds the queue (first come, first
      // served): nobody behind it is granted, though a smaller request would fit. Its turn comes
      // by the next lease end, and every release's pass looks again.
      if (!fits) {
        heldForPermits = true;
        waiting.push(entry);
        continue;
      }
      // The rate is closed as read: no write that the rate item would refuse.
      const closedUntil = request.rate && rateClosedUntil(rateItem, request.rate, store.clock());
      if (closedUntil) {
        rateNotBeforeMs = closedUntil;
        waiting.push(entry);
        continue;
      }
      const outcome = await grantOne(store, request, free, window, rateItem);
      if (outcome.kind === 'conflict') conflicted = true;
      // Granted by another pass between this pass's read of it and its write: step back, as above.
      if (outcome.kind === 'stale') {
        stale = true;
        conflicted = true;
        continue;
      }
      if (outcome.kind === 'rate-limited') rateNotBeforeMs = outcome.notBeforeMs;
      if (outcome.kind === 'granted') {
        grants.push({ request, lease: outcome.lease });
        if (outcome.tatUs !== undefined) rateItem = { [rateAttribute.tat]: { N: String(outcome.tatUs) } };
      } else {
        // Not granted its permits (slots taken meanwhile, a conflict): it still holds the queue.
        if (entry.permits > 1) heldForPermits = true;
        waiting.push(entry);
      }
    }
    // Slots still free and more queue past the window (stale entries, other slot counts): go on.
    window =
      free.size > 0 && window.nextKey && rateNotBeforeMs === undefined && !stale && !heldForPermits
        ? await readQueueWindow(store, window.resourceId, { startKey: window.nextKey })
        : undefined;
    if (window) free = new Set([...free, ...freeSlots(window, nowMs)]);
  }
  return {
    grants,
    expired,
    waiting,
    ...nextLeaseEnd(first.slots, waiting, nowMs),
    ...(rateNotBeforeMs === undefined ? {} : { rateNotBeforeMs }),
    conflicted,
  };
}

/**
 * A request that a window shows waiting, found granted (or answered) when read: another granter
 * let it in after the window was read, since every grant takes the request out of the queue
 * (the grant transaction deletes its entry). The window is stale from there on: every entry
 * behind may have been let in too, and walking on costs a read and a write per entry (20
 * entries, 5 rounds: 26 s releases among 200 rate-limited executions on the local AWS). A pass
 * steps back instead and reads the head again.
 */
export function grantedSinceRead(request: StoredRequest | undefined): boolean {
  return request?.state === 'granted' || request?.state === 'answered';
}

/**
 * When the rate, as `rateItem` shows it, next allows a start, if that is after `nowMs`; undefined
 * when a start is allowed now (or the item was never written). Only a hint: the grant's
 * transaction decides.
 */
export function rateClosedUntil(
  rateItem: Record<string, AttributeValue> | undefined,
  cell: RateCell,
  nowMs: number,
): number | undefined {
  if (!rateItem) return undefined;
  const verdict = rateRefusal(rateItem, cell, nowMs);
  return 'notBeforeMs' in verdict ? verdict.notBeforeMs : undefined;
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

type GrantOneOutcome =
  | { kind: 'granted'; lease: Lease; tatUs?: number }
  | { kind: 'rate-limited'; notBeforeMs: number }
  /** `stale`: the request was settled by another granter since it was read. */
  | { kind: 'conflict' | 'stale' | 'none' };

async function grantOne(
  store: WaitingStore,
  request: StoredRequest,
  free: Set<number>,
  window: QueueWindow,
  rateAsRead: Record<string, AttributeValue> | undefined,
): Promise<GrantOneOutcome> {
  const permits = permitsOf(request);
  const primary = primarySlotOf(request.releaseCode, request.concurrency);
  // The primary slot first: a repeated first attempt of this request would write there.
  const candidates = () =>
    usableSlots(free, request).sort((a, b) => Number(b === primary) - Number(a === primary) || a - b);
  for (let slots = candidates(); slots.length >= permits; slots = candidates()) {
    const chosen = slots.slice(0, permits);
    const outcome = await grantSlots(store, request, chosen, window.slots, {
      ...(rateAsRead ? { rateAsRead } : {}),
    });
    if (outcome.kind === 'granted') {
      for (const slot of chosen) free.delete(slot);
      return outcome;
    }
    // The rate closed since it was read: the slots stay free, for when the rate opens.
    if (outcome.kind === 'rate-limited') return outcome;
    if (outcome.kind === 'conflict') {
      for (const slot of chosen) free.delete(slot);
      return { kind: 'conflict' };
    }
    if (outcome.kind === 'slot-taken') for (const slot of outcome.takenSlots) free.delete(slot);
    else return { kind: outcome.kind === 'request-settled' ? 'stale' : 'none' };
  }
  return { kind: 'none' };
}

/** The free slots a request (or its entry) may use: those below its concurrency. */
function usableSlots(free: Set<number>, request: Pick<QueueEntry, 'concurrency'>): number[] {
  return [...free].filter((slot) => slot < request.concurrency);
}

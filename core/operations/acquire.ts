import { fullJitterDelay, sleep } from '../backoff.js';
import { LockStoreError, LockTimeoutError } from '../errors.js';
import type { Lease } from '../lease.js';
import type { LockStore } from '../store.js';
import { readVacancy } from './read-slots.js';
import { releaseSlot } from './release-slot.js';
import { type TakeSlotRequest, takeSlot } from './take-slot.js';

/** How an in-process acquire waits between attempts. */
export interface AcquireBackoff {
  baseMs: number;
  capMs: number;
}

/**
 * What the other objects of this process are doing on the resource (`contention-hints.ts`): a
 * waiter that writes to a slot another of them is writing, or just released for the next taker,
 * only collides with it. Hints only: every write stays conditional on the table.
 */
export interface ProcessNeighbours {
  /** A slot an object of this process released lately, handed to this acquire alone. */
  takeFreed(): { concurrencyId: number; fencingToken: number } | undefined;
  /** Whether a slot that a read begun at `readStartedMs` saw free went to another object of this process. */
  spokenFor(concurrencyId: number, readStartedMs: number): boolean;
  /** Marks a slot as being written by this acquire; answers the function that clears the mark. */
  markWriting(concurrencyId: number): (granted: boolean) => void;
  /** Whether an object of this process is writing the slot or holds it now. */
  busy(concurrencyId: number): boolean;
}

/** What `acquireLease` needs besides the store. */
export interface AcquireRequest extends Omit<TakeSlotRequest, 'concurrencyId'> {
  concurrency: number;
  /** The slot to try first without reading: the one this client held last, and its token there. */
  preferredSlot?: { concurrencyId: number; fencingToken: number };
  /** Skip the blind first write: the last attempt on this resource met contention. */
  expectContention?: boolean;
  /** The first attempt is a write whatever the neighbours do (`tryAcquire`: one write, no read). */
  writeFirst?: boolean;
  deadlineMs: number;
  signal?: AbortSignal;
  backoff: AcquireBackoff;
  neighbours?: ProcessNeighbours;
}

/** A granted lease, and whether it had to wait for it (the hint for the next acquire). */
export interface AcquireOutcome {
  lease: Lease;
  contended: boolean;
  writes: number;
}

/**
 * Waits in-process until a slot is granted or the deadline passes.
 *
 * Uncontended, it is one write: a blind conditional write to the preferred (or a random) slot
 * that no other object of this process is writing or holds.
 * Once that is refused, it stops writing blind: each round reads which slots are free (one
 * consistent Query, no write units) and writes only to one of those, chosen at random so that
 * competing clients spread out; a slot another object of this process released a moment ago is
 * tried first, and slots other objects of this process are about to take are left to them. With no free slot it sleeps with full jitter, never past the
 * next lease end it saw.
 *
 * @example
 * const { lease } = await acquireLease(store, { resourceId, concurrency: 3, releaseCode, durationMs, deadlineMs, backoff });
 */
export async function acquireLease(store: LockStore, request: AcquireRequest): Promise<AcquireOutcome> {
  const startedMs = store.clock();
  let writes = 0;
  const { neighbours } = request;
  const attempt = async (concurrencyId: number, seenFencingToken?: number): Promise<Lease | undefined> => {
    const unmark = neighbours?.markWriting(concurrencyId);
    let granted = false;
    try {
      const result = await takeSlotOrCleanUp(store, {
        ...request,
        concurrencyId,
        ...(seenFencingToken === undefined ? {} : { seenFencingToken }),
      });
      writes += result.writes;
      granted = result.granted;
      return result.granted ? result.lease : undefined;
    } finally {
      unmark?.(granted);
    }
  };

  const blind = request.expectContention ? undefined : blindSlot(request);
  if (blind) {
    const lease = await throttledAsBusy(store, () => attempt(blind.concurrencyId, blind.fencingToken));
    if (lease) return { lease, contended: false, writes };
  }
  for (let round = 0; ; round++) {
    request.signal?.throwIfAborted();
    const found = await throttledAsBusy(store, async () => {
      const freed = neighbours?.takeFreed();
      const freedLease = freed && (await attempt(freed.concurrencyId, freed.fencingToken));
      if (freedLease) return { vacancy: undefined, slot: freed.concurrencyId, lease: freedLease };
      const readStartedMs = performance.now();
      const vacancy = await readVacancy(store, request.resourceId, request.concurrency);
      const open = vacancy.free.filter((free) => !neighbours?.spokenFor(free, readStartedMs));
      const slot = open[randomInt(open.length)];
      const lease = slot === undefined ? undefined : await attempt(slot, vacancy.tokens.get(slot));
      return { vacancy, slot, lease };
    });
    const { vacancy, slot, lease } = found ?? { vacancy: undefined, slot: undefined, lease: undefined };
    // Contended means a write was refused or a wait was needed: then the next acquire reads first.
    if (lease) return { lease, contended: writes > 1 || round > 0 || !request.expectContention, writes };
    const nowMs = store.clock();
    if (nowMs >= request.deadlineMs) {
      throw new LockTimeoutError(request.resourceId, nowMs - startedMs);
    }
    let delay = fullJitterDelay(round, request.backoff);
    // A seen lease end is a sure moment to look again; a little jitter avoids a herd at it.
    if (vacancy?.nextExpiryMs !== undefined && slot === undefined) {
      const untilExpiry = vacancy.nextExpiryMs + 1 - nowMs + Math.random() * request.backoff.baseMs;
      delay = Math.min(delay, Math.max(0, untilExpiry));
    }
    await sleep(Math.min(delay, Math.max(0, request.deadlineMs - nowMs)), request.signal);
  }
}

/**
 * Runs one round; a round that DynamoDB throttled out (past the store's `throttledUntilMs`, the
 * acquire's deadline) found no slot: it was refused, nothing of it landed. Answers undefined then.
 */
async function throttledAsBusy<T>(store: LockStore, round: () => Promise<T>): Promise<T | undefined> {
  try {
    return await round();
  } catch (error) {
    // Only within a deadline: an acquire without one reports 20 s of throttling as an error.
    if (
      error instanceof LockStoreError &&
      error.throttled &&
      Number.isFinite(store.throttledUntilMs ?? Number.POSITIVE_INFINITY)
    )
      return undefined;
    throw error;
  }
}

/**
 * A write whose outcome stayed unknown (the store kept failing) may still have landed: free
 * that slot with our code on the way out, so a gave-up acquire never leaves a slot held.
 */
async function takeSlotOrCleanUp(store: LockStore, request: TakeSlotRequest) {
  try {
    return await takeSlot(store, request);
  } catch (error) {
    // A throttled write was refused: nothing landed, nothing to free.
    if (error instanceof LockStoreError && !error.throttled) {
      await releaseSlot(store, request).catch(() => {
        // The lease still ends by itself; nothing more to do here.
      });
    }
    throw error;
  }
}

/**
 * The slot of the blind first write: the preferred one, else one at random; never one that
 * another object of this process is writing or holds (it would only collide with it). When
 * every slot is busy here, none (the acquire reads first, as a contended one does), unless the
 * caller asked for a write first.
 */
function blindSlot(request: AcquireRequest): { concurrencyId: number; fencingToken?: number } | undefined {
  const { preferredSlot, neighbours, concurrency } = request;
  if (preferredSlot && !neighbours?.busy(preferredSlot.concurrencyId)) return preferredSlot;
  const guess = randomInt(concurrency);
  if (!neighbours?.busy(guess)) return { concurrencyId: guess };
  const open: number[] = [];
  for (let slot = 0; slot < concurrency; slot++) if (!neighbours.busy(slot)) open.push(slot);
  const slot = open[randomInt(open.length)];
  if (slot === undefined) return request.writeFirst ? { concurrencyId: guess } : undefined;
  return { concurrencyId: slot };
}

function randomInt(below: number): number {
  return Math.floor(Math.random() * below);
}

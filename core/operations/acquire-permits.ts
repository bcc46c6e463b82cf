import { fullJitterDelay, sleep } from '../backoff.js';
import { LockStoreError, LockTimeoutError } from '../errors.js';
import type { Lease } from '../lease.js';
import { guessRateForm, type RateCell, type RateForm } from '../rate.js';
import type { LockStore } from '../store.js';
import type { AcquireBackoff } from './acquire.js';
import { readVacancy } from './read-slots.js';
import { releaseSlot } from './release-slot.js';
import { type TakePermitsResult, takePermits } from './take-permits.js';

/** What `acquirePermits` needs besides the store. */
export interface AcquirePermitsRequest {
  resourceId: string;
  concurrency: number;
  /** How many of the `concurrency` slots to take at once, all or none. */
  permits: number;
  releaseCode: string;
  durationMs: number;
  owner?: string;
  /** The start rate, in the transaction's terms; absent: no rate. */
  rate?: RateCell;
  /** The TAT this client saw last (µs), to guess the rate update's form. */
  lastTatUs?: number;
  /** The slots to try first without reading (one permit, uncontended): the one held last. */
  preferredSlot?: { concurrencyId: number; fencingToken: number };
  expectContention?: boolean;
  deadlineMs: number;
  signal?: AbortSignal;
  backoff: AcquireBackoff;
}

/** A granted lease, whether it waited, the write requests it took, and a TAT guess for next time. */
export interface AcquirePermitsOutcome {
  lease: Lease;
  contended: boolean;
  writes: number;
  /** The TAT this grant left behind, if known (µs): the next acquire guesses its form from it. */
  tatUs?: number;
}

/**
 * Waits in-process until `permits` slots are granted together (and, with a rate, the rate allows
 * a start), or the deadline passes. Each try is one transaction (`takePermits`).
 *
 * One permit with no contention seen tries the preferred (or a random) slot blind, like the plain
 * acquire; otherwise each round reads which slots are free (one consistent Query) and takes
 * `permits` of them at random. A rate refusal says when the next start is allowed: the acquire
 * sleeps until that moment (with a little jitter against a herd), never polling before it; and
 * when that moment lies past the deadline it gives up at once, since no release can bring it
 * closer (the TAT only grows).
 *
 * @example
 * const { lease } = await acquirePermits(store, { resourceId, concurrency: 5, permits: 3, releaseCode, durationMs, deadlineMs, backoff });
 */
export async function acquirePermits(
  store: LockStore,
  request: AcquirePermitsRequest,
): Promise<AcquirePermitsOutcome> {
  const startedMs = store.clock();
  let writes = 0;
  let form: RateForm = guessRateForm(request.lastTatUs, startedMs);
  let seenTokens = new Map<number, number>();
  let blind = request.permits === 1 && !request.expectContention;
  for (let round = 0; ; round++) {
    request.signal?.throwIfAborted();
    let slots: number[] | undefined;
    let nextExpiryMs: number | undefined;
    if (blind) {
      const preferred = request.preferredSlot;
      slots = [preferred?.concurrencyId ?? randomInt(request.concurrency)];
      if (preferred) seenTokens.set(preferred.concurrencyId, preferred.fencingToken);
    } else {
      const vacancy = await readVacancy(store, request.resourceId, request.concurrency);
      for (const [slot, token] of vacancy.tokens)
        seenTokens.set(slot, Math.max(token, seenTokens.get(slot) ?? 0));
      nextExpiryMs = vacancy.nextExpiryMs;
      if (vacancy.free.length >= request.permits) slots = pick(vacancy.free, request.permits);
    }
    blind = false;
    let waitUntilMs: number | undefined;
    if (slots) {
      const result = await takeOrCleanUp(store, request, slots, seenTokens, form);
      writes++;
      // Held by our own code already: this object's earlier try landed, its answer was lost.
      if (result.kind === 'granted' || result.kind === 'held-by-us') {
        // The TAT is now at least now + interval (further ahead after a busy-form grant): a hint.
        const tatUs = request.rate ? store.clock() * 1000 + request.rate.intervalUs : undefined;
        return {
          lease: result.lease,
          contended: writes > 1 || round > 0 || request.expectContention === true,
          writes,
          ...(tatUs === undefined ? {} : { tatUs }),
        };
      }
      if (result.kind === 'rate-form' || result.kind === 'token-low' || result.kind === 'conflict') {
        if (result.kind === 'rate-form') form = result.retryAs;
        if (result.kind === 'token-low') seenTokens = result.seenTokens;
        // A wrong guess or a low token is put right at once; a conflict after a short pause.
        if (result.kind === 'conflict') await sleep(fullJitterDelay(0, request.backoff), request.signal);
        blind =
          result.kind !== 'conflict' && request.permits === 1 && round === 0 && !request.expectContention;
        if (result.kind !== 'conflict') continue;
      }
      // A blind write met a holder: read which slots are free before anything else, as the plain acquire does.
      if (result.kind === 'slot-held' && round === 0 && request.permits === 1 && !request.expectContention)
        continue;
      if (result.kind === 'rate-limited') {
        form = 'busy';
        waitUntilMs = result.notBeforeMs;
      }
    }
    const nowMs = store.clock();
    if (waitUntilMs !== undefined && waitUntilMs > request.deadlineMs) {
      throw new LockTimeoutError(request.resourceId, nowMs - startedMs);
    }
    if (nowMs >= request.deadlineMs) throw new LockTimeoutError(request.resourceId, nowMs - startedMs);
    let delay: number;
    if (waitUntilMs !== undefined) {
      // The rate's own moment: a few ms of jitter so that its waiters do not all write at once.
      delay = Math.max(0, waitUntilMs - nowMs) + Math.random() * request.backoff.baseMs;
    } else {
      delay = fullJitterDelay(round, request.backoff);
      if (nextExpiryMs !== undefined && !slots) {
        const untilExpiry = nextExpiryMs + 1 - nowMs + Math.random() * request.backoff.baseMs;
        delay = Math.min(delay, Math.max(0, untilExpiry));
      }
    }
    await sleep(Math.min(delay, Math.max(0, request.deadlineMs - nowMs)), request.signal);
  }
}

/**
 * A transaction whose outcome stayed unknown (the store kept failing) may still have landed: free
 * its slots with our code on the way out, so a gave-up acquire never leaves a slot held. (Its
 * start, if it landed, stays counted: the rate errs on the strict side.)
 */
async function takeOrCleanUp(
  store: LockStore,
  request: AcquirePermitsRequest,
  slots: number[],
  seenTokens: Map<number, number>,
  form: RateForm,
): Promise<TakePermitsResult> {
  try {
    return await takePermits(store, {
      resourceId: request.resourceId,
      slots,
      releaseCode: request.releaseCode,
      durationMs: request.durationMs,
      ...(request.owner === undefined ? {} : { owner: request.owner }),
      seenTokens,
      ...(request.rate ? { rate: { cell: request.rate, form } } : {}),
    });
  } catch (error) {
    if (error instanceof LockStoreError && !error.throttled) {
      await Promise.all(
        slots.map((concurrencyId) =>
          releaseSlot(store, {
            resourceId: request.resourceId,
            concurrencyId,
            releaseCode: request.releaseCode,
          }),
        ),
      ).catch(() => {
        // The leases still end by themselves.
      });
    }
    throw error;
  }
}

/** `count` distinct members of `from`, at random, so that competing clients spread out. */
function pick(from: number[], count: number): number[] {
  const pool = [...from];
  for (let index = pool.length - 1; index > 0; index--) {
    const other = randomInt(index + 1);
    [pool[index], pool[other]] = [pool[other] as number, pool[index] as number];
  }
  return pool.slice(0, count);
}

function randomInt(below: number): number {
  return Math.floor(Math.random() * below);
}

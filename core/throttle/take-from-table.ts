import { LockStoreError } from '../errors.js';
import type { Lease } from '../lease.js';
import { readVacancy } from '../operations/read-slots.js';
import { releaseSlot } from '../operations/release-slot.js';
import { takeSlot } from '../operations/take-slot.js';
import { newReleaseCode } from '../release-code.js';
import type { LockStore } from '../store.js';
import type { SlotPoolOptions, SlotTake } from './slot-pool.js';

/** How many slots seen free by a read to try before giving up; others race for the same ones. */
const writesAfterRead = 2;

/**
 * One take of a resource's slot from the table, for `SlotPool`: a blind write to the slot this
 * process freed last when the resource looked free, else one consistent read and writes only to
 * slots it saw free. With a rate, each write is a transaction that also counts the start, and a
 * rate this process saw closed is refused before any write (`rateNotBeforeMs`).
 *
 * @example
 * const taken = await takeFromTable(store, options, 'tenant-1', 3);
 */
export async function takeFromTable(
  store: LockStore,
  options: SlotPoolOptions,
  resourceId: string,
  concurrency: number,
): Promise<SlotTake> {
  const { memory } = options;
  const { tableName } = store;
  // Every slot is held in this process: the table cannot say otherwise, so do not ask it.
  if (memory.heldCount(tableName, resourceId, concurrency) >= concurrency) return {};
  // A rate this process saw closed refuses every write before its moment: ask nothing.
  const rateNotBeforeMs = options.rate?.closedUntil(store, resourceId);
  if (rateNotBeforeMs !== undefined) return { rateNotBeforeMs };
  const blind = memory.candidate(tableName, resourceId, concurrency);
  if (blind !== undefined) {
    const written = await write(store, options, resourceId, blind);
    if (written) return written;
  }
  const vacancy = await readVacancy(store, resourceId, concurrency);
  const free = shuffle(
    vacancy.free.filter((slot) => slot !== blind && !memory.isHeld(tableName, resourceId, slot)),
  );
  // Mostly free: the next take may write blind again. Otherwise keep reading first.
  memory.setContended(tableName, resourceId, free.length * 2 < concurrency);
  for (const slot of free.slice(0, writesAfterRead)) {
    const written = await write(store, options, resourceId, slot, vacancy.tokens.get(slot));
    if (written) return written;
  }
  memory.setContended(tableName, resourceId, true);
  const nowMs = store.clock();
  return vacancy.nextExpiryMs === undefined
    ? {}
    : { retryAfterMs: Math.max(0, vacancy.nextExpiryMs - nowMs) };
}

/**
 * One conditional write (with a rate, one transaction of the slot and the rate item); a write
 * whose answer was lost is undone on the way out. Undefined: the slot was held.
 */
async function write(
  store: LockStore,
  options: SlotPoolOptions,
  resourceId: string,
  slot: number,
  seenFencingToken?: number,
): Promise<{ lease: Lease } | { rateNotBeforeMs: number } | undefined> {
  const { memory, owner } = options;
  const nowMs = store.clock();
  const request = {
    resourceId,
    concurrencyId: slot,
    releaseCode: newReleaseCode(),
    durationMs: Math.max(1, options.leaseEndFor(nowMs) - nowMs),
    ...(owner === undefined ? {} : { owner }),
    ...(seenFencingToken === undefined ? {} : { seenFencingToken }),
  };
  const { tableName } = store;
  // Reserved before the write, so that a concurrent take in this process picks another slot.
  memory.taken(tableName, resourceId, slot);
  try {
    const { rate } = options;
    if (rate) {
      const taken = await rate.take(store, request);
      if (taken.kind === 'granted') return { lease: taken.lease };
      memory.released(tableName, resourceId, slot, false);
      if (taken.kind === 'rate-limited') return { rateNotBeforeMs: taken.notBeforeMs };
    } else {
      const result = await takeSlot(store, request);
      if (result.granted) return { lease: result.lease };
      memory.released(tableName, resourceId, slot, false);
    }
    memory.setContended(tableName, resourceId, true);
    return undefined;
  } catch (error) {
    memory.released(tableName, resourceId, slot, false);
    if (error instanceof LockStoreError) await releaseSlot(store, request).catch(() => {});
    throw error;
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [items[index], items[other]] = [items[other] as T, items[index] as T];
  }
  return items;
}

import type { SlotHold } from '../lease.js';
import { releaseSlotTimed, type SlotLease } from '../operations/release-slot.js';
import { attribute } from '../table.js';
import { type GrantPass, grantWaiting } from './grant-waiting.js';
import { handOver } from './hand-over.js';
import { readQueueWindow } from './queue.js';
import type { WaitingStore } from './waiting-store.js';

/** A lease to release: one slot, or (`slots`) every slot of a lease of several permits. */
export type ReleasedLease = SlotLease & { slots?: Pick<SlotHold, 'concurrencyId'>[] };

/** The release, and the pass that handed the freed slot on (absent when nobody waited). */
export interface ReleaseOutcome {
  released: boolean;
  pass?: GrantPass;
  /** When the released lease began (its slot's `taken_ms`), for its hold time; absent: unknown. */
  takenAtMs?: number;
}

/**
 * Releases a slot, or rather passes it straight to the oldest waiting request, so a freed slot
 * never sits idle for a back-off period nor goes to a newcomer. One read of the queue's head,
 * then one write: a plain release when nobody waits, a transfer transaction when someone does.
 * With `handOff` false the slot is only freed, and the waiters' retry loop finds it (for
 * comparison).
 *
 * @example
 * const { released, pass } = await releaseAndHandOff(store, lease);
 */
export async function releaseAndHandOff(
  store: WaitingStore,
  lease: ReleasedLease,
  { handOff = true }: { handOff?: boolean } = {},
): Promise<ReleaseOutcome> {
  if (lease.slots && lease.slots.length > 1) return releasePermits(store, lease, lease.slots, handOff);
  if (!handOff) return releaseSlotTimed(store, lease);
  const window = await readQueueWindow(store, lease.resourceId);
  const handed = await handOver(store, lease, window);
  if (handed) {
    // The hand-over checked that the slot as read is this lease's.
    const takenMs = window.slots.get(lease.concurrencyId)?.[attribute.takenMs]?.N;
    return { released: true, pass: handed, ...(takenMs === undefined ? {} : { takenAtMs: Number(takenMs) }) };
  }
  const released = await releaseSlotTimed(store, lease);
  if (window.entries.length === 0) return released;
  // Nobody could take it over directly (deadlines, other slot counts, a race): one pass, re-read.
  return { ...released, pass: await grantWaiting(store, lease.resourceId) };
}

/**
 * Releases every slot of a lease of several permits (one conditional write each, so a slot
 * taken over after the lease ended leaves the others to be freed; released only if all were
 * ours), then one pass over the queue: no hand-over, since the oldest waiter may need any number
 * of the freed slots, and the pass grants in arrival order from all of them at once.
 */
async function releasePermits(
  store: WaitingStore,
  lease: SlotLease,
  slots: Pick<SlotHold, 'concurrencyId'>[],
  handOff: boolean,
): Promise<ReleaseOutcome> {
  const results = await Promise.all(
    slots.map((slot) => releaseSlotTimed(store, { ...lease, concurrencyId: slot.concurrencyId })),
  );
  const takenAtMs = results[0]?.takenAtMs;
  const released = {
    released: results.every((result) => result.released),
    ...(takenAtMs === undefined ? {} : { takenAtMs }),
  };
  return handOff ? { ...released, pass: await grantWaiting(store, lease.resourceId) } : released;
}

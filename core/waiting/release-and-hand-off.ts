import { releaseSlotTimed, type SlotLease } from '../operations/release-slot.js';
import { attribute } from '../table.js';
import { type GrantPass, grantWaiting } from './grant-waiting.js';
import { handOver } from './hand-over.js';
import { readQueueWindow } from './queue.js';
import type { WaitingStore } from './waiting-store.js';

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
  lease: SlotLease,
  { handOff = true }: { handOff?: boolean } = {},
): Promise<ReleaseOutcome> {
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

import { isHeld } from '../item.js';
import type { SlotLease } from '../operations/release-slot.js';
import { attribute } from '../table.js';
import { grantSlot } from './grant-transaction.js';
import { type GrantPass, grantedSinceRead, nextLeaseEnd, rateClosedUntil } from './grant-waiting.js';
import { dropQueueEntry, type QueueWindow, readRequest } from './queue.js';
import type { WaitingStore } from './waiting-store.js';

/**
 * Passes a held slot straight to the oldest waiting request that may use it, in one
 * transaction, so the slot is never free in between: no newcomer can slip in ahead of the
 * queue, and the waiter needs no back-off turn. Reads only the requests it tries, from the head
 * of the queue. Answers the pass it made (the grant, and who still waits behind it: the new head
 * must be woken), or undefined when nobody could take it (then release the slot as usual).
 *
 * A head that needs several permits is not handed the slot (nor is anyone behind it): the slot is
 * released, and the release's pass grants the head all its slots at once when enough are free.
 *
 * The hand-over respects the rate: a head that may not start yet (the rate item as read, or the
 * grant refused by it) takes nothing, nor does anyone behind it; the slot is released as usual,
 * and the release's pass says when the head may start, for its turn to be set then.
 *
 * @example
 * const grant = await handOver(store, lease, await readQueueWindow(store, lease.resourceId));
 */
export async function handOver(
  store: WaitingStore,
  holder: SlotLease,
  window: QueueWindow,
): Promise<GrantPass | undefined> {
  const nowMs = store.clock();
  const slot = window.slots.get(holder.concurrencyId);
  if (!slot || slot[attribute.releaseCode]?.S !== holder.releaseCode || !isHeld(slot, nowMs))
    return undefined;
  const candidates = window.entries.filter(
    (entry) => entry.waitUntilMs >= nowMs && holder.concurrencyId < entry.concurrency,
  );
  for (const entry of candidates) {
    // A head that needs several slots takes none by hand-over: one released slot is not enough
    // alone, and keeping it for the head would make the hand-over a partial grant. The slot is
    // released as usual, and the release's pass grants the head once its slots are free together.
    if (entry.permits > 1) return undefined;
    const request = await readRequest(store, entry.resourceId, entry.requestKey);
    if (request?.state !== 'waiting') {
      await dropQueueEntry(store, entry);
      // Let in by another granter since the window was read: the release's own pass reads again.
      if (grantedSinceRead(request)) return undefined;
      continue;
    }
    if (request.rate && rateClosedUntil(window.rateItem, request.rate, store.clock()) !== undefined)
      return undefined;
    const outcome = await grantSlot(store, request, holder.concurrencyId, slot, {
      fromHolder: holder.releaseCode,
      ...(window.rateItem ? { rateAsRead: window.rateItem } : {}),
    });
    if (outcome.kind === 'granted') {
      const waiting = window.entries.filter((other) => other.requestKey !== request.requestKey);
      // The handed slot's lease is the new holder's now.
      const others = new Map(window.slots);
      others.delete(holder.concurrencyId);
      const { nextLeaseEndMs = Number.POSITIVE_INFINITY } = nextLeaseEnd(others, waiting, nowMs);
      return {
        grants: [{ request, lease: outcome.lease }],
        expired: [],
        waiting,
        nextLeaseEndMs: Math.min(nextLeaseEndMs, outcome.lease.expiresAtMs),
      };
    }
    // Holding its primary slot: the next in line. Anything else (granted elsewhere since it was
    // read: the window is stale, see grantedSinceRead): give up, the release's pass reads again.
    if (outcome.kind !== 'holds-primary') return undefined;
  }
  return undefined;
}

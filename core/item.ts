import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Holder, Lease } from './lease.js';
import { attribute } from './table.js';

type Item = Record<string, AttributeValue>;

/** The table key of one slot. */
export function slotKey(resourceId: string, concurrencyId: number): Item {
  return {
    [attribute.resourceId]: { S: resourceId },
    [attribute.concurrencyId]: { N: String(concurrencyId) },
  };
}

/**
 * Whole seconds for `expires`: the second after the one that holds the lease's last millisecond.
 * Python frees a slot once `expires <= now_seconds`, and a lease holds through its end, so a
 * lease ending on a whole second (rounded up, it would equal that second) stays Python's too.
 */
export function toExpiresSeconds(expiresAtMs: number): number {
  return Math.floor(expiresAtMs / 1000) + 1;
}

/**
 * The lease end of a stored item in milliseconds. Items written by Python lack `expires_ms`;
 * their lease holds while `expires > now_seconds`, so it ends at the start of second `expires`.
 */
export function leaseEndMs(item: Item): number | undefined {
  const precise = item[attribute.expiresMs]?.N;
  if (precise !== undefined) return Number(precise);
  const seconds = item[attribute.expires]?.N;
  return seconds === undefined ? undefined : Number(seconds) * 1000 - 1;
}

/** True when the item is a holder whose lease has not ended at `nowMs` (the end is inclusive). */
export function isHeld(item: Item, nowMs: number): boolean {
  const end = leaseEndMs(item);
  return end !== undefined && end >= nowMs;
}

/** Reads a holder out of a stored item. */
export function toHolder(item: Item): Holder {
  const token = item[attribute.fencingToken]?.N;
  const owner = item[attribute.owner]?.S;
  return {
    concurrencyId: Number(item[attribute.concurrencyId]?.N),
    expiresAtMs: leaseEndMs(item) ?? 0,
    ...(owner === undefined ? {} : { owner }),
    ...(token === undefined ? {} : { fencingToken: Number(token) }),
  };
}

/**
 * The lease a stored slot item gives the holder of `releaseCode`, when it still holds it at
 * `nowMs`: how a repeated take, whose earlier write landed but whose answer was lost, finds
 * its own lease. Undefined when the item is another's, or ended.
 *
 * @example
 * const mine = heldLease(item, { resourceId: 'api', concurrencyId: 0, releaseCode }, Date.now());
 */
export function heldLease(
  item: Item | undefined,
  slot: { resourceId: string; concurrencyId: number; releaseCode: string },
  nowMs: number,
): Lease | undefined {
  if (!item || item[attribute.releaseCode]?.S !== slot.releaseCode || !isHeld(item, nowMs)) return undefined;
  const owner = item[attribute.owner]?.S;
  return {
    ...slot,
    expiresAtMs: leaseEndMs(item) ?? nowMs,
    fencingToken: Number(item[attribute.fencingToken]?.N ?? 0),
    ...(owner === undefined ? {} : { owner }),
  };
}

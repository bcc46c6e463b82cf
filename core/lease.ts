/**
 * A granted slot. Whoever knows `releaseCode` may release or extend it, also from another
 * process (a workflow step, a Python service).
 *
 * @example
 * const lease = await lock.acquire();
 * console.log(lease.concurrencyId, new Date(lease.expiresAtMs), lease.fencingToken);
 */
export interface Lease {
  resourceId: string;
  /** The slot, 0 <= concurrencyId < concurrency. */
  concurrencyId: number;
  /** 128 random bits, hex; a bearer secret for this lease. */
  releaseCode: string;
  /**
   * Lease end, epoch milliseconds. From a `DynamoDbLock`: the holder's safe deadline, its
   * `maxClockSkewMs` before the end stored for the others (who find the slot free once their
   * clock passes the stored end); stop the protected work by it.
   */
  expiresAtMs: number;
  /**
   * Grows with every new holder of this slot while its item exists, whatever the clocks. When the
   * item was deleted (by TTL or a Python release) or replaced by a Python holder, which does not
   * know the attribute, the next token comes from the taker's clock (`now_ms × 1000`): it is
   * larger only if that clock is not behind the clock that wrote the last one. For a mutex it
   * orders all holders on those terms; with concurrency > 1 it orders the holders of one slot
   * only. See the README's "Fencing token".
   */
  fencingToken: number;
  owner?: string;
  /**
   * Every slot this lease holds, when it took more than one permit (`permits` > 1): the first is
   * the one `concurrencyId` and `fencingToken` name. Absent for a lease of one slot.
   */
  slots?: SlotHold[];
}

/** One slot of a lease of several permits, and its fencing token there. */
export interface SlotHold {
  concurrencyId: number;
  fencingToken: number;
}

/** One unexpired holder, as `holders()` and `count()` see it. */
export interface Holder {
  concurrencyId: number;
  owner?: string;
  expiresAtMs: number;
  fencingToken?: number;
}

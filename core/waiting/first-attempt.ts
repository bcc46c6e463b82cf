import type { Lease } from '../lease.js';
import { releaseSlot } from '../operations/release-slot.js';
import { resourceLimitFor } from '../resource-limit.js';
import type { GrantPass } from './grant-waiting.js';
import { handOver } from './hand-over.js';
import { readQueueWindow, readRequest } from './queue.js';
import {
  permitsOf,
  primarySlotOf,
  releaseCodeOf,
  requestKeyOf,
  type SlotRequest,
  type StoredRequest,
} from './request.js';
import { takePrimary } from './take-primary.js';
import { claimToken } from './token-claim.js';
import type { WaitingStore } from './waiting-store.js';

/**
 * The first attempt's verdict. `granted`: the slot is this request's and it has no record (with
 * `fresh` false, a repeated request that held it already); answer it. `busy`: record the request
 * as waiting.
 */
export type FirstAttempt =
  | { kind: 'granted'; lease: Lease; fresh: boolean }
  /** A repeated delivery of a request stored already and no longer waiting: drive it from its record. */
  | { kind: 'settled'; request: StoredRequest }
  /** `handedOver`: the slot this attempt found free went to the oldest waiter; answer it. */
  | { kind: 'busy'; handedOver?: GrantPass }
  /** Its task token is claimed by another request (`token-claim.ts`): answer nothing. */
  | { kind: 'refused' }
  /** It asked for another concurrency than the resource's limit (`core/resource-limit.ts`). */
  | { kind: 'over-limit'; limit: number };

/**
 * A workflow's first try for a slot: the claim of its task token, one conditional write to the
 * request's primary slot (beside a read of the resource's limit; with a rate, the slot and the
 * rate's start in one transaction, after a look at the queue: `take-primary.ts`), then a read of its own record
 * and of the head of the queue, which the grant must respect:
 * - the token is claimed by another request (a replayed token): refused before anything else is
 *   written, nothing answered;
 * - it asks for another concurrency than the resource's limit (the first grant records it) and
 *   was not recorded before: over the limit, the slot given back;
 * - an item of this very request exists (a repeated delivery): settle through it, so the
 *   request never ends up with two slots; a slot taken while it waits is handed to the oldest
 *   waiter (itself, if it is the oldest), never kept around the queue;
 * - older requests wait: pass the slot to the oldest and queue behind them (arrival order);
 * - nobody waits: the slot is granted.
 * A request for several permits takes no slot here: it is `busy` (after the token's claim and the
 * limit), recorded, and granted by the pass that follows its record.
 *
 * @example
 * const attempt = await firstAttempt(store, { resourceId, concurrency: 3, leaseMs, waitUntilMs, taskToken });
 */
export async function firstAttempt(store: WaitingStore, request: SlotRequest): Promise<FirstAttempt> {
  const releaseCode = releaseCodeOf(request.taskToken);
  if (!(await claimToken(store, releaseCode, request))) return { kind: 'refused' };
  const primary = primarySlotOf(releaseCode, request.concurrency);
  const [taken, limit] = await Promise.all([
    // A request for several permits takes nothing outside the queue: it is recorded first and
    // granted by a pass, in the transaction that marks its record, so that the record alone says
    // which slots it holds (a repeated delivery, the release and the cleanup read them there).
    permitsOf(request) > 1
      ? ({ granted: false } as const)
      : takePrimary(store, request, releaseCode, primary),
    resourceLimitFor(store, request.resourceId, request.concurrency),
  ]);
  const giveBack = async () => {
    if (taken.granted && taken.fresh) await releaseSlot(store, taken.lease);
  };
  // A request recorded before the limit changed (a repeated delivery) keeps what it was accepted with.
  const recordedBefore = () => readRequest(store, request.resourceId, requestKeyOf(releaseCode));
  if (limit !== request.concurrency && !(await recordedBefore())) {
    await giveBack();
    return { kind: 'over-limit', limit };
  }
  if (!taken.granted) return { kind: 'busy' };
  const requestKey = requestKeyOf(releaseCode);
  const own = await readRequest(store, request.resourceId, requestKey);
  if (own && own.state !== 'waiting') {
    // A repeated delivery of a request that moved on: it is settled through its record alone.
    if (own.granted?.concurrencyId !== primary || own.state === 'withdrawn' || own.state === 'timed-out')
      await giveBack();
    return { kind: 'settled', request: own };
  }
  if (own) {
    // A repeated delivery whose record waits holds its primary slot (taken now, or by an earlier
    // delivery that stopped before it settled): no grant, since a waiting record names none. The
    // slot goes to the oldest waiter by hand-over, this request when it is the oldest that may
    // take it, never around the queue: an older waiter, or a head that needs several permits,
    // is not overtaken by a retried acquire.
    const handedOver = await handOver(store, taken.lease, await readQueueWindow(store, request.resourceId));
    const mine = handedOver?.grants.find((grant) => grant.request.requestKey === requestKey);
    if (mine) {
      const { concurrencyId, expiresAtMs, fencingToken } = mine.lease;
      return {
        kind: 'settled',
        request: { ...own, state: 'granted', granted: { concurrencyId, expiresAtMs, fencingToken } },
      };
    }
    if (handedOver) return { kind: 'busy', handedOver };
    // Nobody took it. The record decides what the slot is: granted to this request meanwhile (by
    // another delivery's hand-over), it stays; otherwise it is no grant of anyone's and is freed.
    const current = await readRequest(store, request.resourceId, requestKey);
    if (!(current?.state === 'granted' && current.granted?.concurrencyId === primary))
      await releaseSlot(store, taken.lease);
    return current && current.state !== 'waiting' ? { kind: 'settled', request: current } : { kind: 'busy' };
  }
  if (!taken.fresh) return { kind: 'granted', ...taken };
  const window = await readQueueWindow(store, request.resourceId);
  if (window.entries.length > 0) {
    // Others were first: pass the slot to the oldest of them without freeing it in between.
    const handedOver = await handOver(store, taken.lease, window);
    if (handedOver) return { kind: 'busy', handedOver };
    await giveBack();
    return { kind: 'busy' };
  }
  return { kind: 'granted', ...taken };
}

import { GetItemCommand, type GetItemCommandOutput } from '@aws-sdk/client-dynamodb';
import { heldLease, slotKey } from '../item.js';
import type { Lease } from '../lease.js';
import { takePermits } from '../operations/take-permits.js';
import { takeSlot } from '../operations/take-slot.js';
import { guessRateForm, type RateForm } from '../rate.js';
import { sendWithRetry } from '../send.js';
import { readQueueHead } from './queue.js';
import type { SlotRequest } from './request.js';
import type { WaitingStore } from './waiting-store.js';

/** A first attempt's take: granted (`fresh` false: this request held it already), or not. */
export type PrimaryTake = { granted: true; fresh: boolean; lease: Lease } | { granted: false };

// The TAT each resource's last rate-limited take of this process left (µs): guesses the form
// of the next one, so a busy rate costs one transaction, not a refused one first.
const lastTats = new Map<string, number>();
const lastTatsKept = 1_000;

/**
 * The first attempt's one write to the request's primary slot. Without a rate: `takeSlot`, a
 * conditional put and no read. With a rate: a look at the head of the queue first (anyone
 * waiting starts before this request: it queues, and takes no start from them), then one
 * transaction of the slot and the rate item (`takePermits`), so a start is counted exactly
 * when the slot is taken. A rate that is closed, like a busy slot, sends the request to the
 * queue, where the pass that records it learns when it may start. With others queued, one read
 * of the primary slot: a repeated delivery whose earlier take landed (its answer lost) finds its
 * own lease there and is answered with it, as `takeSlot` recognises it without a rate.
 *
 * @example
 * const taken = await takePrimary(store, request, releaseCode, primarySlotOf(releaseCode, request.concurrency));
 */
export async function takePrimary(
  store: WaitingStore,
  request: SlotRequest,
  releaseCode: string,
  primary: number,
): Promise<PrimaryTake> {
  const owner = request.owner === undefined ? {} : { owner: request.owner };
  const rate = request.rate;
  if (!rate) {
    const taken = await takeSlot(store, {
      resourceId: request.resourceId,
      concurrencyId: primary,
      releaseCode,
      durationMs: request.leaseMs,
      ...owner,
    });
    return taken.granted ? { granted: true, fresh: taken.fresh, lease: taken.lease } : { granted: false };
  }
  if ((await readQueueHead(store, request.resourceId, 1)).entries.length > 0)
    return heldAlready(store, request, releaseCode, primary);
  let form: RateForm = guessRateForm(lastTats.get(request.resourceId), store.clock());
  let seenTokens: Map<number, number> | undefined;
  // A wrong form or a low token is put right at once; each only once.
  for (let tries = 0; tries < 3; tries++) {
    const result = await takePermits(store, {
      resourceId: request.resourceId,
      slots: [primary],
      releaseCode,
      durationMs: request.leaseMs,
      ...owner,
      ...(seenTokens ? { seenTokens } : {}),
      rate: { cell: rate, form },
    });
    if (result.kind === 'granted') {
      remember(request.resourceId, store.clock() * 1000 + rate.intervalUs);
      return { granted: true, fresh: true, lease: result.lease };
    }
    if (result.kind === 'held-by-us') return { granted: true, fresh: false, lease: result.lease };
    if (result.kind === 'rate-form') form = result.retryAs;
    else if (result.kind === 'token-low') seenTokens = result.seenTokens;
    else {
      if (result.kind === 'rate-limited') remember(request.resourceId, Number.POSITIVE_INFINITY);
      return { granted: false };
    }
  }
  return { granted: false };
}

/** The primary slot as a repeated delivery may find it: held by this request's own code. */
async function heldAlready(
  store: WaitingStore,
  request: SlotRequest,
  releaseCode: string,
  primary: number,
): Promise<PrimaryTake> {
  const { Item: item } = await sendWithRetry<GetItemCommandOutput>(
    store,
    new GetItemCommand({
      TableName: store.tableName,
      Key: slotKey(request.resourceId, primary),
      ConsistentRead: true,
    }),
  );
  const lease = heldLease(
    item,
    { resourceId: request.resourceId, concurrencyId: primary, releaseCode },
    store.clock(),
  );
  return lease ? { granted: true, fresh: false, lease } : { granted: false };
}

function remember(resourceId: string, tatUs: number): void {
  if (lastTats.size >= lastTatsKept) lastTats.clear();
  lastTats.set(resourceId, tatUs);
}

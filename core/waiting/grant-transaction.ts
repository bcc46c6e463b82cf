import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  type TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { slotKey } from '../item.js';
import type { Lease, SlotHold } from '../lease.js';
import { fencingFloorPerMs, holderUpdate, slotIsFree } from '../operations/slot-conditions.js';
import {
  guessRateForm,
  type RateForm,
  rateAttribute,
  rateRefusal,
  rateUpdate,
  tatAfterStart,
} from '../rate.js';
import { sendWithRetry } from '../send.js';
import { attribute } from '../table.js';
import { entryDelete, grantWrite } from './lifecycle.js';
import { leaseOf, primarySlotOf, type StoredRequest } from './request.js';
import { notHoldingPrimarySlot } from './request-writes.js';
import type { WaitingStore } from './waiting-store.js';

type Item = Record<string, AttributeValue>;

/**
 * What a grant transaction did: granted; the slot was taken since it was read; the request was
 * granted or withdrawn already; the request holds its primary slot by a first attempt that
 * raced this grant (that attempt settles the request); the resource's start rate does not allow
 * a start before `notBeforeMs`; or a concurrent transaction conflicted. A rate-limited grant
 * answers the TAT it left (`tatUs`), so a pass goes on without reading the rate item again.
 */
export type GrantOutcome =
  | { kind: 'granted'; lease: Lease; tatUs?: number }
  | { kind: 'rate-limited'; notBeforeMs: number }
  /** `takenSlots`: the slots that were not as read (taken, or moved on). */
  | { kind: 'slot-taken'; takenSlots: number[] }
  | { kind: 'request-settled' | 'holds-primary' | 'conflict' };

/** How a grant transaction meets the rate: the rate item as last read, or a form to use. */
export interface GrantOptions {
  /** A transfer: the holder whose release code passes the slot on (a grant of one slot only). */
  fromHolder?: string;
  /** The rate item as read with the slots (absent: never written, or not read). */
  rateAsRead?: Item;
  /** The form of the rate update, when a refusal said which one it must be. */
  rateForm?: RateForm;
}

/**
 * Gives one free slot to one waiting request: `grantSlots` with one slot.
 *
 * @example
 * const outcome = await grantSlot(store, request, 2, slotItemAsRead);
 */
export function grantSlot(
  store: WaitingStore,
  request: StoredRequest,
  concurrencyId: number,
  slotAsRead: Item | undefined,
  options: GrantOptions = {},
): Promise<GrantOutcome> {
  return grantSlots(
    store,
    request,
    [concurrencyId],
    new Map(slotAsRead ? [[concurrencyId, slotAsRead]] : []),
    options,
  );
}

/**
 * Gives free slots to one waiting request, atomically: each slot is taken for the request's
 * release code and the request is marked granted, or nothing happens. This is what makes a
 * redelivered or repeated request unable to hold two grants: a request is marked granted once.
 * A request for several permits gets all its slots in this one transaction (the first slot
 * names the lease; the record lists them all), so it never holds some of them only.
 *
 * With `fromHolder`, the one slot passes straight from that holder to the request (a transfer),
 * so it is never free in between for a newcomer to grab: arrival order holds. Every slot must
 * still be as it was read (same fencing token), which also fixes its new token without a
 * read-back. A check item makes sure that the request does not hold its primary slot through a
 * first attempt running at the same moment (when the primary slot is not among those granted).
 *
 * A request with a rate (`request.rate`) also counts one start in the same transaction: the
 * rate item's TAT advances, on the condition that the rate allows a start now. So whichever of
 * two granters lands first takes the start, and the other is refused by the rate item itself,
 * whatever it read before. The transaction then carries a client request token: retried after a
 * lost answer, it is applied once and answers success, never "rate closed" because of its own
 * start (the slot and record conditions accept their own result; the TAT's cannot).
 *
 * @example
 * const outcome = await grantSlots(store, request, [0, 3, 4], window.slots);
 */
export async function grantSlots(
  store: WaitingStore,
  request: StoredRequest,
  concurrencyIds: number[],
  slotsAsRead: Map<number, Item>,
  { fromHolder, rateAsRead, rateForm }: GrantOptions = {},
): Promise<GrantOutcome> {
  const nowMs = store.clock();
  const lastTat = rateAsRead?.[rateAttribute.tat]?.N;
  const form = rateForm ?? guessRateForm(lastTat === undefined ? undefined : Number(lastTat), nowMs);
  const expiresAtMs = nowMs + request.leaseMs;
  const seenTokens = concurrencyIds.map((slot) => slotsAsRead.get(slot)?.[attribute.fencingToken]?.N);
  const holds: SlotHold[] = concurrencyIds.map((concurrencyId, index) => {
    const seen = seenTokens[index];
    return {
      concurrencyId,
      fencingToken: (seen === undefined ? nowMs * fencingFloorPerMs : Number(seen)) + 1,
    };
  });
  const first = holds[0] as SlotHold;
  const primarySlot = primarySlotOf(request.releaseCode, request.concurrency);
  const lease = leaseOf(request, {
    concurrencyId: first.concurrencyId,
    expiresAtMs,
    fencingToken: first.fencingToken,
    ...(holds.length > 1 ? { slots: holds } : {}),
  });
  const primaryCheck = concurrencyIds.includes(primarySlot)
    ? []
    : [{ ConditionCheck: notHoldingPrimarySlot(store.tableName, request, nowMs) }];
  const rate = request.rate;
  // The reasons' places: the slots, then the record, the primary check, the rate.
  const recordIndex = holds.length;
  const rateIndex = recordIndex + 1 + primaryCheck.length;
  try {
    await sendWithRetry(
      store,
      new TransactWriteItemsCommand({
        TransactItems: [
          ...holds.map((hold, index) => ({
            Update: slotGrant(store, request, hold, seenTokens[index], { expiresAtMs, nowMs, fromHolder }),
          })),
          { Update: grantWrite(store.requestTableName, request, lease, nowMs) },
          ...primaryCheck,
          ...(rate ? [{ Update: rateUpdate(store.tableName, request.resourceId, rate, form, nowMs) }] : []),
          // Out of the queue with the same write (last: the reasons above keep their places).
          ...entryDelete(store.requestTableName, request),
        ],
        ...(rate ? { ClientRequestToken: randomUUID() } : {}),
      }),
    );
    if (!rate) return { kind: 'granted', lease };
    const tatUs = tatAfterStart(rate, form, nowMs, lastTat === undefined ? undefined : Number(lastTat));
    return { kind: 'granted', lease, ...(tatUs === undefined ? {} : { tatUs }) };
  } catch (error) {
    if ((error as Error).name !== 'TransactionCanceledException') throw error;
    const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
    if (reasons[recordIndex]?.Code === 'ConditionalCheckFailed') return { kind: 'request-settled' };
    if (primaryCheck.length > 0 && reasons[recordIndex + 1]?.Code === 'ConditionalCheckFailed')
      return { kind: 'holds-primary' };
    const takenSlots = concurrencyIds.filter((_, index) => reasons[index]?.Code === 'ConditionalCheckFailed');
    if (takenSlots.length > 0) return { kind: 'slot-taken', takenSlots };
    const rateReason = rate ? reasons[rateIndex] : undefined;
    if (rate && rateReason?.Code === 'ConditionalCheckFailed') {
      const verdict = rateRefusal(rateReason.Item, rate, nowMs);
      // A wrong guess of the form is put right at once, once (the refusal returned the TAT).
      if ('retryAs' in verdict)
        return rateForm === undefined
          ? grantSlots(store, request, concurrencyIds, slotsAsRead, {
              ...(fromHolder === undefined ? {} : { fromHolder }),
              ...(rateReason.Item ? { rateAsRead: rateReason.Item } : {}),
              rateForm: verdict.retryAs,
            })
          : { kind: 'conflict' };
      return { kind: 'rate-limited', notBeforeMs: verdict.notBeforeMs };
    }
    // Another pass touched the same items at the same moment; both may have been cancelled.
    return { kind: 'conflict' };
  }
}

/** The update of one slot of a grant: taken for the request if still as read, or its own result. */
function slotGrant(
  store: WaitingStore,
  request: StoredRequest,
  hold: SlotHold,
  seenToken: string | undefined,
  { expiresAtMs, nowMs, fromHolder }: { expiresAtMs: number; nowMs: number; fromHolder: string | undefined },
) {
  // Free now, or (a transfer) still held by the holder who passes it on; in both cases unchanged
  // since it was read, which also fixes the new token without a read-back.
  const passedOn =
    fromHolder === undefined ? slotIsFree : '(#releaseCode = :fromHolder AND #expiresMs > :zero)';
  const unchanged =
    seenToken === undefined ? 'attribute_not_exists(#fencingToken)' : '#fencingToken = :seenToken';
  // Or this very transaction landed already and only its answer was lost: accept its own result
  // (its token and its lease end: another pass that read the same slot writes the same token with
  // its own end, see `grantWrite`), unless that lease was released or extended since (a release
  // sets expires_ms to 0): never bring it back, never shorten it.
  const ownResult = '(#releaseCode = :releaseCode AND #fencingToken = :token AND #expiresMs = :expiresMs)';
  const update = holderUpdate(
    {
      releaseCode: request.releaseCode,
      expiresAtMs,
      ...(request.owner === undefined ? {} : { owner: request.owner }),
      takenAtMs: nowMs,
    },
    ':token',
  );
  return {
    TableName: store.tableName,
    Key: slotKey(request.resourceId, hold.concurrencyId),
    UpdateExpression: update.expression,
    ConditionExpression: `(${passedOn} AND ${unchanged}) OR ${ownResult}`,
    ExpressionAttributeNames: {
      ...update.names,
      ...(fromHolder === undefined ? { '#resourceId': attribute.resourceId } : {}),
    },
    ExpressionAttributeValues: {
      ...update.values,
      ':token': { N: String(hold.fencingToken) },
      ...(fromHolder === undefined
        ? { ':nowMs': { N: String(nowMs) }, ':nowSeconds': { N: String(Math.floor(nowMs / 1000)) } }
        : { ':fromHolder': { S: fromHolder }, ':zero': { N: '0' } }),
      ...(seenToken === undefined ? {} : { ':seenToken': { N: seenToken } }),
    },
  };
}

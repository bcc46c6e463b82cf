import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  type TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { slotKey } from '../item.js';
import type { Lease } from '../lease.js';
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
  | { kind: 'slot-taken' | 'request-settled' | 'holds-primary' | 'conflict' };

/** How a grant transaction meets the rate: the rate item as last read, or a form to use. */
export interface GrantOptions {
  /** A transfer: the holder whose release code passes the slot on. */
  fromHolder?: string;
  /** The rate item as read with the slots (absent: never written, or not read). */
  rateAsRead?: Item;
  /** The form of the rate update, when a refusal said which one it must be. */
  rateForm?: RateForm;
}

/**
 * Gives one free slot to one waiting request, atomically: the slot is taken for the request's
 * release code and the request is marked granted, or neither happens. This is what makes a
 * redelivered or repeated request unable to hold two slots: a request is marked granted once.
 *
 * With `fromHolder`, the slot passes straight from that holder to the request (a transfer), so
 * it is never free in between for a newcomer to grab: arrival order holds. The slot must still
 * be as it was read (same fencing token), which also fixes the new token without a read-back. A third item checks that the request does not hold its primary slot
 * through a first attempt running at the same moment.
 *
 * A request with a rate (`request.rate`) also counts one start in the same transaction: the
 * rate item's TAT advances, on the condition that the rate allows a start now. So whichever of
 * two granters lands first takes the start, and the other is refused by the rate item itself,
 * whatever it read before. The transaction then carries a client request token: retried after a
 * lost answer, it is applied once and answers success, never "rate closed" because of its own
 * start (the slot and record conditions accept their own result; the TAT's cannot).
 *
 * @example
 * const outcome = await grantSlot(store, request, 2, slotItemAsRead);
 */
export async function grantSlot(
  store: WaitingStore,
  request: StoredRequest,
  concurrencyId: number,
  slotAsRead: Item | undefined,
  { fromHolder, rateAsRead, rateForm }: GrantOptions = {},
): Promise<GrantOutcome> {
  const nowMs = store.clock();
  const lastTat = rateAsRead?.[rateAttribute.tat]?.N;
  const form = rateForm ?? guessRateForm(lastTat === undefined ? undefined : Number(lastTat), nowMs);
  const expiresAtMs = nowMs + request.leaseMs;
  const seenToken = slotAsRead?.[attribute.fencingToken]?.N;
  // Free now, or (a transfer) still held by the holder who passes it on; in both cases unchanged
  // since it was read, which also fixes the new token without a read-back.
  const passedOn =
    fromHolder === undefined ? slotIsFree : '(#releaseCode = :fromHolder AND #expiresMs > :zero)';
  const fencingToken = (seenToken === undefined ? nowMs * fencingFloorPerMs : Number(seenToken)) + 1;
  const unchanged =
    seenToken === undefined ? 'attribute_not_exists(#fencingToken)' : '#fencingToken = :seenToken';
  // Or this very transaction landed already and only its answer was lost: accept its own result
  // (its token and its lease end: another pass that read the same slot writes the same token with
  // its own end, see `grantWrite`), unless that lease was released or extended since (a release
  // sets expires_ms to 0): never bring it back, never shorten it.
  const ownResult = '(#releaseCode = :releaseCode AND #fencingToken = :token AND #expiresMs = :expiresMs)';
  const primarySlot = primarySlotOf(request.releaseCode, request.concurrency);
  const lease = leaseOf(request, { concurrencyId, expiresAtMs, fencingToken });
  const update = holderUpdate({ ...lease, takenAtMs: nowMs }, ':token');
  const primaryCheck =
    primarySlot === concurrencyId
      ? []
      : [{ ConditionCheck: notHoldingPrimarySlot(store.tableName, request, nowMs) }];
  const rate = request.rate;
  // The rate's place among the reasons: after the slot, the record and the primary check.
  const rateIndex = 2 + primaryCheck.length;
  try {
    await sendWithRetry(
      store,
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: store.tableName,
              Key: slotKey(request.resourceId, concurrencyId),
              UpdateExpression: update.expression,
              ConditionExpression: `(${passedOn} AND ${unchanged}) OR ${ownResult}`,
              ExpressionAttributeNames: {
                ...update.names,
                ...(fromHolder === undefined ? { '#resourceId': attribute.resourceId } : {}),
              },
              ExpressionAttributeValues: {
                ...update.values,
                ':token': { N: String(fencingToken) },
                ...(fromHolder === undefined
                  ? { ':nowMs': { N: String(nowMs) }, ':nowSeconds': { N: String(Math.floor(nowMs / 1000)) } }
                  : { ':fromHolder': { S: fromHolder }, ':zero': { N: '0' } }),
                ...(seenToken === undefined ? {} : { ':seenToken': { N: seenToken } }),
              },
            },
          },
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
    if (reasons[1]?.Code === 'ConditionalCheckFailed') return { kind: 'request-settled' };
    if (primarySlot !== concurrencyId && reasons[2]?.Code === 'ConditionalCheckFailed')
      return { kind: 'holds-primary' };
    if (reasons[0]?.Code === 'ConditionalCheckFailed') return { kind: 'slot-taken' };
    const rateReason = rate ? reasons[rateIndex] : undefined;
    if (rate && rateReason?.Code === 'ConditionalCheckFailed') {
      const verdict = rateRefusal(rateReason.Item, rate, nowMs);
      // A wrong guess of the form is put right at once, once (the refusal returned the TAT).
      if ('retryAs' in verdict)
        return rateForm === undefined
          ? grantSlot(store, request, concurrencyId, slotAsRead, {
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

import {
  type AttributeValue,
  type TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { slotKey } from '../item.js';
import type { Lease } from '../lease.js';
import { fencingFloorPerMs, holderUpdate, slotIsFree } from '../operations/slot-conditions.js';
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
 * raced this grant (that attempt settles the request); or a concurrent transaction conflicted.
 */
export type GrantOutcome =
  | { kind: 'granted'; lease: Lease }
  | { kind: 'slot-taken' | 'request-settled' | 'holds-primary' | 'conflict' };

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
 * @example
 * const outcome = await grantSlot(store, request, 2, slotItemAsRead);
 */
export async function grantSlot(
  store: WaitingStore,
  request: StoredRequest,
  concurrencyId: number,
  slotAsRead: Item | undefined,
  { fromHolder }: { fromHolder?: string } = {},
): Promise<GrantOutcome> {
  const nowMs = store.clock();
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
  const update = holderUpdate(lease, ':token');
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
          ...(primarySlot === concurrencyId
            ? []
            : [{ ConditionCheck: notHoldingPrimarySlot(store.tableName, request, nowMs) }]),
          // Out of the queue with the same write (last: the reasons above keep their places).
          ...entryDelete(store.requestTableName, request),
        ],
      }),
    );
    return { kind: 'granted', lease };
  } catch (error) {
    if ((error as Error).name !== 'TransactionCanceledException') throw error;
    const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
    if (reasons[1]?.Code === 'ConditionalCheckFailed') return { kind: 'request-settled' };
    if (primarySlot !== concurrencyId && reasons[2]?.Code === 'ConditionalCheckFailed')
      return { kind: 'holds-primary' };
    if (reasons[0]?.Code === 'ConditionalCheckFailed') return { kind: 'slot-taken' };
    // Another pass touched the same items at the same moment; both may have been cancelled.
    return { kind: 'conflict' };
  }
}

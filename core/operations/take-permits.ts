import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  type TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { heldLease, isHeld, toHolder } from '../item.js';
import type { Holder, Lease, SlotHold } from '../lease.js';
import { type RateCell, type RateForm, rateRefusal, rateUpdate } from '../rate.js';
import { sendWithRetry } from '../send.js';
import type { LockStore } from '../store.js';
import { attribute } from '../table.js';
import { fencingFloorPerMs, holderItem, inlineNames, leaseNames, slotIsFree } from './slot-conditions.js';

/** What `takePermits` needs: the slots, the lease to write into each, and the rate if any. */
export interface TakePermitsRequest {
  resourceId: string;
  /** The slots to take, all or none; the first names the lease. */
  slots: number[];
  releaseCode: string;
  durationMs: number;
  owner?: string;
  /** The last fencing token seen on each slot: the new token will exceed it. */
  seenTokens?: Map<number, number>;
  /** The resource's start rate: one start is counted in the same transaction. */
  rate?: { cell: RateCell; form: RateForm };
}

/**
 * Granted; refused by the rate (`notBeforeMs`: when it allows the next start; or `retryAs`: the
 * form was guessed wrong, try again at once); a slot was held (its holder); a token was too low
 * (the stored tokens, try again above them); one slot asked for and this very release code
 * holds it already (a repeated request, or this transaction landed before: the lease as stored);
 * or another transaction touched the same items.
 */
export type TakePermitsResult =
  | { kind: 'granted'; lease: Lease }
  | { kind: 'rate-limited'; notBeforeMs: number }
  | { kind: 'rate-form'; retryAs: RateForm }
  | { kind: 'slot-held'; holders: Holder[] }
  | { kind: 'held-by-us'; lease: Lease }
  | { kind: 'token-low'; seenTokens: Map<number, number> }
  | { kind: 'conflict' };

// The token we write must exceed every token this slot had, whoever's clock chose them.
const tokenBelowOurs = '(attribute_not_exists(#fencingToken) OR #fencingToken < :fencingToken)';
// A slot is taken when it is free and the token grows (the same rule as the single take).
const permitCondition = inlineNames(`${slotIsFree} AND ${tokenBelowOurs}`, {
  ...leaseNames,
  '#resourceId': attribute.resourceId,
  '#fencingToken': attribute.fencingToken,
});

/**
 * Takes `slots.length` slots (the permits) and, with a rate, one start of the rate, in one
 * TransactWriteItems: all of them or none. Each slot is a conditional put of the whole holder
 * item, as in `takeSlot`; the rate item is a conditional update of its TAT (`core/rate.ts`).
 * The transaction carries a client request token, so a retry after a lost answer is applied once
 * (DynamoDB keeps it for ten minutes): a start is never counted twice for one grant.
 *
 * @example
 * const result = await takePermits(store, { resourceId: 'api', slots: [0, 2], releaseCode, durationMs: 10_000 });
 */
export async function takePermits(store: LockStore, request: TakePermitsRequest): Promise<TakePermitsResult> {
  const nowMs = store.clock();
  const holds: SlotHold[] = request.slots.map((concurrencyId) => ({
    concurrencyId,
    fencingToken: Math.max(nowMs * fencingFloorPerMs, (request.seenTokens?.get(concurrencyId) ?? 0) + 1),
  }));
  const first = holds[0] as SlotHold;
  const lease: Lease = {
    resourceId: request.resourceId,
    concurrencyId: first.concurrencyId,
    releaseCode: request.releaseCode,
    expiresAtMs: nowMs + request.durationMs,
    fencingToken: first.fencingToken,
    ...(request.owner === undefined ? {} : { owner: request.owner }),
    ...(holds.length > 1 ? { slots: holds } : {}),
  };
  const slotPuts = holds.map((hold) => ({
    Put: {
      TableName: store.tableName,
      Item: holderItem({ ...lease, ...hold }, nowMs),
      ConditionExpression: permitCondition,
      ExpressionAttributeValues: {
        ':fencingToken': { N: String(hold.fencingToken) },
        ':nowMs': { N: String(nowMs) },
        ':nowSeconds': { N: String(Math.floor(nowMs / 1000)) },
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    },
  }));
  const rate = request.rate;
  try {
    await sendWithRetry(
      store,
      new TransactWriteItemsCommand({
        TransactItems: [
          ...slotPuts,
          ...(rate
            ? [{ Update: rateUpdate(store.tableName, request.resourceId, rate.cell, rate.form, nowMs) }]
            : []),
        ],
        ClientRequestToken: randomUUID(),
      }),
    );
    return { kind: 'granted', lease };
  } catch (error) {
    if ((error as Error).name !== 'TransactionCanceledException') throw error;
    return refusal((error as TransactionCanceledException).CancellationReasons ?? [], request, nowMs);
  }
}

function refusal(
  reasons: Array<{ Code?: string; Item?: Record<string, AttributeValue> }>,
  request: TakePermitsRequest,
  nowMs: number,
): TakePermitsResult {
  const slotReasons = reasons.slice(0, request.slots.length);
  const [only] = slotReasons;
  const ours =
    request.slots.length === 1
      ? heldLease(
          only?.Item,
          {
            resourceId: request.resourceId,
            concurrencyId: request.slots[0] as number,
            releaseCode: request.releaseCode,
          },
          nowMs,
        )
      : undefined;
  if (ours) return { kind: 'held-by-us', lease: ours };
  const holders = slotReasons
    .filter((reason) => reason.Code === 'ConditionalCheckFailed' && reason.Item && isHeld(reason.Item, nowMs))
    .map((reason) => toHolder(reason.Item as Record<string, AttributeValue>));
  if (holders.length > 0) return { kind: 'slot-held', holders };
  const rateReason = request.rate ? reasons[request.slots.length] : undefined;
  if (request.rate && rateReason?.Code === 'ConditionalCheckFailed') {
    const verdict = rateRefusal(rateReason.Item, request.rate.cell, nowMs);
    return 'retryAs' in verdict
      ? { kind: 'rate-form', retryAs: verdict.retryAs }
      : { kind: 'rate-limited', notBeforeMs: verdict.notBeforeMs };
  }
  // A free slot refused: only its token was too low (a clock ahead wrote it).
  if (slotReasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) {
    const seenTokens = new Map(request.seenTokens);
    request.slots.forEach((slot, index) => {
      const token = slotReasons[index]?.Item?.[attribute.fencingToken]?.N;
      if (token !== undefined) seenTokens.set(slot, Math.max(seenTokens.get(slot) ?? 0, Number(token)));
    });
    return { kind: 'token-low', seenTokens };
  }
  return { kind: 'conflict' };
}

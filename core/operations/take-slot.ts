import {
  ConditionalCheckFailedException,
  PutItemCommand,
  type PutItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { isHeld, toHolder } from '../item.js';
import type { Holder, Lease } from '../lease.js';
import { sendWithRetry } from '../send.js';
import type { LockStore } from '../store.js';
import { attribute } from '../table.js';
import { fencingFloorPerMs, holderItem, inlineNames, leaseNames, slotIsFree } from './slot-conditions.js';

/** What `takeSlot` needs: which slot, and the lease to write into it. */
export interface TakeSlotRequest {
  resourceId: string;
  concurrencyId: number;
  releaseCode: string;
  durationMs: number;
  owner?: string;
  /** The last fencing token seen on this slot, if any: the new token will exceed it. */
  seenFencingToken?: number;
}

/**
 * Granted with the new lease (`fresh` false when the slot already held this very lease: a
 * repeated request), or busy with the holder that DynamoDB returned for free; with the
 * conditional writes it took (more than one only when a token was refused).
 */
export type TakeSlotResult =
  | { granted: true; fresh: boolean; lease: Lease; writes: number }
  | { granted: false; holder?: Holder; writes: number };

// This very write already landed and only its answer was lost, or a repeated request already
// holds the slot: recognise it, do not fail; but never write a token below the stored one, and
// never bring back a lease released since (a late duplicate of the write: a release sets
// `expires_ms` to 0).
const alreadyOurs = '(#releaseCode = :releaseCode AND #fencingToken <= :fencingToken AND #expiresMs > :zero)';
// The token we write must exceed every token this slot had, whoever's clock chose them.
const tokenBelowOurs = '(attribute_not_exists(#fencingToken) OR #fencingToken < :fencingToken)';

const takeCondition = inlineNames(`(${slotIsFree} AND ${tokenBelowOurs}) OR ${alreadyOurs}`, {
  ...leaseNames,
  '#resourceId': attribute.resourceId,
  '#fencingToken': attribute.fencingToken,
});

// A slot refused only for its token (free, or ours, with a token from a clock ahead or from the
// same millisecond) is written once more, above the token the refusal returned; refused again,
// another client is taking it: that is contention, not a token to chase.
const maxWrites = 2;

/**
 * Tries to take one slot with one conditional write and no read (two when the first offered too
 * low a fencing token).
 *
 * The write puts the whole item rather than updating it: a new holder keeps nothing of the old
 * item but its fencing order, and a conditional put is the cheapest write for the store to
 * evaluate (on DynamoDB Local an UpdateItem with an `if_not_exists` counter cost about 20% of
 * the uncontended throughput). So the fencing token is chosen here, as the larger of the clock
 * floor (`now_ms * 1000`) and one past the last token seen on the slot, and the condition makes
 * sure it exceeds the stored one: it still grows with every holder, also after the item was
 * deleted.
 *
 * @example
 * const result = await takeSlot(store, { resourceId: 'api', concurrencyId: 0, releaseCode, durationMs: 10_000 });
 * if (result.granted) console.log(result.lease.fencingToken);
 */
export async function takeSlot(store: LockStore, request: TakeSlotRequest): Promise<TakeSlotResult> {
  let seenToken = request.seenFencingToken ?? 0;
  for (let writes = 1; ; writes++) {
    const nowMs = store.clock();
    const lease: Lease = {
      resourceId: request.resourceId,
      concurrencyId: request.concurrencyId,
      releaseCode: request.releaseCode,
      expiresAtMs: nowMs + request.durationMs,
      fencingToken: Math.max(nowMs * fencingFloorPerMs, seenToken + 1),
      ...(request.owner === undefined ? {} : { owner: request.owner }),
    };
    try {
      const output = await sendWithRetry<PutItemCommandOutput>(
        store,
        new PutItemCommand({
          TableName: store.tableName,
          Item: holderItem(lease, nowMs),
          ConditionExpression: takeCondition,
          ExpressionAttributeValues: {
            ':releaseCode': { S: request.releaseCode },
            ':fencingToken': { N: String(lease.fencingToken) },
            ':nowMs': { N: String(nowMs) },
            ':nowSeconds': { N: String(Math.floor(nowMs / 1000)) },
            ':zero': { N: '0' },
          },
          // The old item tells a fresh grant from a repeated one.
          ReturnValues: 'ALL_OLD',
          // The current holder comes back with the refusal, at no extra cost.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const old = output.Attributes;
      return {
        granted: true,
        fresh: !(old && old[attribute.releaseCode]?.S === request.releaseCode && isHeld(old, nowMs)),
        lease,
        writes,
      };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = error.Item;
      const ours = item?.[attribute.releaseCode]?.S === request.releaseCode;
      if (item && isHeld(item, nowMs) && !ours) return { granted: false, holder: toHolder(item), writes };
      const storedToken = Number(item?.[attribute.fencingToken]?.N ?? 0);
      if (writes >= maxWrites || storedToken < lease.fencingToken) return { granted: false, writes };
      seenToken = storedToken;
    }
  }
}

import {
  ConditionalCheckFailedException,
  UpdateItemCommand,
  type UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { isHeld, slotKey, toHolder } from '../item.js';
import type { Holder, Lease } from '../lease.js';
import { sendWithRetry } from '../send.js';
import type { LockStore } from '../store.js';
import { attribute } from '../table.js';
import { fencingFloorPerMs, holderUpdate, slotIsFree } from './slot-conditions.js';

/** What `takeSlot` needs: which slot, and the lease to write into it. */
export interface TakeSlotRequest {
  resourceId: string;
  concurrencyId: number;
  releaseCode: string;
  durationMs: number;
  owner?: string;
}

/**
 * Granted with the new lease (`fresh` false when the slot already held this very lease: a
 * repeated request), or busy with the holder that DynamoDB returned for free.
 */
export type TakeSlotResult =
  | { granted: true; fresh: boolean; lease: Lease }
  | { granted: false; holder?: Holder };

// This very write already landed and only its answer was lost: recognise it, do not fail.
const alreadyOurs = '#releaseCode = :releaseCode';

const takeCondition = `${slotIsFree} OR ${alreadyOurs}`;

/**
 * Tries to take one slot with one conditional write and no read. The fencing token is
 * incremented inside the same write, and starts from a clock-based floor when the item is new.
 *
 * @example
 * const result = await takeSlot(store, { resourceId: 'api', concurrencyId: 0, releaseCode, durationMs: 10_000 });
 * if (result.granted) console.log(result.lease.fencingToken);
 */
export async function takeSlot(store: LockStore, request: TakeSlotRequest): Promise<TakeSlotResult> {
  const nowMs = store.clock();
  const expiresAtMs = nowMs + request.durationMs;
  const update = holderUpdate(
    {
      releaseCode: request.releaseCode,
      expiresAtMs,
      ...(request.owner === undefined ? {} : { owner: request.owner }),
    },
    'if_not_exists(#fencingToken, :fencingFloor) + :one',
  );
  try {
    const output = await sendWithRetry<UpdateItemCommandOutput>(
      store,
      new UpdateItemCommand({
        TableName: store.tableName,
        Key: slotKey(request.resourceId, request.concurrencyId),
        UpdateExpression: update.expression,
        ConditionExpression: takeCondition,
        ExpressionAttributeNames: { ...update.names, '#resourceId': attribute.resourceId },
        ExpressionAttributeValues: {
          ...update.values,
          ':nowMs': { N: String(nowMs) },
          ':nowSeconds': { N: String(Math.floor(nowMs / 1000)) },
          ':fencingFloor': { N: String(nowMs * fencingFloorPerMs) },
          ':one': { N: '1' },
        },
        // The old item tells a fresh grant from a repeated one, and the token it had.
        ReturnValues: 'ALL_OLD',
        // The current holder comes back with the refusal, at no extra cost.
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    const old = output.Attributes;
    const oldToken = old?.[attribute.fencingToken]?.N;
    return {
      granted: true,
      fresh: !(old && old[attribute.releaseCode]?.S === request.releaseCode && isHeld(old, nowMs)),
      lease: {
        resourceId: request.resourceId,
        concurrencyId: request.concurrencyId,
        releaseCode: request.releaseCode,
        expiresAtMs,
        fencingToken: (oldToken === undefined ? nowMs * fencingFloorPerMs : Number(oldToken)) + 1,
        ...(request.owner === undefined ? {} : { owner: request.owner }),
      },
    };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const item = error.Item;
    return { granted: false, ...(item && isHeld(item, nowMs) ? { holder: toHolder(item) } : {}) };
  }
}

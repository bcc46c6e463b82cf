import {
  type AttributeValue,
  ConditionalCheckFailedException,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { slotKey } from '../item.js';
import type { Lease } from '../lease.js';
import { sendWithRetry } from '../send.js';
import type { LockStore } from '../store.js';
import { attribute } from '../table.js';
import { holderItem, inlineNames, leaseNames } from './slot-conditions.js';

/** Which lease to release: the acquire output, or any holder of its release code. */
export interface SlotLease {
  resourceId: string;
  concurrencyId: number;
  releaseCode: string;
}

/**
 * Frees a slot if `releaseCode` still holds it; answers false (and leaves the slot alone) if the
 * lease was taken over by someone else, or the item is gone. One conditional write, no read.
 *
 * The item is kept, marked free, rather than deleted: its fencing counter must survive for the
 * next holder. `expires` goes one second into the past so that Python dynamo-dlm sees the slot
 * free (`expires <= now`) and does not count it (`expires >= now`), and TTL cleans it up later.
 * The release code stays, so that a retried release recognises its own earlier success.
 *
 * @example
 * const released = await releaseSlot(store, lease); // false: the lease had expired and was taken
 */
export async function releaseSlot(store: LockStore, lease: SlotLease): Promise<boolean> {
  return (await releaseSlotTimed(store, lease)).released;
}

/**
 * `releaseSlot`, answering also when the released lease began (`taken_ms`, read from the item
 * the write replaced, at no extra cost): absent when the slot was released before (a repeated
 * release counts no second hold) or its holder wrote none (Python dynamo-dlm).
 *
 * @example
 * const { released, takenAtMs } = await releaseSlotTimed(store, lease);
 */
export async function releaseSlotTimed(
  store: LockStore,
  lease: SlotLease,
): Promise<{ released: boolean; takenAtMs?: number }> {
  const nowMs = store.clock();
  let old: Record<string, AttributeValue> | undefined;
  try {
    ({ Attributes: old } = await sendWithRetry<UpdateItemCommandOutput>(
      store,
      releaseCommand(store, lease, nowMs),
    ));
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return { released: false };
    throw error;
  }
  const takenMs = old?.[attribute.takenMs]?.N;
  const releasedBefore = old?.[attribute.expiresMs]?.N === '0';
  return takenMs === undefined || releasedBefore
    ? { released: true }
    : { released: true, takenAtMs: Number(takenMs) };
}

function releaseCommand(store: LockStore, lease: SlotLease, nowMs: number): UpdateItemCommand {
  return new UpdateItemCommand({
    TableName: store.tableName,
    Key: slotKey(lease.resourceId, lease.concurrencyId),
    UpdateExpression: 'SET #expires = :releasedSeconds, #expiresMs = :zero',
    // Only the holder of this lease may free the slot.
    ConditionExpression: '#releaseCode = :releaseCode',
    ExpressionAttributeNames: leaseNames,
    ExpressionAttributeValues: {
      ':releaseCode': { S: lease.releaseCode },
      ':releasedSeconds': { N: String(releasedSeconds(nowMs)) },
      ':zero': { N: '0' },
    },
    ReturnValues: 'ALL_OLD',
  });
}

/** The `expires` of a released item: a second in the past, free and uncounted by Python's rules. */
export function releasedSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1000) - 1;
}

const releaseLeaseCondition = inlineNames('#releaseCode = :releaseCode AND #fencingToken = :fencingToken', {
  '#releaseCode': attribute.releaseCode,
  '#fencingToken': attribute.fencingToken,
});

/**
 * Frees a slot like `releaseSlot`, but as a put of the whole freed item: the lease says all the
 * item holds (code, owner, fencing token), and a conditional put is cheaper for the store to
 * evaluate than an update. The put also requires the lease's token: should the slot carry our
 * code with another token (a repeated grant of the same request moved it), it is freed by
 * `releaseSlot` instead, so a release never moves the counter back.
 *
 * @example
 * const lease = await lock.acquire();
 * await releaseLease(store, lease);
 */
export async function releaseLease(store: LockStore, lease: Lease): Promise<boolean> {
  const nowMs = store.clock();
  try {
    await sendWithRetry(
      store,
      new PutItemCommand({
        TableName: store.tableName,
        Item: {
          ...holderItem(lease),
          [attribute.expires]: { N: String(releasedSeconds(nowMs)) },
          [attribute.expiresMs]: { N: '0' },
        },
        ConditionExpression: releaseLeaseCondition,
        ExpressionAttributeValues: {
          ':releaseCode': { S: lease.releaseCode },
          ':fencingToken': { N: String(lease.fencingToken) },
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return true;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return error.Item?.[attribute.releaseCode]?.S === lease.releaseCode ? releaseSlot(store, lease) : false;
  }
}

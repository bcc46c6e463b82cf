import {
  ConditionalCheckFailedException,
  type TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { slotKey } from '../item.js';
import { sendWithRetry } from '../send.js';
import type { LockStore } from '../store.js';
import { requestAttribute } from '../table.js';
import { releaseCodeOf, requestKeyOf, type SlotRequest, type StoredRequest } from './request.js';
import { fromRequestItem, toRequestItem } from './request-item.js';
import { notHoldingPrimarySlot } from './request-writes.js';

/**
 * `recorded`: the request now waits, under `retryChain`. `rechained`: it already waited (a
 * repeated delivery) and now continues under the new `retryChain`; older retry messages drop
 * themselves. `granted`: a repeated delivery of a request granted meanwhile. `holds-primary`:
 * another delivery of the same request holds its primary slot and answers it.
 */
export type RecordOutcome =
  | { kind: 'recorded' | 'rechained'; request: StoredRequest }
  | { kind: 'granted'; request: StoredRequest }
  | { kind: 'holds-primary' };

/**
 * Records a request as waiting, in arrival order. The item is created only if the request does
 * not hold its primary slot already (a repeated first attempt may have got it), in one
 * transaction, so that a request never both waits and holds.
 *
 * @example
 * const outcome = await recordWaiting(store, request, randomUUID());
 */
export async function recordWaiting(
  store: LockStore,
  request: SlotRequest,
  retryChain: string,
): Promise<RecordOutcome> {
  const releaseCode = releaseCodeOf(request.taskToken);
  const stored: StoredRequest = {
    ...request,
    releaseCode,
    requestKey: requestKeyOf(releaseCode),
    arrivedMs: store.clock(),
    retryChain,
  };
  try {
    await sendWithRetry(
      store,
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: store.tableName,
              Item: toRequestItem(stored),
              ConditionExpression: 'attribute_not_exists(#releaseCode)',
              ExpressionAttributeNames: { '#releaseCode': requestAttribute.releaseCode },
            },
          },
          // The request does not hold its primary slot already.
          { ConditionCheck: notHoldingPrimarySlot(store.tableName, stored, stored.arrivedMs) },
        ],
      }),
    );
    return { kind: 'recorded', request: stored };
  } catch (error) {
    if ((error as Error).name !== 'TransactionCanceledException') throw error;
    const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
    if (reasons[1]?.Code === 'ConditionalCheckFailed') return { kind: 'holds-primary' };
    if (reasons[0]?.Code !== 'ConditionalCheckFailed') throw error;
    return rechain(store, stored);
  }
}

/** The request already waits or was granted: continue its retry loop under a new chain. */
async function rechain(store: LockStore, stored: StoredRequest): Promise<RecordOutcome> {
  try {
    const output = await sendWithRetry<UpdateItemCommandOutput>(
      store,
      new UpdateItemCommand({
        TableName: store.tableName,
        Key: slotKey(stored.resourceId, stored.requestKey),
        UpdateExpression: 'SET #retryChain = :retryChain',
        ConditionExpression: 'attribute_exists(#releaseCode) AND attribute_not_exists(#grantedSlot)',
        ExpressionAttributeNames: {
          '#retryChain': requestAttribute.retryChain,
          '#releaseCode': requestAttribute.releaseCode,
          '#grantedSlot': requestAttribute.grantedSlot,
        },
        ExpressionAttributeValues: { ':retryChain': { S: stored.retryChain ?? '' } },
        // The request as stored (its first arrival, not this delivery's), with no read-back.
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { kind: 'rechained', request: output.Attributes ? fromRequestItem(output.Attributes) : stored };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const current = error.Item ? fromRequestItem(error.Item) : undefined;
    // Granted meanwhile; or withdrawn between our two writes, then record it afresh.
    return current?.granted
      ? { kind: 'granted', request: current }
      : recordWaiting(store, stored, stored.retryChain ?? '');
  }
}

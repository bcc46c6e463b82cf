import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { slotKey } from '../item.js';
import { sendConditional } from '../send.js';
import type { LockStore } from '../store.js';
import { requestAttribute } from '../table.js';

/**
 * Moves a waiting request's retry loop from one chain to the next, if it is still waiting on the
 * old one. A duplicate delivery of a retry message then finds its chain outdated and drops out,
 * so duplicates never multiply the loop.
 *
 * @example
 * if (await advanceRetryChain(store, resourceId, requestKey, message.retryChain, next)) await enqueue(next);
 */
export async function advanceRetryChain(
  store: LockStore,
  resourceId: string,
  requestKey: number,
  from: string,
  to: string,
): Promise<boolean> {
  return sendConditional(
    store,
    new UpdateItemCommand({
      TableName: store.tableName,
      Key: slotKey(resourceId, requestKey),
      UpdateExpression: 'SET #retryChain = :to',
      ConditionExpression: '#retryChain = :from AND attribute_not_exists(#grantedSlot)',
      ExpressionAttributeNames: {
        '#retryChain': requestAttribute.retryChain,
        '#grantedSlot': requestAttribute.grantedSlot,
      },
      ExpressionAttributeValues: { ':from': { S: from }, ':to': { S: to } },
    }),
  );
}

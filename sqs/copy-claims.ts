import { ConditionalCheckFailedException, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { sendWithRetry } from '../core/send.js';
import type { LockStore } from '../core/store.js';
import { attribute } from '../core/table.js';

/**
 * Where a copy's claim lives in the lock table: a resource id of its own (never a key a user
 * locks: the prefix has a space) at a negative `concurrency_id`, so no holder count, Python
 * dynamo-dlm included, ever sees it.
 */
const claimPrefix = 'dlm-sqs-copy ';
const claimConcurrencyId = -2;

/**
 * A claim outlives any copy that could still be delivered: SQS keeps a message at most 14 days,
 * plus a 15-minute timer. TTL then removes it.
 */
const claimLifetimeSeconds = 15 * 24 * 3600;

/**
 * Claims generation `generation` of the line of copies that started with message `origin` for
 * the message `messageId`: true when it is this message's (first claim, or its own again), false
 * when another message holds it. Two messages with one identity are duplicates of one copy (the
 * SDK repeated a SendMessageBatch whose answer was lost): only the claimant runs. One
 * conditional write.
 *
 * @example
 * if (!(await claimCopy(store, 'abc-123', 2, record.messageId))) return; // a duplicate: drop it
 */
export async function claimCopy(
  store: LockStore,
  origin: string,
  generation: number,
  messageId: string,
): Promise<boolean> {
  try {
    await sendWithRetry(
      store,
      new PutItemCommand({
        TableName: store.tableName,
        Item: {
          [attribute.resourceId]: { S: `${claimPrefix}${origin} ${generation}` },
          [attribute.concurrencyId]: { N: String(claimConcurrencyId) },
          claimed_by: { S: messageId },
          [attribute.expires]: { N: String(Math.ceil(store.clock() / 1000) + claimLifetimeSeconds) },
        },
        // The claimant's own repeat (a redelivery, or a retried write whose answer was lost) passes.
        ConditionExpression: 'attribute_not_exists(#resourceId) OR #claimedBy = :messageId',
        ExpressionAttributeNames: { '#resourceId': attribute.resourceId, '#claimedBy': 'claimed_by' },
        ExpressionAttributeValues: { ':messageId': { S: messageId } },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

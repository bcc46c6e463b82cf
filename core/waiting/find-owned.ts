import { type AttributeValue, QueryCommand, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { sendWithRetry } from '../send.js';
import type { LockStore } from '../store.js';
import { attribute, ownerIndexName } from '../table.js';

/** A slot or a waiting request that carries a given owner. */
export interface OwnedItem {
  resourceId: string;
  concurrencyId: number;
  releaseCode: string;
}

/**
 * Everything stored under an owner (for a workflow, its execution ARN): held or released slots
 * and waiting requests, from the `owner-index`. The index is eventually consistent: an item
 * written a moment ago may be missing, which is why leases stay the backstop.
 *
 * @example
 * for (const item of await findOwned(store, executionArn)) console.log(item.resourceId, item.concurrencyId);
 */
export async function findOwned(store: LockStore, owner: string): Promise<OwnedItem[]> {
  const found: OwnedItem[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const output: QueryCommandOutput = await sendWithRetry(
      store,
      new QueryCommand({
        TableName: store.tableName,
        IndexName: ownerIndexName,
        KeyConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': attribute.owner },
        ExpressionAttributeValues: { ':owner': { S: owner } },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of output.Items ?? []) {
      found.push({
        resourceId: item[attribute.resourceId]?.S ?? '',
        concurrencyId: Number(item[attribute.concurrencyId]?.N),
        releaseCode: item[attribute.releaseCode]?.S ?? '',
      });
    }
    startKey = output.LastEvaluatedKey;
  } while (startKey);
  return found;
}

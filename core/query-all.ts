import {
  type AttributeValue,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { sendWithRetry } from './send.js';
import type { LockStore } from './store.js';

/**
 * Runs a Query to its last page and answers every item: on the lock table, or on the table
 * `input.TableName` names (the request table of the waiting protocol).
 *
 * @example
 * const items = await queryAll(store, { KeyConditionExpression: '#r = :r', ExpressionAttributeNames, ExpressionAttributeValues });
 */
export async function queryAll(
  store: LockStore,
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'> & { TableName?: string },
  /** Stop paging once this many items are in (a page may bring a few more). */
  maxItems = Number.POSITIVE_INFINITY,
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const output: QueryCommandOutput = await sendWithRetry(
      store,
      new QueryCommand({
        TableName: store.tableName,
        ...input,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    items.push(...(output.Items ?? []));
    startKey = output.LastEvaluatedKey;
  } while (startKey && items.length < maxItems);
  return items;
}

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { queryAll } from '../query-all.js';
import { attribute, ownerIndexName } from '../table.js';
import { firstRequestKey } from './request.js';
import type { WaitingStore } from './waiting-store.js';

type Item = Record<string, AttributeValue>;

/** A slot or a waiting request that carries a given owner. */
export interface OwnedItem {
  resourceId: string;
  concurrencyId: number;
  releaseCode: string;
}

/**
 * Everything stored under an owner (for a workflow, its execution ARN): held or released slots
 * in the lock table and requests in the request table, from each table's `owner-index`. The
 * index is eventually consistent: an item written a moment ago may be missing, which is why
 * leases stay the backstop.
 *
 * @example
 * for (const item of await findOwned(store, executionArn)) console.log(item.resourceId, item.concurrencyId);
 */
export async function findOwned(store: WaitingStore, owner: string): Promise<OwnedItem[]> {
  const query = (TableName: string) =>
    queryAll(store, {
      TableName,
      IndexName: ownerIndexName,
      KeyConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': attribute.owner },
      ExpressionAttributeValues: { ':owner': { S: owner } },
    });
  const owned = (items: Item[]) =>
    items.map((item) => ({
      resourceId: item[attribute.resourceId]?.S ?? '',
      concurrencyId: Number(item[attribute.concurrencyId]?.N),
      releaseCode: item[attribute.releaseCode]?.S ?? '',
    }));
  // Slots only from the lock table, requests only from the request table: an item written at a
  // request's key in the lock table (anyone who shares it can) must not withdraw that request.
  const slots = owned(await query(store.tableName)).filter((item) => item.concurrencyId >= 0);
  const requests = owned(await query(store.requestTableName)).filter(
    (item) => item.concurrencyId <= firstRequestKey,
  );
  return [...slots, ...requests];
}

import { queryAll } from '../query-all.js';
import { attribute, ownerIndexName } from '../table.js';
import type { WaitingStore } from './waiting-store.js';

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
  const items = [...(await query(store.tableName)), ...(await query(store.requestTableName))];
  return items.map((item) => ({
    resourceId: item[attribute.resourceId]?.S ?? '',
    concurrencyId: Number(item[attribute.concurrencyId]?.N),
    releaseCode: item[attribute.releaseCode]?.S ?? '',
  }));
}

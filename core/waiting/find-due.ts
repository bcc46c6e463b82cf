import { queryAll } from '../query-all.js';
import { attribute, dueIndexName, dueShardCount, requestAttribute } from '../table.js';
import type { WaitingStore } from './waiting-store.js';

/** A request whose next step was due before the sweep: where it is, and the chain it waited under. */
export interface DueRequest {
  resourceId: string;
  requestKey: number;
  retryChain: string;
}

/**
 * Requests whose next step (a retry turn, an answer, a forgetting) was due before `beforeMs`, from
 * every shard of the `due-index`, oldest first, at most `limit`. The index is eventually
 * consistent: each request is read again before anything is done to it.
 *
 * @example
 * for (const due of await findDue(store, Date.now(), 500)) await redrive(due);
 */
export async function findDue(store: WaitingStore, beforeMs: number, limit: number): Promise<DueRequest[]> {
  const found: DueRequest[] = [];
  for (let shard = 0; shard < dueShardCount && found.length < limit; shard++) {
    const items = await queryAll(
      store,
      {
        TableName: store.requestTableName,
        IndexName: dueIndexName,
        KeyConditionExpression: '#shard = :shard AND #dueMs < :before',
        ExpressionAttributeNames: { '#shard': requestAttribute.dueShard, '#dueMs': requestAttribute.dueMs },
        ExpressionAttributeValues: { ':shard': { S: String(shard) }, ':before': { N: String(beforeMs) } },
        Limit: limit - found.length,
      },
      // A backlog is read a sweep's worth at a time, not whole every minute.
      limit - found.length,
    );
    for (const item of items) {
      found.push({
        resourceId: item[attribute.resourceId]?.S ?? '',
        requestKey: Number(item[attribute.concurrencyId]?.N),
        retryChain: item[requestAttribute.retryChain]?.S ?? '',
      });
    }
  }
  return found.slice(0, limit);
}

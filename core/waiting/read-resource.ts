import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { LockStoreError } from '../errors.js';
import { queryAll } from '../query-all.js';
import { attribute } from '../table.js';
import { isQueueKey, keyRange, queueKeyOf } from './queue.js';
import { firstRequestKey, type StoredRequest } from './request.js';
import { fromRequestItem } from './request-item.js';
import type { WaitingStore } from './waiting-store.js';

type Item = Record<string, AttributeValue>;

/** Everything stored for one resource: its slot items by slot, and its requests, oldest first. */
export interface ResourceState {
  slots: Map<number, Item>;
  requests: StoredRequest[];
}

/**
 * Reads a whole resource with two consistent Queries of its partition: the slots in the lock
 * table and the requests in the request table. Their cost grows with the number of requests,
 * so only `count`, `dlm status` and tests use it; the passes read the head of the queue
 * (`core/waiting/queue.ts`). Requests come back in arrival order, the order in which they are
 * granted.
 *
 * @example
 * const { slots, requests } = await readResource(store, 'partner-api');
 */
export async function readResource(store: WaitingStore, resourceId: string): Promise<ResourceState> {
  const partition = (TableName: string, low: number, high: number) =>
    queryAll(store, { TableName, ...keyRange(resourceId, low, high) });
  const slots = new Map<number, Item>();
  for (const item of await partition(store.tableName, 0, Number.MAX_SAFE_INTEGER)) {
    slots.set(Number(item[attribute.concurrencyId]?.N), item);
  }
  const requests = (
    await requestItems(store, partition(store.requestTableName, Number.MIN_SAFE_INTEGER, firstRequestKey))
  )
    .filter((item) => !isQueueKey(Number(item[attribute.concurrencyId]?.N)))
    .map(fromRequestItem);
  // The queue's order: arrival, then the digits that break a tie within a millisecond.
  const place = (request: StoredRequest) =>
    request.queueKey ?? queueKeyOf(request.arrivedMs, request.releaseCode);
  requests.sort((a, b) => place(a) - place(b));
  return { slots, requests };
}

/**
 * The request items of a read, or none when there is no request table and the store allows it
 * (`requestTableMayBeMissing`: a lock table used by the library alone has no waiting requests).
 */
async function requestItems(store: WaitingStore, read: Promise<Item[]>): Promise<Item[]> {
  try {
    return await read;
  } catch (error) {
    if (!store.requestTableMayBeMissing) throw error;
    const cause = error instanceof LockStoreError ? error.cause : error;
    if ((cause as Error | undefined)?.name === 'ResourceNotFoundException') return [];
    throw error;
  }
}

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { queryAll } from '../query-all.js';
import type { LockStore } from '../store.js';
import { attribute } from '../table.js';
import { isQueueKey, queueKeyOf } from './queue.js';
import { firstRequestKey, type StoredRequest } from './request.js';
import { fromRequestItem } from './request-item.js';

type Item = Record<string, AttributeValue>;

/** Everything stored for one resource: its slot items by slot, and its requests, oldest first. */
export interface ResourceState {
  slots: Map<number, Item>;
  requests: StoredRequest[];
}

/**
 * Reads a whole resource with one consistent Query (slots and requests share its partition):
 * its cost grows with the number of requests, so only `count`, `dlm status` and tests use it;
 * the passes read the head of the queue (`core/waiting/queue.ts`). Requests come back in
 * arrival order, the order in which they are granted.
 *
 * @example
 * const { slots, requests } = await readResource(store, 'partner-api');
 */
export async function readResource(store: LockStore, resourceId: string): Promise<ResourceState> {
  const slots = new Map<number, Item>();
  const requests: StoredRequest[] = [];
  const items = await queryAll(store, {
    ConsistentRead: true,
    KeyConditionExpression: '#resourceId = :resourceId',
    ExpressionAttributeNames: { '#resourceId': attribute.resourceId },
    ExpressionAttributeValues: { ':resourceId': { S: resourceId } },
  });
  for (const item of items) {
    const key = Number(item[attribute.concurrencyId]?.N);
    if (key >= 0) slots.set(key, item);
    else if (key <= firstRequestKey && !isQueueKey(key)) requests.push(fromRequestItem(item));
  }
  // The queue's order: arrival, then the digits that break a tie within a millisecond.
  const place = (request: StoredRequest) =>
    request.queueKey ?? queueKeyOf(request.arrivedMs, request.releaseCode);
  requests.sort((a, b) => place(a) - place(b));
  return { slots, requests };
}

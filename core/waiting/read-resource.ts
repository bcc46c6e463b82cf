import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { queryAll } from '../query-all.js';
import type { LockStore } from '../store.js';
import { attribute } from '../table.js';
import { firstRequestKey, type StoredRequest } from './request.js';
import { fromRequestItem } from './request-item.js';

type Item = Record<string, AttributeValue>;

/** Everything stored for one resource: its slot items by slot, and its requests, oldest first. */
export interface ResourceState {
  slots: Map<number, Item>;
  requests: StoredRequest[];
}

/**
 * Reads a whole resource with one consistent Query (slots and requests share its partition).
 * Requests come back in arrival order, the order in which they are granted.
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
    else if (key <= firstRequestKey) requests.push(fromRequestItem(item));
  }
  requests.sort((a, b) => a.arrivedMs - b.arrivedMs || a.requestKey - b.requestKey);
  return { slots, requests };
}

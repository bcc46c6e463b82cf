import {
  type AttributeValue,
  GetItemCommand,
  type GetItemCommandOutput,
  QueryCommand,
  type QueryCommandOutput,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { slotKey } from '../item.js';
import { queryAll } from '../query-all.js';
import { rateKey } from '../rate.js';
import { sendTransaction, sendWithRetry } from '../send.js';
import { attribute, queueAttribute, requestAttribute } from '../table.js';
import { firstRequestKey, permitsOf, type StoredRequest } from './request.js';
import { fromRequestItem } from './request-item.js';
import type { WaitingStore } from './waiting-store.js';

/*
 * The queue of a resource: one small entry per waiting request, at a sort key in arrival order,
 * so that a pass reads the head of the queue (and the slots), never the whole queue.
 *
 *   concurrency_id:  MIN_SAFE_INTEGER ... queue entries ... | requests (by release code) ... -1_000_000 | per-resource state | 0 .. K-1 slots
 *
 * An entry is an index, not a record: the request's own item (at its release-code key) decides.
 * An entry exists for every waiting request (written in the same transaction as the record, and
 * put back by a regrant); it may outlive its request for a moment (a time-out or withdrawal
 * deletes it after its own write), and whoever meets such a stale entry deletes it.
 */

type Item = Record<string, AttributeValue>;

/** The lowest request key (`requestKeyOf` spans 48 bits below `firstRequestKey`). */
const lowestRequestKey = firstRequestKey - 2 ** 48;

/** Entries live in [queueFloor, queueCeiling]: below every request key, in arrival order. */
const queueFloor = Number.MIN_SAFE_INTEGER;
const queueCeiling = lowestRequestKey - 1;

/**
 * The queue key of a request arriving at `arrivedMs`: arrival order, then 3 digits of its release
 * code (two arrivals in one millisecond). `attempt` picks other digits in the same millisecond,
 * when those were taken. Exact in a double until the year 2245.
 */
export function queueKeyOf(arrivedMs: number, releaseCode: string, attempt = 0): number {
  const digits = (Number.parseInt(releaseCode.slice(24, 32), 16) + attempt * 337) % 1000;
  const key = queueFloor + arrivedMs * 1000 + digits;
  if (key > queueCeiling) throw new RangeError(`arrival time ${arrivedMs} is past the queue's key range`);
  return key;
}

/** True for sort keys of queue entries. */
export function isQueueKey(concurrencyId: number): boolean {
  return concurrencyId <= queueCeiling;
}

/** What a pass needs of a waiting request before reading its record. */
export interface QueueEntry {
  resourceId: string;
  queueKey: number;
  requestKey: number;
  concurrency: number;
  /** The slots it needs at once. */
  permits: number;
  waitUntilMs: number;
}

/** The stored form of a request's queue entry (no owner, no token: those stay on the record). */
export function toQueueItem(request: StoredRequest & { queueKey: number }): Item {
  return {
    ...slotKey(request.resourceId, request.queueKey),
    [queueAttribute.requestKey]: { N: String(request.requestKey) },
    [queueAttribute.concurrency]: { N: String(request.concurrency) },
    ...(permitsOf(request) === 1 ? {} : { [queueAttribute.permits]: { N: String(request.permits) } }),
    ...(Number.isFinite(request.waitUntilMs)
      ? { [queueAttribute.waitUntilMs]: { N: String(request.waitUntilMs) } }
      : {}),
  };
}

function fromQueueItem(item: Item): QueueEntry {
  const waitUntil = item[queueAttribute.waitUntilMs]?.N;
  return {
    resourceId: item[attribute.resourceId]?.S ?? '',
    queueKey: Number(item[attribute.concurrencyId]?.N),
    requestKey: Number(item[queueAttribute.requestKey]?.N),
    concurrency: Number(item[queueAttribute.concurrency]?.N ?? 1),
    permits: Number(item[queueAttribute.permits]?.N ?? 1),
    waitUntilMs: waitUntil === undefined ? Number.POSITIVE_INFINITY : Number(waitUntil),
  };
}

/** A page of the queue, oldest first, and where the next page starts (absent: it was the last). */
export interface QueuePage {
  entries: QueueEntry[];
  nextKey?: Item;
}

/**
 * Reads up to `limit` entries from the head of a resource's queue (or from `startKey` on), with
 * one consistent Query.
 *
 * @example
 * const { entries } = await readQueueHead(store, 'partner-api', 20);
 */
export async function readQueueHead(
  store: WaitingStore,
  resourceId: string,
  limit: number,
  startKey?: Item,
): Promise<QueuePage> {
  const output = await sendWithRetry<QueryCommandOutput>(
    store,
    new QueryCommand({
      TableName: store.requestTableName,
      ...keyRange(resourceId, queueFloor, queueCeiling),
      Limit: limit,
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    }),
  );
  return {
    entries: (output.Items ?? []).map(fromQueueItem),
    ...(output.LastEvaluatedKey ? { nextKey: output.LastEvaluatedKey } : {}),
  };
}

/**
 * Reads the slot items 0 .. `count` - 1 of a resource and, in the same consistent Query, its
 * rate item below them (key -2; the limit item at -1 comes along, unused): a pass sees that the
 * rate is closed without a refused write.
 *
 * @example
 * const { slots, rateItem } = await readSlots(store, 'partner-api', 3);
 */
export async function readSlots(
  store: WaitingStore,
  resourceId: string,
  count: number,
): Promise<{ slots: Map<number, Item>; rateItem?: Item }> {
  const slots = new Map<number, Item>();
  if (count <= 0) return { slots };
  let rateItem: Item | undefined;
  for (const item of await queryAll(store, keyRange(resourceId, rateKey, count - 1))) {
    const key = Number(item[attribute.concurrencyId]?.N);
    if (key >= 0) slots.set(key, item);
    else if (key === rateKey) rateItem = item;
  }
  return { slots, ...(rateItem ? { rateItem } : {}) };
}

/** A consistent Query of one resource's sort keys `low` .. `high`. */
export function keyRange(resourceId: string, low: number, high: number) {
  return {
    ConsistentRead: true,
    KeyConditionExpression: '#resourceId = :resourceId AND #key BETWEEN :low AND :high',
    ExpressionAttributeNames: { '#resourceId': attribute.resourceId, '#key': attribute.concurrencyId },
    ExpressionAttributeValues: {
      ':resourceId': { S: resourceId },
      ':low': { N: String(low) },
      ':high': { N: String(high) },
    },
  };
}

/**
 * Reads one request's record, consistently (absent: it never existed, or was forgotten).
 *
 * @example
 * const request = await readRequest(store, 'partner-api', requestKey);
 */
export async function readRequest(
  store: WaitingStore,
  resourceId: string,
  requestKey: number,
): Promise<StoredRequest | undefined> {
  const output = await sendWithRetry<GetItemCommandOutput>(
    store,
    new GetItemCommand({
      TableName: store.requestTableName,
      Key: slotKey(resourceId, requestKey),
      ConsistentRead: true,
    }),
  );
  return output.Item ? fromRequestItem(output.Item) : undefined;
}

/**
 * Deletes the queue entry of a request that no longer waits (just ended, or met as a stale
 * entry). The request's record must say so in the same transaction: a regrant may have put the
 * entry back a moment ago, and deleting the entry of a waiting request would hide it. Answers
 * false when the request waits (the entry stays).
 */
export async function dropQueueEntry(
  store: WaitingStore,
  entry: Pick<QueueEntry, 'resourceId' | 'queueKey' | 'requestKey'>,
): Promise<boolean> {
  return sendTransaction(
    store,
    new TransactWriteItemsCommand({
      TransactItems: [
        { Delete: { TableName: store.requestTableName, Key: slotKey(entry.resourceId, entry.queueKey) } },
        {
          ConditionCheck: {
            TableName: store.requestTableName,
            Key: slotKey(entry.resourceId, entry.requestKey),
            ConditionExpression: 'attribute_not_exists(#releaseCode) OR #state <> :waiting',
            ExpressionAttributeNames: {
              '#releaseCode': requestAttribute.releaseCode,
              '#state': requestAttribute.state,
            },
            ExpressionAttributeValues: { ':waiting': { S: 'waiting' } },
          },
        },
      ],
    }),
  );
}

/** The head of a resource's queue and the slots its requests may use: what a pass reads. */
export interface QueueWindow {
  resourceId: string;
  /** Slot items 0 .. widest - 1 (the widest concurrency among the entries read). */
  slots: Map<number, Item>;
  /** The resource's rate item as read with the slots (absent: no rate-limited grant yet). */
  rateItem?: Item;
  entries: QueueEntry[];
  nextKey?: Item;
}

/** Entries a pass reads at a time: small items (about 100 bytes), one read unit for the page. */
export const queueWindowSize = 20;

/**
 * Reads the head of a resource's queue, then (when anyone waits) the slots its requests may use
 * and the rate item (`readSlots`): two consistent Queries whose size is the window and K,
 * whatever the length of the queue.
 *
 * @example
 * const window = await readQueueWindow(store, 'partner-api');
 */
export async function readQueueWindow(
  store: WaitingStore,
  resourceId: string,
  { limit = queueWindowSize, startKey }: { limit?: number; startKey?: Item } = {},
): Promise<QueueWindow> {
  const page = await readQueueHead(store, resourceId, limit, startKey);
  const widest = Math.max(0, ...page.entries.map((entry) => entry.concurrency));
  return { resourceId, ...(await readSlots(store, resourceId, widest)), ...page };
}

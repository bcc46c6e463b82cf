import { DeleteItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { sendWithRetry } from '../core/send.js';
import type { LockStore } from '../core/store.js';
import { attribute } from '../core/table.js';

/**
 * Parked records: a throttled record's copy, kept in the lock table beside its key, so that the
 * invocation holding the key's slot runs it as soon as it is done with its own records, instead
 * of the slot being freed and the copy coming back after a blind back-off. The re-queued SQS copy
 * stays the backstop: if no holder takes the parked record, the copy runs when its timer ends,
 * and the copy's claim (`copy-claims.ts`) makes sure only one of the two runs.
 *
 * Items: resource id `dlm-sqs-parked <key>` (a space: never a user's key), at a negative
 * `concurrency_id` unique per record, so that no holder count sees them; `expires` (TTL) when
 * the copy's timer ends.
 */
export const parkedPrefix = 'dlm-sqs-parked ';

/** A parked record above this size is not parked (a DynamoDB item holds 400 KB; reads cost per 4 KB). */
export const parkedMaxBytes = 16_384;

/** A parked record as the holder takes it, with what it needs to claim it. */
export interface ParkedRecord {
  record: SQSRecord;
  origin: string;
  generation: number;
  concurrencyId: number;
}

/**
 * Parks a throttled record's copy (`record` as the copy: its message id and attributes) until
 * `untilMs`, when its SQS copy comes back anyway. One write.
 *
 * @example
 * await park(store, 'partner-api', copyRecord, origin, 2, Date.now() + 4_000);
 */
export async function park(
  store: LockStore,
  key: string,
  record: SQSRecord,
  origin: string,
  generation: number,
  untilMs: number,
): Promise<void> {
  // Negative, unique, and ordered by the copy's return: a key condition skips those already back.
  const concurrencyId = -(Math.round(untilMs) * 1000 + Math.floor(Math.random() * 1000));
  await sendWithRetry(
    store,
    new PutItemCommand({
      TableName: store.tableName,
      Item: {
        [attribute.resourceId]: { S: `${parkedPrefix}${key}` },
        [attribute.concurrencyId]: { N: String(concurrencyId) },
        record: { S: JSON.stringify(record) },
        origin: { S: origin },
        generation: { N: String(generation) },
        parked_until_ms: { N: String(untilMs) },
        [attribute.expires]: { N: String(Math.ceil(untilMs / 1000) + 60) },
      },
    }),
  );
}

/**
 * The oldest records parked for `key` whose copy has not come back yet, at most `limit`.
 * One query (a read unit per 4 KB read).
 *
 * @example
 * const parked = await parkedRecords(store, 'partner-api', 5);
 */
export async function parkedRecords(store: LockStore, key: string, limit: number): Promise<ParkedRecord[]> {
  const { Items = [] } = await sendWithRetry<{ Items?: Array<Record<string, { S?: string; N?: string }>> }>(
    store,
    new QueryCommand({
      TableName: store.tableName,
      // Parked until after now: a concurrency id below -(now * 1000).
      KeyConditionExpression: '#resourceId = :resourceId AND #concurrencyId < :bound',
      ExpressionAttributeNames: {
        '#resourceId': attribute.resourceId,
        '#concurrencyId': attribute.concurrencyId,
      },
      ExpressionAttributeValues: {
        ':resourceId': { S: `${parkedPrefix}${key}` },
        ':bound': { N: String(-(Math.round(store.clock()) * 1000 + 999)) },
      },
      // The copy that comes back soonest first: it has waited longest.
      ScanIndexForward: false,
      ConsistentRead: true,
      Limit: limit,
    }),
  );
  return Items.map((item) => ({
    record: JSON.parse(item.record?.S ?? '{}') as SQSRecord,
    origin: item.origin?.S ?? '',
    generation: Number(item.generation?.N),
    concurrencyId: Number(item[attribute.concurrencyId]?.N),
  }));
}

/**
 * Removes a parked record once it is settled (run, or its copy claimed by someone else). One write.
 *
 * @example
 * await unpark(store, 'partner-api', parked.concurrencyId);
 */
export async function unpark(store: LockStore, key: string, concurrencyId: number): Promise<void> {
  await sendWithRetry(
    store,
    new DeleteItemCommand({
      TableName: store.tableName,
      Key: {
        [attribute.resourceId]: { S: `${parkedPrefix}${key}` },
        [attribute.concurrencyId]: { N: String(concurrencyId) },
      },
    }),
  );
}

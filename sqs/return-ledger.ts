import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { slotKey } from '../core/item.js';
import { sendWithRetry } from '../core/send.js';
import type { LockStore } from '../core/store.js';
import { attribute } from '../core/table.js';
import { receiveCountOf } from './attempts.js';

/**
 * The returns of a message kept in the queue (a FIFO message, or one with no room for the
 * attempt attribute): the receives that ended with the throttle handing it back, throttled or
 * behind a throttled or failed record of its group, not with a failure of its own. SQS counts
 * every receive; a failure is a receive with no return recorded, so a crash or a time-out counts
 * as one. Each return is an item of its own, `dlm-sqs-return <messageId>` at `concurrency_id`
 * -receiveCount: writing it again (a retry whose answer was lost) changes nothing.
 */
const returnPrefix = 'dlm-sqs-return ';

/** A message stays in SQS at most 14 days; TTL then removes its returns. */
const returnLifetimeSeconds = 15 * 24 * 3600;

/** BatchWriteItem takes at most 25 items; its unprocessed ones are sent again this many times. */
const batchLimit = 25;
const unprocessedRetries = 3;

/**
 * Records that these records' current receives end with a return, not a failure: one
 * BatchWriteItem per 25 records. A return not recorded (the write failed) counts as a failure,
 * the side SQS's own count errs on.
 *
 * @example
 * await recordReturns(store, [record]); // then hide it, or report it failed
 */
export async function recordReturns(store: LockStore, records: SQSRecord[]): Promise<void> {
  const expires = String(Math.ceil(store.clock() / 1000) + returnLifetimeSeconds);
  for (let start = 0; start < records.length; start += batchLimit) {
    let requests = records.slice(start, start + batchLimit).map((record) => ({
      PutRequest: {
        Item: {
          ...slotKey(`${returnPrefix}${record.messageId}`, -receiveCountOf(record)),
          [attribute.expires]: { N: expires },
        },
      },
    }));
    try {
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > unprocessedRetries) throw new Error(`${requests.length} returns left unprocessed`);
        const output = await sendWithRetry<BatchWriteItemCommandOutput>(
          store,
          new BatchWriteItemCommand({ RequestItems: { [store.tableName]: requests } }),
        );
        requests = (output.UnprocessedItems?.[store.tableName] ?? []) as typeof requests;
      }
    } catch (error) {
      store.logger.warn('SQS throttle: could not record returns; those receives count as failures', {
        messages: requests.length,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

/**
 * How many of the message's receives before this one ended with a recorded return: one
 * consistent Query, asked only when the receive count alone could reach `maxAttempts`.
 *
 * @example
 * const failures = receiveCountOf(record) - 1 - (await returnsBefore(store, record));
 */
export async function returnsBefore(store: LockStore, record: SQSRecord): Promise<number> {
  const receiveCount = receiveCountOf(record);
  if (receiveCount <= 1) return 0;
  const output = await sendWithRetry<{ Count?: number }>(
    store,
    new QueryCommand({
      TableName: store.tableName,
      ConsistentRead: true,
      Select: 'COUNT',
      KeyConditionExpression: '#resourceId = :resourceId AND #concurrencyId BETWEEN :lowest AND :highest',
      ExpressionAttributeNames: {
        '#resourceId': attribute.resourceId,
        '#concurrencyId': attribute.concurrencyId,
      },
      ExpressionAttributeValues: {
        ':resourceId': { S: `${returnPrefix}${record.messageId}` },
        ':lowest': { N: String(-(receiveCount - 1)) },
        ':highest': { N: '-1' },
      },
    }),
  );
  return output.Count ?? 0;
}

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitConcurrency, limitRecordConcurrency, throttleAttempts } from '../../sqs/index.js';
import { createQueue, queueName, sharedSqs, sqsClient } from '../local/sqs/sqs-test-kit.js';
import { freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { lambdaContext, receiveRecords } from './throttle-kit.js';

// Where a record the rate holds back goes, and when it comes back: one start per 2 s, so the
// timers (whole seconds) are far apart enough to tell from the receive times.

let client: SQSClient;
let tableName: string;

beforeAll(async () => {
  const { sqs } = await sharedSqs();
  client = sqsClient(sqs.endpoint);
  tableName = await freshLockTable('sqs_rate_requeue');
});

afterAll(() => client.destroy());

const rate = { limit: 1, periodSeconds: 2 };

/** A queue holding `count` messages (FIFO: one group), and their records from one receive. */
async function queueOf(count: number, fifo = false) {
  const { url, arn } = await createQueue(client, queueName('rate-requeue', fifo), {
    VisibilityTimeout: '30',
    ...(fifo && { FifoQueue: 'true', ContentBasedDeduplication: 'true' }),
  });
  await client.send(
    new SendMessageBatchCommand({
      QueueUrl: url,
      Entries: Array.from({ length: count }, (_, index) => ({
        Id: String(index),
        MessageBody: `m${index}`,
        ...(fifo && { MessageGroupId: 'g' }),
      })),
    }),
  );
  return { url, arn, records: await receiveRecords(client, url, arn, count) };
}

/** Receives `count` messages as they come back; each with the seconds since `sinceMs`. */
async function comeBack(url: string, arn: string, count: number, sinceMs: number) {
  const back: Array<{ record: SQSRecord; afterSeconds: number }> = [];
  while (back.length < count) {
    const [record] = await receiveRecords(client, url, arn, 1);
    if (!record) throw new Error(`${back.length} of ${count} came back`);
    back.push({ record, afterSeconds: (Date.now() - sinceMs) / 1000 });
  }
  return back;
}

describe('records the rate holds back', () => {
  it('limitRecordConcurrency re-queues them as successes, each to its own turn of the rate', async () => {
    const key = uniqueResource('rate-powertools');
    const { url, arn, records } = await queueOf(3);
    const ran: string[] = [];
    const recordHandler = limitRecordConcurrency(async (record) => ran.push(record.body), {
      key: () => key,
      concurrency: 2,
      rate,
      tableName,
      sqsClient: client,
      logger: recordingLogger(),
    });
    const processor = new BatchProcessor(EventType.SQS);
    const sentMs = Date.now();
    const response = await processPartialResponse({ Records: records }, recordHandler, processor, {
      context: lambdaContext(),
    });
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ran).toHaveLength(1);
    // The next start is 2 s after the first, the one after it 4 s: timers of 2 and 4 s, not all 2.
    const back = await comeBack(url, arn, 2, sentMs);
    expect(back.map(({ record }) => throttleAttempts(record))).toEqual([1, 1]);
    expect(back[0]?.afterSeconds).toBeGreaterThanOrEqual(1.5);
    expect((back[1]?.afterSeconds ?? 0) - (back[0]?.afterSeconds ?? 0)).toBeGreaterThanOrEqual(1.5);
  }, 20_000);

  it('on FIFO, hides the held-back record and the rest of its group until the rate allows it', async () => {
    const key = uniqueResource('rate-fifo');
    const { url, arn, records } = await queueOf(3, true);
    const ran: string[] = [];
    const handler = limitConcurrency(async (record) => ran.push(record.body), {
      key: () => key,
      rate,
      tableName,
      sqsClient: client,
      logger: recordingLogger(),
    });
    const hiddenMs = Date.now();
    expect(await handler({ Records: records }, lambdaContext())).toEqual({
      batchItemFailures: [
        { itemIdentifier: records[1]?.messageId },
        { itemIdentifier: records[2]?.messageId },
      ],
    });
    expect(ran).toEqual(['m0']);
    // Hidden for the 2 s until the rate's next start, in order, with their group.
    const [first] = await comeBack(url, arn, 1, hiddenMs);
    expect(first?.record.body).toBe('m1');
    expect(first?.afterSeconds).toBeGreaterThanOrEqual(1.5);
  }, 20_000);
});

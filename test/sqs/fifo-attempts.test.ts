import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { DeleteMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLock } from '../../core/index.js';
import { type ConcurrencyLimitOptions, limitConcurrency, limitRecordConcurrency } from '../../sqs/index.js';
import { createQueueWithDlq, drain, sharedSqs, sqsClient } from '../local/sqs/sqs-test-kit.js';
import { freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { lambdaContext, receiveRecords, sleep } from './throttle-kit.js';

// FIFO throttling hides a message and reports it failed: SQS counts each such return as a
// receive. The throttle keeps its own count of failures, so that `maxAttempts` counts the
// handler's failures only and a throttled message is not moved toward the dead-letter queue.

let client: SQSClient;
let tableName: string;

beforeAll(async () => {
  const { sqs } = await sharedSqs();
  client = sqsClient(sqs.endpoint);
  tableName = await freshLockTable('sqs_fifo_attempts');
});

afterAll(() => client.destroy());

function options(overrides: Partial<ConcurrencyLimitOptions> = {}): ConcurrencyLimitOptions {
  return {
    key: (record) => record.body.split('#')[0] ?? '',
    concurrency: 1,
    leaseSeconds: 5,
    tableName,
    sqsClient: client,
    logger: recordingLogger(),
    backoff: { baseSeconds: 1, capSeconds: 1 },
    maxAttempts: 2,
    throwOnFullBatchFailure: false,
    ...overrides,
  };
}

type Deliver = (records: SQSRecord[]) => Promise<string[]>;

/** The two wrappers, each as a batch handler that answers the ids it reports failed. */
const wrappers: Array<[string, (handler: () => Promise<void>) => Deliver]> = [
  [
    'limitConcurrency',
    (handler) => {
      const batch = limitConcurrency(handler, options());
      return async (records) =>
        (await batch({ Records: records }, lambdaContext())).batchItemFailures.map(
          (item) => item.itemIdentifier,
        );
    },
  ],
  [
    'limitRecordConcurrency in Powertools',
    (handler) => {
      const record = limitRecordConcurrency(handler, options());
      return async (records) => {
        const processor = new SqsFifoPartialProcessorAsync();
        const event = { Records: records } as SQSEvent;
        const context = lambdaContext();
        const answer = await processPartialResponse(event, record, processor, {
          context,
          throwOnFullBatchFailure: false,
        });
        return answer.batchItemFailures.map((item) => item.itemIdentifier);
      };
    },
  ],
];

/** A FIFO queue whose redrive is far off (20 receives), and one message of `key` on it. */
async function fifoQueueWith(key: string) {
  const queue = await createQueueWithDlq(client, 'fifo-attempts', 20, {
    FifoQueue: 'true',
    ContentBasedDeduplication: 'true',
    VisibilityTimeout: '2',
  });
  await client.send(
    new SendMessageCommand({ QueueUrl: queue.url, MessageBody: `${key}#1`, MessageGroupId: 'g' }),
  );
  return queue;
}

/**
 * Delivers the queue's message one at a time, as the mapping does (a record not reported failed
 * is deleted), with the key held by another client during the deliveries `held` names, until
 * the message is gone from the queue. Returns the dead-letter queue's bodies.
 */
async function deliverUntilGone(
  queue: { url: string; arn: string; dlqUrl: string },
  key: string,
  deliver: Deliver,
  held: (delivery: number) => boolean,
): Promise<string[]> {
  const holder = new DynamoDbLock(key, { tableName, duration: 30 });
  const dead: string[] = [];
  let delivery = 0;
  const until = Date.now() + 40_000;
  while (Date.now() < until) {
    const records = await receiveRecords(client, queue.url, queue.arn, 1).catch(() => []);
    for (const record of records) {
      if (held(delivery++)) await holder.acquire();
      const failed = await deliver([record]);
      if (holder.lease) await holder.release();
      if (!failed.includes(record.messageId)) {
        await client
          .send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: record.receiptHandle }))
          .catch(() => {}); // moved by the throttle: already deleted
      }
    }
    dead.push(...(await drain(client, queue.dlqUrl)).map((message) => message.Body ?? ''));
    if (records.length === 0 && (await drain(client, queue.url)).length === 0) {
      await sleep(2_500); // a message reported failed comes back after the 2 s visibility timeout
      if ((await drain(client, queue.url)).length === 0) break;
    }
  }
  dead.push(...(await drain(client, queue.dlqUrl)).map((message) => message.Body ?? ''));
  return dead;
}

describe.each(wrappers)('FIFO attempts with %s', (_name, wrap) => {
  it('moves a message that always fails to the dead-letter queue after maxAttempts failures, its throttles not counted', async () => {
    const key = uniqueResource('fifo-poison');
    const queue = await fifoQueueWith(key);
    let runs = 0;
    const deliver = wrap(async () => {
      runs++;
      throw new Error('poison');
    });
    // Held on every other delivery: throttled, failed, throttled, failed, ...
    const dead = await deliverUntilGone(queue, key, deliver, (delivery) => delivery % 2 === 0);
    expect(runs).toBe(2);
    expect(dead).toEqual([`${key}#1`]);
  }, 60_000);

  it('runs a message throttled more often than maxAttempts, and does not move it', async () => {
    const key = uniqueResource('fifo-patient');
    const queue = await fifoQueueWith(key);
    let runs = 0;
    const deliver = wrap(async () => {
      runs++;
      if (runs === 1) throw new Error('fails once');
    });
    // Throttled on its first 4 deliveries, then it fails once, then it succeeds.
    const dead = await deliverUntilGone(queue, key, deliver, (delivery) => delivery < 4);
    expect(runs).toBe(2);
    expect(dead).toEqual([]);
  }, 60_000);
});

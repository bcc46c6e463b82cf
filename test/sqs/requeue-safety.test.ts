import { DeleteMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLock } from '../../core/index.js';
import type { LocalSqs } from '../../local/sqs/index.js';
import { type ConcurrencyLimitOptions, limitConcurrency, limitRecordConcurrency } from '../../sqs/index.js';
import {
  createQueue,
  createQueueWithDlq,
  drain,
  queueName,
  sharedSqs,
  sqsClient,
} from '../local/sqs/sqs-test-kit.js';
import { FaultInjector } from '../safety/support/fault-injector.js';
import { freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { lambdaContext, receiveRecords, sleep } from './throttle-kit.js';

// A re-queue on the local AWS: lost answers of SendMessageBatch (which local SQS cannot lose, so
// a fault injector drops them after delivery, inside the SDK's retries), size limits, and a
// message that always fails while its key is busy every other delivery.

let sqs: LocalSqs;
let client: SQSClient;
let tableName: string;

beforeAll(async () => {
  ({ sqs } = await sharedSqs());
  client = sqsClient(sqs.endpoint);
  tableName = await freshLockTable('sqs_requeue');
});

afterAll(() => client.destroy());

function faultySqs(): { client: SQSClient; faults: FaultInjector } {
  const faults = new FaultInjector();
  const faulty = new SQSClient({
    region: 'us-east-1',
    endpoint: sqs.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { client: faults.attach(faulty, 'sqs'), faults };
}

function options(overrides: Partial<ConcurrencyLimitOptions> = {}): ConcurrencyLimitOptions {
  return {
    key: (record) => record.body.split('#')[0] ?? '',
    concurrency: 1,
    leaseSeconds: 5,
    tableName,
    sqsClient: client,
    logger: recordingLogger(),
    backoff: { baseSeconds: 1, capSeconds: 1 },
    ...overrides,
  };
}

async function send(url: string, body: string): Promise<void> {
  await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
}

/**
 * Delivers what comes in within `ms`, one record per batch (as several consumers would), and
 * deletes what `deliver` reports a success, as an event source mapping does.
 */
async function deliverAll(
  url: string,
  arn: string,
  deliver: (record: SQSRecord) => Promise<boolean>,
  ms: number,
): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const records = await receiveRecords(client, url, arn, 1).catch(() => []);
    for (const record of records) {
      if (await deliver(record)) {
        await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: record.receiptHandle }));
      }
    }
  }
}

describe('re-queue safety', () => {
  it('runs a message once when the answer of its re-queue was lost and the SDK sent it again', async () => {
    const key = uniqueResource('lost-answer');
    const { url, arn } = await createQueue(client, queueName('lost-answer'), { VisibilityTimeout: '2' });
    await send(url, `${key}#1`);
    const holder = new DynamoDbLock(key, { tableName, duration: 30 });
    await holder.acquire();
    const faulty = faultySqs();
    // Every attempt of the SDK lost: three copies sent, and the original reported failed.
    faulty.faults.arm({ command: 'SendMessageBatch', fault: 'lose-answer', times: 3 });
    let runs = 0;
    const throttled = limitConcurrency(
      async () => {
        runs++;
      },
      options({ sqsClient: faulty.client }),
    );
    const [original] = await receiveRecords(client, url, arn, 1);
    const first = await throttled({ Records: [original as SQSRecord] }, lambdaContext());
    expect(first.batchItemFailures).toHaveLength(1);
    expect(faulty.faults.injected.get('lose-answer')).toBe(3);
    await holder.release();
    const handler = limitConcurrency(async () => {
      runs++;
    }, options());
    await deliverAll(
      url,
      arn,
      async (record) => {
        const { batchItemFailures } = await handler({ Records: [record] }, lambdaContext());
        expect(batchItemFailures).toEqual([]);
        return true;
      },
      4_000,
    );
    expect(runs).toBe(1);
    expect(await drain(client, url)).toEqual([]);
  }, 20_000);

  it('runs a message once when one answer was lost (two copies), inside Powertools too', async () => {
    const key = uniqueResource('lost-once');
    const { url, arn } = await createQueue(client, queueName('lost-once'), { VisibilityTimeout: '2' });
    await send(url, `${key}#1`);
    const holder = new DynamoDbLock(key, { tableName, duration: 30 });
    await holder.acquire();
    const faulty = faultySqs();
    faulty.faults.arm({ command: 'SendMessageBatch', fault: 'lose-answer', times: 1 });
    let runs = 0;
    const recordHandler = limitRecordConcurrency(
      async () => {
        runs++;
      },
      options({ sqsClient: faulty.client }),
    );
    const [original] = await receiveRecords(client, url, arn, 1);
    await recordHandler(original as SQSRecord, lambdaContext());
    await holder.release();
    await deliverAll(
      url,
      arn,
      async (record) => {
        await recordHandler(record, lambdaContext());
        return true;
      },
      3_000,
    );
    expect(runs).toBe(1);
  }, 20_000);

  it('re-queues ten messages of 120 KB in batches cut by bytes', async () => {
    const key = uniqueResource('large');
    const { url, arn } = await createQueue(client, queueName('large'), { VisibilityTimeout: '30' });
    const body = (index: number) => `${key}#${index}#${'x'.repeat(120_000)}`;
    for (let index = 0; index < 10; index++) await send(url, body(index));
    const holder = new DynamoDbLock(key, { tableName, duration: 30 });
    await holder.acquire();
    const records = await receiveRecords(client, url, arn, 10);
    const handler = limitConcurrency(async () => {}, options());
    expect(await handler({ Records: records }, lambdaContext())).toEqual({ batchItemFailures: [] });
    await holder.release();
    const copies = await receiveRecords(client, url, arn, 10);
    expect(copies.map((copy) => copy.body).sort()).toEqual(records.map((record) => record.body).sort());
  }, 30_000);

  it('hides a message with no room for the attribute for its back-off, and runs it when the slot frees', async () => {
    const key = uniqueResource('tight');
    const { url, arn } = await createQueue(client, queueName('tight'), {
      VisibilityTimeout: '30',
      MaximumMessageSize: '1024',
    });
    const body = `${key}#${'y'.repeat(1010 - key.length - 1)}`;
    expect(Buffer.byteLength(body)).toBe(1010);
    await send(url, body);
    const holder = new DynamoDbLock(key, { tableName, duration: 30 });
    await holder.acquire();
    const [record] = await receiveRecords(client, url, arn, 1);
    let ran = 0;
    const handler = limitConcurrency(async () => {
      ran++;
    }, options());
    const response = await handler({ Records: [record as SQSRecord] }, lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record?.messageId }]);
    await holder.release();
    // Back after its 1 s back-off, not the queue's 30 s visibility timeout.
    const [again] = await receiveRecords(client, url, arn, 1);
    expect(again?.messageId).toBe(record?.messageId);
    expect(await handler({ Records: [again as SQSRecord] }, lambdaContext())).toEqual({
      batchItemFailures: [],
    });
    expect(ran).toBe(1);
  }, 30_000);

  it('moves a message that always fails to the dead-letter queue after maxReceiveCount failures, however often it was re-queued', async () => {
    const key = uniqueResource('poison');
    const queue = await createQueueWithDlq(client, 'poison', 3, { VisibilityTimeout: '1' });
    await send(queue.url, `${key}#1`);
    const holder = new DynamoDbLock(key, { tableName, duration: 30 });
    let runs = 0;
    const handler = limitConcurrency(
      async () => {
        runs++;
        throw new Error('poison');
      },
      options({ throwOnFullBatchFailure: false }),
    );
    let deliveries = 0;
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      const dead = await drain(client, queue.dlqUrl);
      if (dead.length > 0) {
        expect(dead.map((message) => message.Body)).toEqual([`${key}#1`]);
        break;
      }
      const records = await receiveRecords(client, queue.url, queue.arn, 1).catch(() => []);
      for (const record of records) {
        // The key is held every other delivery: the message is re-queued between its failures.
        if (deliveries++ % 2 === 1) await holder.acquire();
        const { batchItemFailures } = await handler({ Records: [record] }, lambdaContext());
        if (holder.lease) await holder.release();
        if (batchItemFailures.length === 0) {
          await client.send(
            new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: record.receiptHandle }),
          );
        }
      }
    }
    expect(runs).toBe(3);
    expect(await drain(client, queue.url)).toEqual([]);
    await sleep(1_200);
    expect(await drain(client, queue.url)).toEqual([]);
  }, 30_000);
});

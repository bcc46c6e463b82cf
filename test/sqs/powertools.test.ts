import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from '@aws-lambda-powertools/batch';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLock } from '../../core/index.js';
import type { LocalSqs } from '../../local/sqs/index.js';
import { type ConcurrencyLimitOptions, limitRecordConcurrency, throttleAttempts } from '../../sqs/index.js';
import { createQueue, drain, queueName, sharedSqs } from '../local/sqs/sqs-test-kit.js';
import { freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { countingSqsClient, lambdaContext, receiveRecords, sleep } from './throttle-kit.js';

let sqs: LocalSqs;
let client: SQSClient;
let tableName: string;

beforeAll(async () => {
  ({ sqs } = await sharedSqs());
  client = countingSqsClient(sqs.endpoint).client;
  tableName = await freshLockTable('sqs_powertools');
});

afterAll(async () => {
  client.destroy();
});

const options = (): ConcurrencyLimitOptions => ({
  key: (record) => record.body.split('#')[0] ?? '',
  concurrency: 1,
  leaseSeconds: 10,
  tableName,
  sqsClient: client,
  logger: recordingLogger(),
  backoff: { baseSeconds: 1, capSeconds: 1 },
});

/** Runs a batch the way a Powertools handler does: `processPartialResponse` with `processor`. */
const inPowertools = (
  records: SQSRecord[],
  recordHandler: Parameters<typeof processPartialResponse>[1],
  processor: Parameters<typeof processPartialResponse>[2],
) => processPartialResponse({ Records: records }, recordHandler, processor, { context: lambdaContext() });

async function queueWith(bodies: Array<[string, string?]>, fifo = false) {
  const { url, arn } = await createQueue(client, queueName('powertools', fifo), {
    VisibilityTimeout: '30',
    ...(fifo && { FifoQueue: 'true', ContentBasedDeduplication: 'true' }),
  });
  for (const [body, group] of bodies) {
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageGroupId: group }));
  }
  return { url, arn, records: await receiveRecords(client, url, arn, bodies.length) };
}

describe('limitRecordConcurrency inside Powertools', () => {
  it('runs free records and re-queues a throttled one as a success (BatchProcessor)', async () => {
    const busy = uniqueResource('busy');
    const free = uniqueResource('free');
    const holder = new DynamoDbLock(busy, { tableName, duration: 30 });
    await holder.acquire();
    const { url, arn, records } = await queueWith([[`${busy}#1`], [`${free}#1`]]);
    const done: string[] = [];
    const recordHandler = limitRecordConcurrency(async (record) => {
      done.push(record.body);
    }, options());
    const response = await inPowertools(records, recordHandler, new BatchProcessor(EventType.SQS));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(done).toEqual([`${free}#1`]);
    expect(await drain(client, url)).toHaveLength(0);
    await holder.release();
    await sleep(1_100);
    const [copy] = await receiveRecords(client, url, arn, 1);
    expect(copy?.body).toBe(`${busy}#1`);
    expect(copy && throttleAttempts(copy)).toBe(1);
  });

  it('hands one slot from record to record when Powertools runs a key in parallel', async () => {
    const key = uniqueResource('one');
    const { records } = await queueWith([[`${key}#1`], [`${key}#2`], [`${key}#3`]]);
    let running = 0;
    let highest = 0;
    let done = 0;
    const recordHandler = limitRecordConcurrency(async () => {
      highest = Math.max(highest, ++running);
      await sleep(20);
      running--;
      done++;
    }, options());
    const response = await inPowertools(records, recordHandler, new BatchProcessor(EventType.SQS));
    expect(response).toEqual({ batchItemFailures: [] });
    expect([highest, done]).toEqual([1, 3]); // one at a time, and none re-queued
  });

  it('fails a throttled FIFO record, and the FIFO processor the rest of the batch', async () => {
    const busy = uniqueResource('busy');
    const free = uniqueResource('free');
    const holder = new DynamoDbLock(busy, { tableName, duration: 30 });
    await holder.acquire();
    const { records } = await queueWith(
      [
        [`${free}#1`, 'a'],
        [`${busy}#2`, 'b'],
        [`${free}#3`, 'a'],
      ],
      true,
    );
    const done: string[] = [];
    const recordHandler = limitRecordConcurrency(async (record) => {
      done.push(record.body);
    }, options());
    const response = await inPowertools(records, recordHandler, new SqsFifoPartialProcessorAsync());
    expect(done).toEqual([`${free}#1`]);
    expect(response.batchItemFailures.map((item) => item.itemIdentifier)).toEqual(
      records.slice(1).map((record) => record.messageId),
    );
    await holder.release();
  });

  it('with skipGroupOnError, fails a throttled FIFO record and the rest of its group only: the other groups run', async () => {
    const busy = uniqueResource('busy');
    const free = uniqueResource('free');
    const holder = new DynamoDbLock(busy, { tableName, duration: 30 });
    await holder.acquire();
    const { records } = await queueWith(
      [
        [`${free}#1`, 'a'],
        [`${busy}#2`, 'b'],
        [`${free}#3`, 'a'],
        [`${free}#4`, 'b'],
      ],
      true,
    );
    const done: string[] = [];
    const recordHandler = limitRecordConcurrency(async (record) => {
      done.push(record.body);
    }, options());
    const response = await processPartialResponse(
      { Records: records },
      recordHandler,
      new SqsFifoPartialProcessorAsync(),
      { context: lambdaContext(), skipGroupOnError: true },
    );
    expect(done).toEqual([`${free}#1`, `${free}#3`]);
    expect(response.batchItemFailures.map((item) => item.itemIdentifier)).toEqual([
      records[1]?.messageId,
      records[3]?.messageId,
    ]);
    await holder.release();
  });
});

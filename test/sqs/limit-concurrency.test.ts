import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLock } from '../../core/index.js';
import type { LocalSqs } from '../../local/sqs/index.js';
import { type ConcurrencyLimitOptions, limitConcurrency, throttleAttempts } from '../../sqs/index.js';
import { createQueue, drain, queueName, sharedSqs } from '../local/sqs/sqs-test-kit.js';
import { countingClient } from '../support/command-counter.js';
import { freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { concurrencyProbe, countingSqsClient, lambdaContext, receiveRecords, sleep } from './throttle-kit.js';

let sqs: LocalSqs;
let sqsCounter: ReturnType<typeof countingSqsClient>;
let client: SQSClient;
let tableName: string;

beforeAll(async () => {
  ({ sqs } = await sharedSqs());
  sqsCounter = countingSqsClient(sqs.endpoint);
  client = sqsCounter.client;
  tableName = await freshLockTable('sqs_throttle');
});

afterAll(async () => {
  client.destroy();
});

/** A standard or FIFO queue holding `bodies` (FIFO: `group:body`), and the records of one receive. */
async function batchOf(
  bodies: string[],
  options: { fifo?: boolean; attributes?: Record<string, string> } = {},
) {
  const fifo = options.fifo ?? false;
  const { url, arn } = await createQueue(client, queueName('throttle', fifo), {
    VisibilityTimeout: '30',
    ...(fifo && { FifoQueue: 'true', ContentBasedDeduplication: 'true' }),
  });
  for (const text of bodies) {
    const [group, body] = fifo ? text.split(':') : [undefined, text];
    await client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: body,
        ...(group && { MessageGroupId: group }),
        MessageAttributes: Object.fromEntries(
          Object.entries(options.attributes ?? {}).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
      }),
    );
  }
  return { url, arn, records: await receiveRecords(client, url, arn, bodies.length) };
}

function options(overrides: Partial<ConcurrencyLimitOptions>): ConcurrencyLimitOptions {
  return {
    key: (record) => record.body.split('#')[0] ?? '',
    concurrency: 1,
    tableName,
    sqsClient: client,
    logger: recordingLogger(),
    backoff: { baseSeconds: 1, capSeconds: 2 },
    ...overrides,
  };
}

describe('limitConcurrency', () => {
  it('costs a take and a release per record when uncontended, no read and no SQS request', async () => {
    /** One batch of ten records on five keys: its DynamoDB writes and reads. */
    const cost = async (prefix: string, concurrency: number) => {
      const bodies = Array.from({ length: 10 }, (_, index) => `${prefix}${index % 5}#${index}`);
      const { records } = await batchOf(bodies);
      const dynamo = countingClient();
      const done: string[] = [];
      const handler = limitConcurrency(
        async (record) => {
          done.push(record.body);
        },
        options({ dynamoDbClient: dynamo.client, concurrency }),
      );
      const before = sqsCounter.total();
      expect(await handler({ Records: records }, lambdaContext())).toEqual({ batchItemFailures: [] });
      expect(done.sort()).toEqual([...bodies].sort());
      expect(dynamo.counts.get('Query') ?? 0).toBe(0);
      expect(sqsCounter.total()).toBe(before);
      return { writes: dynamo.writes(), reads: dynamo.counts.get('GetItem') ?? 0 };
    };
    const parallel = uniqueResource('k');
    // The first records of a key in this process read its limit, and record it (none was yet)...
    expect(await cost(parallel, 2)).toEqual({ writes: 20 + 5, reads: 5 });
    // ...later ones read nothing: five keys, two records each, in parallel, one lease per record...
    expect(await cost(parallel, 2)).toEqual({ writes: 20, reads: 0 });
    // ...and one after the other, the two records of a key share one lease.
    const serial = uniqueResource('k');
    await cost(serial, 1);
    expect(await cost(serial, 1)).toEqual({ writes: 10, reads: 0 });
  });

  it('never runs more records of a key at once than its limit, within a batch', async () => {
    const key = uniqueResource('shared');
    const { records } = await batchOf(Array.from({ length: 10 }, (_, index) => `${key}#${index}`));
    const probe = concurrencyProbe();
    const handler = limitConcurrency(() => probe.around(key, () => sleep(30)), options({ concurrency: 3 }));
    expect(await handler({ Records: records }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(probe.highest.get(key)).toBe(3);
  });

  it('re-queues a throttled record with a timer, its attributes and an attempt counter, and deletes it', async () => {
    const key = uniqueResource('busy');
    const holder = new DynamoDbLock(key, { tableName, duration: 30 });
    await holder.acquire();
    const { url, records } = await batchOf([`${key}#1`], { attributes: { tenant: 't1' } });
    let ran = false;
    const handler = limitConcurrency(async () => {
      ran = true;
    }, options({}));
    const before = new Map(sqsCounter.counts);
    expect(await handler({ Records: records }, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(ran).toBe(false);
    const used = (name: string) => (sqsCounter.counts.get(name) ?? 0) - (before.get(name) ?? 0);
    expect([used('SendMessageBatch'), used('DeleteMessageBatch')]).toEqual([1, 1]);
    expect(await drain(client, url)).toHaveLength(0); // hidden by its timer, and the original is gone
    await holder.release();
    await sleep(2_100); // the cap of the back-off
    const [copy] = await receiveRecords(client, url, records[0]?.eventSourceARN ?? '', 1);
    expect(copy?.body).toBe(`${key}#1`);
    expect(copy?.messageAttributes.tenant?.stringValue).toBe('t1');
    expect(copy && throttleAttempts(copy)).toBe(1);
    expect(copy?.attributes.ApproximateReceiveCount).toBe('1');
  });

  it('hides a message with 10 attributes of its own (no room for the counter) instead of copying it', async () => {
    const key = uniqueResource('full');
    const holder = new DynamoDbLock(key, { tableName, duration: 30 });
    await holder.acquire();
    const attributes = Object.fromEntries(
      Array.from({ length: 10 }, (_, index) => [`a${index}`, `v${index}`]),
    );
    const { url, arn, records } = await batchOf([`${key}#1`], { attributes });
    const handler = limitConcurrency(async () => {}, options({}));
    const before = sqsCounter.counts.get('SendMessageBatch') ?? 0;
    const response = await handler({ Records: records }, lambdaContext());
    expect(response.batchItemFailures.map((item) => item.itemIdentifier)).toEqual([records[0]?.messageId]);
    expect(sqsCounter.counts.get('SendMessageBatch') ?? 0).toBe(before); // no copy
    await holder.release();
    // The same message, back after its back-off (2 s at most here), not the 30 s visibility timeout.
    const [again] = await receiveRecords(client, url, arn, 1);
    expect(again?.messageId).toBe(records[0]?.messageId);
    expect(Object.keys(again?.messageAttributes ?? {}).sort()).toEqual(Object.keys(attributes).sort());
    expect(again?.attributes.ApproximateReceiveCount).toBe('2');
  });

  it('on FIFO, reports a throttled record and the rest of its group, hidden together; other groups run', async () => {
    const busy = uniqueResource('busy');
    const free = uniqueResource('free');
    const holder = new DynamoDbLock(busy, { tableName, duration: 30 });
    await holder.acquire();
    const { url, arn, records } = await batchOf(
      [`a:${busy}#1`, `b:${free}#1`, `a:${free}#2`, `b:${free}#3`],
      {
        fifo: true,
      },
    );
    const done: string[] = [];
    const handler = limitConcurrency(async (record) => {
      done.push(record.body);
    }, options({}));
    const response = await handler({ Records: records }, lambdaContext());
    const failed = response.batchItemFailures.map(
      (item) => records.find((r) => r.messageId === item.itemIdentifier)?.body,
    );
    expect(failed).toEqual([`${busy}#1`, `${free}#2`]);
    expect(done).toEqual([`${free}#1`, `${free}#3`]);
    await holder.release();
    const back = await receiveRecords(client, url, arn, 2);
    expect(back.map((record) => record.body).sort()).toEqual([`${busy}#1`, `${free}#2`].sort());
  });

  it('on FIFO, reports a failed record and leaves the rest of its group unprocessed', async () => {
    const key = uniqueResource('fifo');
    const { records } = await batchOf([`a:${key}#1`, `a:${key}#2`, `b:${key}#3`, `a:${key}#4`], {
      fifo: true,
    });
    const done: string[] = [];
    const handler = limitConcurrency(async (record) => {
      if (record.body.endsWith('#2')) throw new Error('on purpose');
      done.push(record.body);
    }, options({}));
    const response = await handler({ Records: records }, lambdaContext());
    const failed = response.batchItemFailures.map(
      (item) => records.find((r) => r.messageId === item.itemIdentifier)?.body,
    );
    expect(failed).toEqual([`${key}#2`, `${key}#4`]);
    // Group b waited for group a's slot of the same key (limit 1), handed over without a write.
    expect(done.sort()).toEqual([`${key}#1`, `${key}#3`]);
  });

  it('reports a failing handler; its slot is free again', async () => {
    const key = uniqueResource('fails');
    const { records } = await batchOf([`${key}#1`, `${key}#2`]);
    const handler = limitConcurrency(async (record) => {
      if (record.body.endsWith('#1')) throw new Error('on purpose');
    }, options({}));
    const response = await handler({ Records: records }, lambdaContext());
    expect(response.batchItemFailures.map((item) => item.itemIdentifier)).toEqual([
      records.find((record) => record.body.endsWith('#1'))?.messageId,
    ]);
    expect(await new DynamoDbLock(key, { tableName }).count()).toBe(0);
  });

  it('throws FullBatchFailureError when every record failed, as Powertools does (unless told not to)', async () => {
    const { records } = await batchOf([`${uniqueResource('x')}#1`, `${uniqueResource('y')}#1`]);
    const failing = async () => {
      throw new Error('on purpose');
    };
    await expect(
      limitConcurrency(failing, options({}))({ Records: records }, lambdaContext()),
    ).rejects.toBeInstanceOf(FullBatchFailureError);
    const response = await limitConcurrency(failing, options({ throwOnFullBatchFailure: false }))(
      { Records: records },
      lambdaContext(),
    );
    expect(response.batchItemFailures).toHaveLength(2);
  });

  it('warns when a lease ended while the handler ran, and still counts the record as done', async () => {
    const key = uniqueResource('short');
    const { records } = await batchOf([`${key}#1`]);
    const logger = recordingLogger();
    // The stored lease is 0.2 s plus the clock bound (0.1 s): over before 0.45 s.
    const handler = limitConcurrency(() => sleep(650), options({ leaseSeconds: 0.2, logger }));
    const holder = new DynamoDbLock(key, { tableName, duration: 5 });
    const running = handler({ Records: records }, lambdaContext());
    await sleep(450);
    expect(await holder.tryAcquire()).toBe(true); // the ended lease let someone else in
    expect(await running).toEqual({ batchItemFailures: [] });
    expect(logger.lines.join('\n')).toMatch(/lease had ended before its release/);
    expect(holder.lease).toBeDefined();
    expect(await holder.release()).toBe(true); // the late release did not free the new holder's slot
  });

  it('fails only the record whose key cannot be computed', async () => {
    const key = uniqueResource('ok');
    const { records } = await batchOf([`${key}#1`, '#2']);
    const response = await limitConcurrency(async () => {}, options({}))(
      { Records: records },
      lambdaContext(),
    );
    expect(response.batchItemFailures.map((item) => item.itemIdentifier)).toEqual([
      records.find((record) => record.body === '#2')?.messageId,
    ]);
  });
});

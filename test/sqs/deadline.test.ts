import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLambdaRuntime } from '../../local/lambda/index.js';
import type { LocalSqs } from '../../local/sqs/index.js';
import { limitConcurrency, limitRecordConcurrency } from '../../sqs/index.js';
import { createQueueWithDlq, drain, eventually, sharedSqs, sqsClient } from '../local/sqs/sqs-test-kit.js';
import { freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { sleep } from './throttle-kit.js';

// The scenario: K = 1, ten messages of one key in one batch, a 450 ms handler and a
// 2 s function timeout, maxReceiveCount 3. Before the deadline margin, m0-m3 ran three times
// each, m4-m9 never, and all ten ended in the dead-letter queue.

let sqs: LocalSqs;
let client: SQSClient;
let runtime: LocalLambdaRuntime;
let tableName: string;

beforeAll(async () => {
  ({ sqs } = await sharedSqs());
  client = sqsClient(sqs.endpoint);
  runtime = new LocalLambdaRuntime({ logger: () => {} });
  tableName = await freshLockTable('sqs_deadline');
});

afterAll(async () => {
  await runtime.stop();
  client.destroy();
});

type Wrap = 'limitConcurrency' | 'limitRecordConcurrency';

async function tenInOneBatch(wrap: Wrap) {
  const key = uniqueResource('deadline');
  const queue = await createQueueWithDlq(client, `deadline-${wrap}`, 3, { VisibilityTimeout: '4' });
  const runs = new Map<string, number>();
  const recordHandler = async (record: { body: string }) => {
    runs.set(record.body, (runs.get(record.body) ?? 0) + 1);
    await sleep(450);
  };
  const options = {
    key: () => key,
    concurrency: 1,
    tableName,
    sqsClient: client,
    logger: recordingLogger(),
    backoff: { baseSeconds: 1, capSeconds: 1 },
  };
  const name = `deadline-${wrap}-${key}`;
  const throttled = limitRecordConcurrency(recordHandler, options);
  const processor = new BatchProcessor(EventType.SQS);
  runtime.register({
    name,
    timeoutSeconds: 2,
    handler:
      wrap === 'limitConcurrency'
        ? limitConcurrency(recordHandler, options)
        : (event, context) => processPartialResponse(event, throttled, processor, { context }),
  });
  const bodies = Array.from({ length: 10 }, (_, index) => `m${index}`);
  await client.send(
    new SendMessageBatchCommand({
      QueueUrl: queue.url,
      Entries: bodies.map((body, index) => ({ Id: String(index), MessageBody: body })),
    }),
  );
  runtime.addSqsEventSource({
    functionName: name,
    queueUrl: queue.url,
    sqsEndpoint: sqs.endpoint,
    batchSize: 10,
    maxConcurrency: 2,
  });
  const dead: string[] = [];
  await eventually(async () => {
    dead.push(...(await drain(client, queue.dlqUrl)).map((message) => message.Body ?? ''));
    return bodies.every((body) => runs.has(body)) || dead.length > 0;
  }, 40_000);
  await sleep(1_000);
  return { runs, dead, bodies };
}

describe('a batch and its deadline', () => {
  for (const wrap of ['limitConcurrency', 'limitRecordConcurrency'] as const) {
    it(`${wrap}: starts no record it cannot finish before the timeout; the rest are re-queued in time`, async () => {
      const { runs, dead, bodies } = await tenInOneBatch(wrap);
      expect(dead).toEqual([]);
      expect(Object.fromEntries(runs)).toEqual(Object.fromEntries(bodies.map((body) => [body, 1])));
    }, 60_000);
  }
});

import { createHash } from 'node:crypto';
import {
  DeleteQueueCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalLambdaRuntime } from '../../../local/lambda/index.js';
import { type LocalSqs, startLocalSqs } from '../../../local/sqs/index.js';
import {
  createQueue,
  createQueueWithDlq,
  drain,
  eventually,
  queueName,
  sharedSqs,
  sqsClient,
} from '../sqs/sqs-test-kit.js';

let sqs: LocalSqs;
let client: SQSClient;
let runtime: LocalLambdaRuntime;
let lines: string[];

beforeAll(async () => {
  ({ sqs, client } = await sharedSqs());
});

afterEach(async () => {
  await runtime?.stop();
});

function newRuntime(): LocalLambdaRuntime {
  lines = [];
  runtime = new LocalLambdaRuntime({ logger: (line) => lines.push(line) });
  return runtime;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function sendBodies(url: string, bodies: string[]): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    const Entries = bodies
      .slice(start, start + 10)
      .map((body, index) => ({ Id: String(index), MessageBody: body }));
    await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }));
  }
}

describe('SQS event source mapping', () => {
  it('builds a real SQSEvent', async () => {
    const { url, arn } = await createQueue(client, queueName('shape'));
    const events: SQSEvent[] = [];
    newRuntime().register({ name: 'shape', handler: async (event: SQSEvent) => void events.push(event) });
    runtime.addSqsEventSource({ functionName: 'shape', queueUrl: url, sqsEndpoint: sqs.endpoint });
    await client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: '{"resourceId":"r"}',
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'retry' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from('hi') },
        },
      }),
    );
    await eventually(() => events.length === 1);
    const record = events[0]?.Records[0] as SQSRecord;
    expect(record).toMatchObject({
      body: '{"resourceId":"r"}',
      md5OfBody: createHash('md5').update('{"resourceId":"r"}').digest('hex'),
      md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: 'aws:sqs',
      eventSourceARN: arn,
      awsRegion: 'us-east-1',
      messageAttributes: {
        kind: { stringValue: 'retry', stringListValues: [], binaryListValues: [], dataType: 'String' },
        blob: {
          binaryValue: Buffer.from('hi').toString('base64'),
          stringListValues: [],
          binaryListValues: [],
          dataType: 'Binary',
        },
      },
    });
    expect(record.attributes).toMatchObject({
      ApproximateReceiveCount: '1',
      SentTimestamp: expect.stringMatching(/^\d{13}$/),
      ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      SenderId: expect.any(String),
    });
    expect(record.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(record.receiptHandle.length).toBeGreaterThan(10);
  });

  it('deletes what succeeded once, and leaves reported failures to the queue until its DLQ takes them', async () => {
    const { url, dlqUrl } = await createQueueWithDlq(client, 'partial', 2, { VisibilityTimeout: '1' });
    const seen = new Map<string, number>();
    newRuntime().register({
      name: 'partial',
      handler: async (event: SQSEvent): Promise<SQSBatchResponse> => {
        for (const record of event.Records) seen.set(record.body, (seen.get(record.body) ?? 0) + 1);
        const failed = event.Records.filter((record) => record.body.startsWith('bad'));
        return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) };
      },
    });
    runtime.addSqsEventSource({ functionName: 'partial', queueUrl: url, sqsEndpoint: sqs.endpoint });
    await sendBodies(url, ['ok-1', 'bad-1', 'ok-2', 'ok-3', 'bad-2', 'ok-4']);
    let dead: string[] = [];
    await eventually(async () => {
      dead.push(...(await drain(client, dlqUrl)).map((message) => message.Body ?? ''));
      return dead.length === 2;
    });
    await sleep(1500); // one more visibility timeout: nothing may come back
    dead = dead.sort();
    expect(dead).toEqual(['bad-1', 'bad-2']);
    expect(Object.fromEntries(seen)).toEqual({
      'ok-1': 1,
      'ok-2': 1,
      'ok-3': 1,
      'ok-4': 1,
      'bad-1': 2,
      'bad-2': 2,
    });
    expect(await drain(client, url)).toHaveLength(0);
  });

  it('deletes nothing when the handler throws: the whole batch comes back', async () => {
    const { url, dlqUrl } = await createQueueWithDlq(client, 'throws', 3, { VisibilityTimeout: '1' });
    const attempts: Array<{ ids: string[]; receiveCounts: string[] }> = [];
    newRuntime().register({
      name: 'flaky',
      handler: async (event: SQSEvent) => {
        attempts.push({
          ids: event.Records.map((record) => record.messageId).sort(),
          receiveCounts: event.Records.map((record) => record.attributes.ApproximateReceiveCount),
        });
        if (attempts.length === 1) throw new TypeError('first batch fails');
      },
    });
    await sendBodies(url, ['a', 'b', 'c']);
    runtime.addSqsEventSource({
      functionName: 'flaky',
      queueUrl: url,
      sqsEndpoint: sqs.endpoint,
      maxConcurrency: 1,
    });
    await eventually(() => attempts.length === 2, 5000);
    await sleep(1300);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]?.ids).toEqual(attempts[0]?.ids);
    expect(attempts[0]?.receiveCounts).toEqual(['1', '1', '1']);
    expect(attempts[1]?.receiveCounts).toEqual(['2', '2', '2']);
    expect(
      lines.filter((line) => line.includes('batch of 3 failed: TypeError: first batch fails')),
    ).toHaveLength(1);
    expect(await drain(client, dlqUrl)).toHaveLength(0);
  });

  it('treats an unknown itemIdentifier as a failed batch', async () => {
    const { url } = await createQueue(client, queueName('unknown-id'), { VisibilityTimeout: '1' });
    let calls = 0;
    newRuntime().register({
      name: 'unknown-id',
      handler: async () => (++calls === 1 ? { batchItemFailures: [{ itemIdentifier: 'no-such-id' }] } : {}),
    });
    runtime.addSqsEventSource({ functionName: 'unknown-id', queueUrl: url, sqsEndpoint: sqs.endpoint });
    await sendBodies(url, ['x']);
    await eventually(() => calls === 2, 5000);
    expect(lines).toEqual([expect.stringContaining('itemIdentifier "no-such-id" is not in the batch')]);
  });

  it('respects the batch size', async () => {
    const { url } = await createQueue(client, queueName('batch-size'));
    const sizes: number[] = [];
    newRuntime().register({
      name: 'sizes',
      handler: async (event: SQSEvent) => void sizes.push(event.Records.length),
    });
    await sendBodies(
      url,
      Array.from({ length: 25 }, (_, index) => `m${index}`),
    );
    runtime.addSqsEventSource({
      functionName: 'sizes',
      queueUrl: url,
      sqsEndpoint: sqs.endpoint,
      batchSize: 4,
    });
    await eventually(() => sizes.reduce((sum, size) => sum + size, 0) === 25);
    expect(Math.max(...sizes)).toBe(4);
  });

  it('gathers a batch during the batching window', async () => {
    const { url } = await createQueue(client, queueName('window'));
    const sizes: number[] = [];
    newRuntime().register({
      name: 'window',
      handler: async (event: SQSEvent) => void sizes.push(event.Records.length),
    });
    runtime.addSqsEventSource({
      functionName: 'window',
      queueUrl: url,
      sqsEndpoint: sqs.endpoint,
      maximumBatchingWindowSeconds: 1,
    });
    await sleep(100);
    for (const body of ['a', 'b', 'c']) {
      await sendBodies(url, [body]);
      await sleep(200);
    }
    await eventually(() => sizes.length > 0, 3000);
    await sleep(200);
    expect(sizes).toEqual([3]);
  });

  it('keeps at most maxConcurrency batches in flight', async () => {
    const { url } = await createQueue(client, queueName('concurrency'));
    let inFlight = 0;
    let maxInFlight = 0;
    let done = 0;
    newRuntime().register({
      name: 'slow',
      handler: async () => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await sleep(100);
        inFlight--;
        done++;
      },
    });
    await sendBodies(
      url,
      Array.from({ length: 12 }, (_, index) => `m${index}`),
    );
    runtime.addSqsEventSource({
      functionName: 'slow',
      queueUrl: url,
      sqsEndpoint: sqs.endpoint,
      batchSize: 1,
      maxConcurrency: 3,
    });
    await eventually(() => done === 12);
    expect(maxInFlight).toBe(3);
  });

  it('stop() returns at once while the poller is in a long poll, and leaves later messages alone', async () => {
    const { url } = await createQueue(client, queueName('stop'), { VisibilityTimeout: '30' });
    let calls = 0;
    newRuntime().register({ name: 'idle', handler: async () => void calls++ });
    const mapping = runtime.addSqsEventSource({
      functionName: 'idle',
      queueUrl: url,
      sqsEndpoint: sqs.endpoint,
    });
    await sleep(300);
    const started = Date.now();
    await mapping.stop();
    expect(Date.now() - started).toBeLessThan(200);
    // The server notices the hang-up at the end of its current ~40 ms receive slice.
    await sleep(100);
    await sendBodies(url, ['after stop']);
    await sleep(200);
    expect(calls).toBe(0);
    expect((await drain(client, url)).map((message) => message.Body)).toEqual(['after stop']);
  });

  it('survives a deleted queue: one log line, back-off, and polling again once it is back', async () => {
    const name = queueName('deleted');
    const { url } = await createQueue(client, name);
    const bodies: string[] = [];
    newRuntime().register({
      name: 'survivor',
      handler: async (event: SQSEvent) => void bodies.push(...event.Records.map((record) => record.body)),
    });
    runtime.addSqsEventSource({ functionName: 'survivor', queueUrl: url, sqsEndpoint: sqs.endpoint });
    await sleep(100);
    await client.send(new DeleteQueueCommand({ QueueUrl: url }));
    await eventually(() => lines.length > 0, 3000);
    await sleep(800);
    expect(lines).toEqual([
      expect.stringMatching(/^sqs deleted-\w+ -> survivor: poll failed, backing off: QueueDoesNotExist/),
    ]);
    await createQueue(client, name);
    await sendBodies(url, ['back']);
    await eventually(() => bodies.length === 1, 8000);
    expect(lines.at(-1)).toMatch(/polling again$/);
  });

  it('survives a stopped server, and its runtime still stops promptly', async () => {
    const own = await startLocalSqs();
    const ownClient = sqsClient(own.endpoint);
    const { url } = await createQueue(ownClient, 'gone');
    ownClient.destroy();
    newRuntime().register({ name: 'orphan', handler: async () => {} });
    runtime.addSqsEventSource({ functionName: 'orphan', queueUrl: url, sqsEndpoint: own.endpoint });
    await sleep(100);
    await own.stop();
    await eventually(() => lines.length > 0, 5000);
    expect(lines[0]).toMatch(/poll failed, backing off/);
    const started = Date.now();
    await runtime.stop();
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('refuses a mapping for an unknown function or a bad batch size', () => {
    newRuntime().register({ name: 'known', handler: async () => {} });
    expect(() => runtime.addSqsEventSource({ functionName: 'unknown', queueUrl: 'http://x/1/q' })).toThrow(
      expect.objectContaining({ name: 'ResourceNotFoundException' }),
    );
    expect(() =>
      runtime.addSqsEventSource({ functionName: 'known', queueUrl: 'http://x/1/q', batchSize: 11 }),
    ).toThrow(/maximumBatchingWindowSeconds/);
    expect(() =>
      runtime.addSqsEventSource({
        functionName: 'known',
        queueUrl: 'http://x/1/q.fifo',
        batchSize: 20,
        maximumBatchingWindowSeconds: 1,
      }),
    ).toThrow(/1\.\.10/);
  });
});

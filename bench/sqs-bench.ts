import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createLockTable } from '../core/create-tables.js';
import { countRequests } from '../local/count-requests.js';
import { type LocalHandler, LocalLambdaRuntime } from '../local/lambda/index.js';
import { startLocalSqs } from '../local/sqs/index.js';
import { type ConcurrencyLimitOptions, limitConcurrency } from '../sqs/index.js';
import type { BenchRow } from './core-bench.js';
import { countingDynamoDbClient } from './measure.js';

/** Batches in flight per queue, as a mapping with maximum concurrency 5 would run them. */
const mappingConcurrency = 5;
/** How long one case may take before it is reported as unfinished. */
const caseTimeoutMs = 120_000;

/**
 * The SQS throttle against the same ~0 ms handler without it, in one run: each case fills its
 * own local queue with the same number of messages and times an event source mapping (batch
 * size 10, 5 batches in flight) draining it. Extra requests are counted on the throttle's own
 * clients: DynamoDB writes and reads, and SQS requests (re-queues, deletes, look-ups); the
 * mapping's own receives and deletes are the same with or without it and are not counted.
 *
 * @example
 * const rows = await runSqsBench({ dynamodb: 'http://127.0.0.1:8000' }, 4, console.error);
 */
export async function runSqsBench(
  endpoints: { dynamodb: string },
  seconds: number,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const sqs = await startLocalSqs();
  const runtime = new LocalLambdaRuntime({ logger: () => {} });
  const dynamo = countingDynamoDbClient(endpoints.dynamodb);
  const client = new SQSClient({
    region: 'us-east-1',
    endpoint: sqs.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const throttleSqs = new SQSClient({
    region: 'us-east-1',
    endpoint: sqs.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const sqsRequests = countRequests(throttleSqs).total;
  const { writes, reads } = dynamo;
  const tableName = `dynamo_dlm_sqs_bench_${process.pid}`;
  await createLockTable(dynamo.client, tableName);
  // Enough messages for the baseline to run about `seconds`, at the local mapping's pace.
  const messages = Math.max(100, Math.round(seconds * 150));
  let caseNumber = 0;

  /** Fills a queue, then times a mapping draining it through `handler`. */
  const drain = async (
    label: string,
    handler: LocalHandler,
    handled: () => number,
  ): Promise<{ perSecond: number; finished: boolean; writes: number; reads: number; requests: number }> => {
    const name = `sqs-bench-${process.pid}-${caseNumber++}`;
    const { QueueUrl = '' } = await client.send(
      new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '30' } }),
    );
    for (let start = 0; start < messages; start += 10) {
      const entries = Array.from({ length: Math.min(10, messages - start) }, (_, index) => ({
        Id: String(index),
        MessageBody: JSON.stringify({ n: start + index }),
      }));
      await client.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));
    }
    const before = { writes: writes(), reads: reads(), requests: sqsRequests() };
    runtime.register({ name, handler, timeoutSeconds: 30 });
    const started = performance.now();
    const mapping = runtime.addSqsEventSource({
      functionName: name,
      queueUrl: QueueUrl,
      sqsEndpoint: sqs.endpoint,
      batchSize: 10,
      maxConcurrency: mappingConcurrency,
    });
    while (handled() < messages && performance.now() - started < caseTimeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const elapsedMs = performance.now() - started;
    await mapping.stop();
    const done = handled();
    log(`${label}: ${done}/${messages} messages in ${Math.round(elapsedMs)} ms`);
    return {
      perSecond: (done * 1000) / elapsedMs,
      finished: done >= messages,
      writes: (writes() - before.writes) / done,
      reads: (reads() - before.reads) / done,
      requests: (sqsRequests() - before.requests) / done,
    };
  };

  const throttled = (
    options: Pick<ConcurrencyLimitOptions, 'key' | 'concurrency'> & Partial<ConcurrencyLimitOptions>,
  ) => {
    let handled = 0;
    const handler = limitConcurrency(
      async () => {
        handled++;
      },
      {
        tableName,
        dynamoDbClient: dynamo.client,
        sqsClient: throttleSqs,
        backoff: { baseSeconds: 1, capSeconds: 2 },
        ...options,
      },
    );
    return { handler, handled: () => handled };
  };

  try {
    let baselineHandled = 0;
    const baseline = await drain(
      'without the throttle',
      async (event: SQSEvent) => {
        baselineHandled += event.Records.length;
        return { batchItemFailures: [] };
      },
      () => baselineHandled,
    );
    const spread = throttled({
      key: (record) => `bench-${Number(JSON.parse(record.body).n) % 50}`,
      concurrency: 10,
    });
    const free = await drain('throttle, 50 keys of 10 slots (uncontended)', spread.handler, spread.handled);
    const hot = throttled({ key: () => 'bench-hot', concurrency: 2 });
    const contended = await drain('throttle, one key of 2 slots (contended)', hot.handler, hot.handled);
    const unfinished = (run: { finished: boolean }) => (run.finished ? {} : { note: 'timed out; partial' });
    return [
      {
        case: 'sqs: without throttle',
        value: baseline.perSecond,
        unit: 'msg/s',
        note: `${messages} msgs, ~0 ms handler`,
      },
      { case: 'sqs: throttle, uncontended', value: free.perSecond, unit: 'msg/s', ...unfinished(free) },
      { case: 'sqs: throttle / without', value: free.perSecond / baseline.perSecond, unit: 'ratio' },
      {
        case: 'sqs: uncontended DynamoDB writes',
        value: free.writes,
        unit: 'per msg',
        note: `${free.reads.toFixed(2)} reads`,
      },
      { case: 'sqs: uncontended extra SQS requests', value: free.requests, unit: 'per msg' },
      {
        case: 'sqs: throttle, contended (limit 2)',
        value: contended.perSecond,
        unit: 'msg/s',
        ...unfinished(contended),
      },
      {
        case: 'sqs: contended DynamoDB writes',
        value: contended.writes,
        unit: 'per msg',
        note: `${contended.reads.toFixed(2)} reads`,
      },
      {
        case: 'sqs: contended extra SQS requests',
        value: contended.requests,
        unit: 'per msg',
        note: 're-queue + delete',
      },
    ];
  } finally {
    await runtime.stop();
    client.destroy();
    throttleSqs.destroy();
    dynamo.client.destroy();
    await sqs.stop();
  }
}

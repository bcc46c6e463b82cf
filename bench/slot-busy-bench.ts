import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createLockTable } from '../core/create-tables.js';
import { countRequests } from '../local/count-requests.js';
import { LocalLambdaRuntime } from '../local/lambda/index.js';
import { startLocalSqs } from '../local/sqs/index.js';
import { limitConcurrency } from '../sqs/index.js';
import type { BenchRow } from './core-bench.js';
import { countingDynamoDbClient } from './measure.js';

/** The issue's backlog: two standard queues of 60 messages on one key, a 25 ms handler, mappings at 4. */
const perQueue = 60;
const handlerMs = 25;
const mappingConcurrency = 4;
const caseTimeoutMs = 180_000;

/**
 * How busy a contended key's slots are while a backlog waits: the handler time spent on the key
 * divided by the limit times the time from the first start to the last end. Also messages per
 * second and the throttle's costs per message: DynamoDB writes and reads on its own client, SQS
 * requests on its own client (re-queues, deletes, look-ups; the mapping's receives and deletes
 * are not counted), and invocations per message.
 *
 * @example
 * const rows = await runSlotBusyBench('http://127.0.0.1:8000', console.error);
 */
export async function runSlotBusyBench(
  dynamodbEndpoint: string,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const sqs = await startLocalSqs();
  const runtime = new LocalLambdaRuntime({ logger: () => {} });
  const dynamo = countingDynamoDbClient(dynamodbEndpoint);
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const client = new SQSClient({ region: 'us-east-1', endpoint: sqs.endpoint, credentials });
  const throttleSqs = new SQSClient({ region: 'us-east-1', endpoint: sqs.endpoint, credentials });
  const sqsRequests = countRequests(throttleSqs).total;
  const tableName = `dynamo_dlm_slot_bench_${process.pid}`;
  await createLockTable(dynamo.client, tableName);
  let caseNumber = 0;

  const runCase = async (limit: number) => {
    const key = `slot-bench-${caseNumber}`;
    let handled = 0;
    let busyMs = 0;
    let firstStart = Number.POSITIVE_INFINITY;
    let lastEnd = 0;
    let invocations = 0;
    const throttled = limitConcurrency(
      async () => {
        const start = performance.now();
        firstStart = Math.min(firstStart, start);
        await new Promise((resolve) => setTimeout(resolve, handlerMs));
        const end = performance.now();
        busyMs += end - start;
        lastEnd = Math.max(lastEnd, end);
        handled++;
      },
      {
        key: () => key,
        concurrency: limit,
        tableName,
        dynamoDbClient: dynamo.client,
        sqsClient: throttleSqs,
        logger: { warn: () => {} },
      },
    );
    const handler = (event: SQSEvent, context: Parameters<typeof throttled>[1]) => {
      invocations++;
      return throttled(event, context);
    };
    const before = { writes: dynamo.writes(), reads: dynamo.reads(), requests: sqsRequests() };
    const mappings = [];
    for (const side of ['a', 'b']) {
      const name = `slot-bench-${process.pid}-${caseNumber}-${side}`;
      const { QueueUrl = '' } = await client.send(
        new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '30' } }),
      );
      for (let start = 0; start < perQueue; start += 10) {
        await client.send(
          new SendMessageBatchCommand({
            QueueUrl,
            Entries: Array.from({ length: 10 }, (_, index) => ({
              Id: String(index),
              MessageBody: `${side}-${start + index}`,
            })),
          }),
        );
      }
      runtime.register({ name, handler, timeoutSeconds: 30 });
      mappings.push({ name, QueueUrl });
    }
    const started = performance.now();
    const handles = mappings.map(({ name, QueueUrl }) =>
      runtime.addSqsEventSource({
        functionName: name,
        queueUrl: QueueUrl,
        sqsEndpoint: sqs.endpoint,
        batchSize: 10,
        maxConcurrency: mappingConcurrency,
      }),
    );
    const total = perQueue * 2;
    while (handled < total && performance.now() - started < caseTimeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const elapsedMs = performance.now() - started;
    for (const handle of handles) await handle.stop();
    caseNumber++;
    const spanMs = Math.max(1, lastEnd - firstStart);
    const done = Math.max(1, handled);
    log(`slot busy, limit ${limit}: ${handled}/${total} messages in ${Math.round(elapsedMs)} ms`);
    return {
      busy: busyMs / (limit * spanMs),
      perSecond: (handled * 1000) / elapsedMs,
      writes: (dynamo.writes() - before.writes) / done,
      reads: (dynamo.reads() - before.reads) / done,
      requests: (sqsRequests() - before.requests) / done,
      invocations: invocations / done,
      finished: handled >= total,
    };
  };

  try {
    const rows: BenchRow[] = [];
    for (const limit of [1, 5]) {
      const result = await runCase(limit);
      const note = result.finished ? undefined : 'timed out; partial';
      rows.push(
        {
          case: `sqs backlog, limit ${limit}: slot busy share`,
          value: result.busy,
          unit: 'ratio',
          note: `2 queues x ${perQueue}, ${handlerMs} ms handler${note ? `; ${note}` : ''}`,
        },
        { case: `sqs backlog, limit ${limit}: throughput`, value: result.perSecond, unit: 'msg/s' },
        {
          case: `sqs backlog, limit ${limit}: DynamoDB writes`,
          value: result.writes,
          unit: 'per msg',
          note: `${result.reads.toFixed(2)} reads`,
        },
        {
          case: `sqs backlog, limit ${limit}: SQS requests`,
          value: result.requests,
          unit: 'per msg',
          note: `${result.invocations.toFixed(2)} invocations per msg`,
        },
      );
    }
    return rows;
  } finally {
    await runtime.stop();
    client.destroy();
    throttleSqs.destroy();
    dynamo.client.destroy();
    await sqs.stop();
  }
}

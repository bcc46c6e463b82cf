import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLock } from '../../core/index.js';
import { rateKey } from '../../core/rate.js';
import { LocalLambdaRuntime } from '../../local/lambda/index.js';
import type { LocalSqs } from '../../local/sqs/index.js';
import { limitConcurrency, type ThrottleOptions, throttleAttempts } from '../../sqs/index.js';
import {
  createQueue,
  createQueueWithDlq,
  drain,
  eventually,
  queueName,
  sharedSqs,
  sqsClient,
} from '../local/sqs/sqs-test-kit.js';
import { countingClient } from '../support/command-counter.js';
import { dynamoDbClient, freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { countingSqsClient, lambdaContext, receiveRecords, sleep } from './throttle-kit.js';

/** Requests per message, by command: `TransactWriteItems 1.20, PutItem 2.00`. */
function perMessage(counts: Map<string, number>): string {
  return [...counts].map(([command, count]) => `${command} ${(count / messages).toFixed(2)}`).join(', ');
}

// Issue 20 on the SQS throttle: a key's start rate, checked in the same write as its slot, on
// real event source mappings (partial batch responses, re-queues with timers, a dead-letter
// queue after 2 receives) over local SQS, locks on DynamoDB Local.

let sqs: LocalSqs;
let client: SQSClient;
let runtime: LocalLambdaRuntime;
let tableName: string;
const ownClients: Array<{ destroy(): void }> = [];

beforeAll(async () => {
  ({ sqs } = await sharedSqs());
  client = sqsClient(sqs.endpoint);
  runtime = new LocalLambdaRuntime({ logger: () => {} });
  tableName = await freshLockTable('sqs_rate');
  // DynamoDB Local's first transactions on a table take a second or more: not this test's figures.
  const warm = new DynamoDbLock(uniqueResource('warm-up'), { tableName, client: dynamoDbClient(), rate });
  for (let round = 0; round < 3; round++) {
    await warm.acquire();
    await warm.release();
  }
});

afterAll(async () => {
  await runtime.stop();
  client.destroy();
  for (const own of ownClients) own.destroy();
});

const rate = { limit: 2, periodSeconds: 1, burst: 2 };
const messages = 20;

/**
 * The most starts in any window of one period less `slackMs`: GCRA allows at most
 * `limit + burst - 1` in a period, on the takers' clocks.
 */
function mostStartsInAPeriod(startsMs: number[], periodMs: number, slackMs: number): number {
  const sorted = [...startsMs].sort((a, b) => a - b);
  let most = 0;
  for (let first = 0, last = 0; last < sorted.length; last++) {
    while ((sorted[last] as number) - (sorted[first] as number) >= periodMs - slackMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/**
 * The moments (epoch ms, the taker's clock) of the starts the rate item counted: the `:nowUs` of
 * each rate update the table accepted, read off the client's requests; the longest such request
 * took, and the longest of any request. GCRA's bound holds on these moments exactly; a handler
 * starts once its counting request has come back (a parked record, after one write more: its
 * claim), so the handlers' own starts may crowd by up to those request times.
 */
function countedStarts(dynamo: ReturnType<typeof countingClient>): {
  moments: number[];
  slowestMs: number;
  slowestAnyMs: number;
} {
  const counted = { moments: [] as number[], slowestMs: 0, slowestAnyMs: 0 };
  const isRateItem = (key?: Record<string, { N?: string }>) => key?.concurrency_id?.N === String(rateKey);
  type Update = {
    Key?: Record<string, { N?: string }>;
    ExpressionAttributeValues?: Record<string, { N?: string }>;
  };
  dynamo.client.middlewareStack.add(
    (next) => async (args) => {
      const input = (args as { input: Update & { TransactItems?: Array<{ Update?: Update }> } }).input;
      const update = isRateItem(input.Key)
        ? input
        : input.TransactItems?.map((item) => item.Update).find((item) => isRateItem(item?.Key));
      const sentMs = Date.now();
      const result = await next(args);
      counted.slowestAnyMs = Math.max(counted.slowestAnyMs, Date.now() - sentMs);
      const nowUs = update?.ExpressionAttributeValues?.[':nowUs']?.N;
      if (nowUs !== undefined) {
        counted.moments.push(Number(nowUs) / 1000);
        counted.slowestMs = Math.max(counted.slowestMs, Date.now() - Number(nowUs) / 1000);
      }
      return result;
    },
    { step: 'initialize', name: 'countedStarts' },
  );
  return counted;
}

/** Twenty messages of one key through a mapping of the throttle; what the handler saw. */
async function throughQueue(name: string, throttle: Partial<ThrottleOptions>) {
  const key = uniqueResource(name);
  const queue = await createQueueWithDlq(client, `rate-${name}`, 2, { VisibilityTimeout: '20' });
  const startsMs: number[] = [];
  const runs = new Map<string, number>();
  let requeuedBefore = 0;
  let running = 0;
  let mostRunning = 0;
  const dynamo = countingClient();
  const throttleSqs = countingSqsClient(sqs.endpoint);
  ownClients.push(throttleSqs.client, dynamo.client);
  const counted = countedStarts(dynamo);
  let deliveries = 0;
  const logger = recordingLogger();
  const throttled = limitConcurrency(
    async (record: SQSRecord) => {
      startsMs.push(Date.now());
      runs.set(record.body, (runs.get(record.body) ?? 0) + 1);
      if (throttleAttempts(record) > 0) requeuedBefore++;
      mostRunning = Math.max(mostRunning, ++running);
      try {
        await sleep(50);
      } finally {
        running--;
      }
    },
    {
      key: () => key,
      tableName,
      dynamoDbClient: dynamo.client,
      sqsClient: throttleSqs.client,
      logger,
      leaseSeconds: 10,
      ...throttle,
    } as ThrottleOptions as never,
  );
  runtime.register({
    name: `rate-${name}-${key}`,
    timeoutSeconds: 30,
    handler: (event: SQSEvent, context: Context) => {
      deliveries += event.Records.length;
      return throttled(event, context);
    },
  });
  runtime.addSqsEventSource({
    functionName: `rate-${name}-${key}`,
    queueUrl: queue.url,
    sqsEndpoint: sqs.endpoint,
    batchSize: 10,
    maxConcurrency: 3,
  });
  const bodies = Array.from({ length: messages }, (_, index) => `${name}-${index}`);
  for (let start = 0; start < bodies.length; start += 10) {
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: bodies
          .slice(start, start + 10)
          .map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
  }
  await eventually(() => runs.size === messages, 60_000);
  await sleep(1_500); // anything delivered twice would show up by now
  const first = Math.min(...startsMs);
  const last = Math.max(...startsMs);
  const perSecond = ((startsMs.length - 1) * 1000) / (last - first);
  console.log(
    `${name}: ${startsMs.length} starts in ${((last - first) / 1000).toFixed(1)} s: ${perSecond.toFixed(2)} starts/s ` +
      `(limit ${rate.limit}/s, burst ${rate.burst}); at most ${mostStartsInAPeriod(startsMs, 1000, 0)} handler starts ` +
      `and ${mostStartsInAPeriod(counted.moments, 1000, 0)} counted starts in a period; ${counted.moments.length} starts counted, ` +
      `the slowest counted in ${counted.slowestMs.toFixed(0)} ms (any request: ${counted.slowestAnyMs.toFixed(0)} ms); ` +
      `${requeuedBefore} runs of re-queued copies; per message ${(deliveries / messages).toFixed(2)} deliveries, ` +
      `${(dynamo.writes() / messages).toFixed(2)} DynamoDB writes (${perMessage(dynamo.counts)}), ` +
      `${(throttleSqs.total() / messages).toFixed(2)} SQS requests (${perMessage(throttleSqs.counts)}), ` +
      `${(((dynamo.counts.get('Query') ?? 0) + (dynamo.counts.get('GetItem') ?? 0)) / messages).toFixed(2)} reads`,
  );
  return {
    startsMs,
    counted,
    runs,
    requeuedBefore,
    mostRunning,
    perSecond,
    logger,
    deadLetters: await drain(client, queue.dlqUrl),
    left: await drain(client, queue.url),
  };
}

/**
 * The bound on the counted starts exactly; on the handler's starts in windows shorter by the
 * slowest counting request, the slowest other one and 50 ms of scheduling; a counted start for
 * every handler start.
 */
function expectWithinRate(seen: {
  startsMs: number[];
  counted: { moments: number[]; slowestMs: number; slowestAnyMs: number };
}): void {
  const most = rate.limit + rate.burst - 1;
  const lagMs = seen.counted.slowestMs + seen.counted.slowestAnyMs + 50;
  expect(mostStartsInAPeriod(seen.counted.moments, 1000, 0)).toBeLessThanOrEqual(most);
  expect(mostStartsInAPeriod(seen.startsMs, 1000, lagMs)).toBeLessThanOrEqual(most);
  expect(seen.counted.moments.length).toBeGreaterThanOrEqual(seen.startsMs.length);
}

describe('limitConcurrency with a rate, on the local AWS', () => {
  it('starts at most limit + burst - 1 records of a key per period, none dead-lettered because of it, all handled once', async () => {
    const seen = await throughQueue('slots', { concurrency: 5, rate });
    expectWithinRate(seen);
    expect(seen.mostRunning).toBeLessThanOrEqual(5);
    // The rate held records back, and their re-queued copies ran.
    expect(seen.requeuedBefore).toBeGreaterThan(0);
    expect([...seen.runs.values()].every((count) => count === 1)).toBe(true);
    expect(seen.deadLetters).toEqual([]);
    expect(seen.left).toEqual([]);
    // Not much below the limit either: the timers are set to the rate's moments.
    expect(seen.perSecond).toBeGreaterThan(rate.limit * 0.6);
    expect(seen.perSecond).toBeLessThan(rate.limit * 1.3);
    expect(seen.logger.lines.filter((line) => !line.includes('no attempt counter'))).toEqual([]);
  }, 90_000);

  it('rate-only (no concurrency): the same bound, no slot taken', async () => {
    const seen = await throughQueue('rate-only', { rate });
    expectWithinRate(seen);
    expect(seen.requeuedBefore).toBeGreaterThan(0);
    expect([...seen.runs.values()].every((count) => count === 1)).toBe(true);
    expect(seen.deadLetters).toEqual([]);
    expect(seen.left).toEqual([]);
    expect(seen.perSecond).toBeGreaterThan(rate.limit * 0.6);
    expect(seen.perSecond).toBeLessThan(rate.limit * 1.3);
    expect(seen.logger.lines.filter((line) => !line.includes('no attempt counter'))).toEqual([]);
  }, 90_000);

  it('costs, uncontended: a transaction of the slot and the rate item per record, the release per lease; rate-only one update', async () => {
    // An hour's budget of 100 starts, none used yet: open, and busy after the first start, so
    // every update's form is guessed right (a wrong guess costs one refused transaction more).
    const open = { limit: 100, periodSeconds: 3600, burst: 100 };
    /** One batch of ten records on five keys, received from a queue: its DynamoDB requests. */
    const cost = async (throttle: Partial<ThrottleOptions>) => {
      const prefix = uniqueResource('open');
      const { url, arn } = await createQueue(client, queueName('rate-cost'), { VisibilityTimeout: '30' });
      const bodies = Array.from({ length: 10 }, (_, index) => `${prefix}${index % 5}#${index}`);
      await client.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: bodies.map((body, index) => ({ Id: String(index), MessageBody: body })),
        }),
      );
      const records = await receiveRecords(client, url, arn, bodies.length);
      const dynamo = countingClient();
      ownClients.push(dynamo.client);
      const handler = limitConcurrency(async () => {}, {
        key: (record: SQSRecord) => record.body.split('#')[0] ?? '',
        tableName,
        dynamoDbClient: dynamo.client,
        sqsClient: client,
        logger: recordingLogger(),
        ...throttle,
      } as ThrottleOptions as never);
      expect(await handler({ Records: records }, lambdaContext())).toEqual({ batchItemFailures: [] });
      return Object.fromEntries(dynamo.counts);
    };
    // K = 1: the two records of a key share one lease; the first record's start is counted with
    // its take, the second's with a write to the held slot. The limits are read and recorded
    // (first use of the keys: a get and a put each); the release is one put per lease.
    expect(await cost({ concurrency: 1, rate: open })).toEqual({
      GetItem: 5,
      PutItem: 5 + 5,
      TransactWriteItems: 10,
    });
    // A rate alone: one conditional update of the rate item per record, nothing else. One record
    // at a time: two first starts of an unused key at once guess the update's form alike, and
    // one of them costs a refused update more.
    expect(await cost({ rate: open, parallelism: 1 })).toEqual({ UpdateItem: 10 });
  });
});

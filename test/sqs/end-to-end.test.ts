import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLambdaRuntime } from '../../local/lambda/index.js';
import type { LocalSqs } from '../../local/sqs/index.js';
import { type ConcurrencyLimitOptions, limitConcurrency, throttleAttempts } from '../../sqs/index.js';
import { createQueueWithDlq, drain, eventually, sharedSqs, sqsClient } from '../local/sqs/sqs-test-kit.js';
import { freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { sleep } from './throttle-kit.js';

// The scenario on the local AWS: real event source mappings (partial batch responses,
// visibility timeouts, redrive to the dead-letter queue) over local SQS, locks on DynamoDB Local.

let sqs: LocalSqs;
let client: SQSClient;
let runtime: LocalLambdaRuntime;
let tableName: string;

beforeAll(async () => {
  ({ sqs } = await sharedSqs());
  client = sqsClient(sqs.endpoint);
  runtime = new LocalLambdaRuntime({ logger: () => {} });
  tableName = await freshLockTable('sqs_e2e');
});

afterAll(async () => {
  await runtime.stop();
  client.destroy();
});

interface Job {
  id: string;
  key: string;
  fail?: 'always' | 'once';
  group?: string;
  seq?: number;
}

async function sendAll(url: string, jobs: Job[]): Promise<void> {
  for (let start = 0; start < jobs.length; start += 10) {
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: jobs.slice(start, start + 10).map((job, index) => ({
          Id: String(index),
          MessageBody: JSON.stringify(job),
          ...(job.group !== undefined && { MessageGroupId: job.group }),
        })),
      }),
    );
  }
}

/** What the handler itself saw: completions, keys over their limit, groups out of order. */
function observer(limitOf: (key: string) => number) {
  const running = new Map<string, number>();
  const completed = new Map<string, number>();
  const failedOnce = new Set<string>();
  const overLimit: string[] = [];
  const outOfOrder: string[] = [];
  const lastSeq = new Map<string, number>();
  const stats = { throttledBefore: 0 };
  /** Every delivery of a job, to explain a duplicate: when, receive count, throttle attempts. */
  const deliveries = new Map<string, string[]>();
  const handle = async (record: SQSRecord): Promise<void> => {
    const job = JSON.parse(record.body) as Job;
    if (throttleAttempts(record) > 0) stats.throttledBefore++;
    const delivery = `${Date.now() % 100_000} rc=${record.attributes.ApproximateReceiveCount} attempt=${throttleAttempts(record)}`;
    deliveries.set(job.id, [...(deliveries.get(job.id) ?? []), delivery]);
    const now = (running.get(job.key) ?? 0) + 1;
    running.set(job.key, now);
    if (now > limitOf(job.key)) overLimit.push(`${job.key}: ${now}`);
    try {
      await sleep(50);
      if (job.fail === 'always' || (job.fail === 'once' && !failedOnce.has(job.id))) {
        failedOnce.add(job.id);
        throw new Error(`failed on purpose: ${job.id}`);
      }
      if (job.group !== undefined && job.seq !== undefined) {
        const expected = (lastSeq.get(job.group) ?? -1) + 1;
        if (job.seq !== expected) outOfOrder.push(`${job.group}: ${job.seq} after ${expected - 1}`);
        lastSeq.set(job.group, job.seq);
      }
      completed.set(job.id, (completed.get(job.id) ?? 0) + 1);
    } finally {
      running.set(job.key, (running.get(job.key) ?? 1) - 1);
    }
  };
  const duplicates = () =>
    [...completed]
      .filter(([, count]) => count > 1)
      .map(([id]) => `${id}: ${deliveries.get(id)?.join(' | ')}`);
  return { handle, completed, overLimit, outOfOrder, stats, duplicates };
}

function bodies(messages: Array<{ Body?: string }>): string[] {
  return messages.map((message) => (JSON.parse(message.Body ?? '{}') as Job).id).sort();
}

describe('limitConcurrency on the local AWS', () => {
  it('shares a limit of 3 across two queues and holds tenants to 1; nothing throttled is lost or dead-lettered', async () => {
    const shared = uniqueResource('partner-api');
    const tenant = uniqueResource('tenant');
    const limitOf = (key: string) => (key === shared ? 3 : 1);
    const seen = observer(limitOf);
    const logger = recordingLogger();
    const options: ConcurrencyLimitOptions = {
      key: (record) => (JSON.parse(record.body) as Job).key,
      concurrency: limitOf,
      leaseSeconds: 10,
      tableName,
      sqsClient: client,
      logger,
      backoff: { baseSeconds: 1, capSeconds: 3 },
    };
    const expectedDone: string[] = [];
    const deadLetters: string[] = [];
    const queues: Array<{ url: string; dlqUrl: string }> = [];
    for (const name of ['a', 'b']) {
      // A short visibility timeout so the failures on purpose reach the dead-letter queue soon.
      const queue = await createQueueWithDlq(client, `throttle-${name}`, 2, { VisibilityTimeout: '6' });
      queues.push(queue);
      const jobs: Job[] = Array.from({ length: 200 }, (_, index) => {
        const job: Job = {
          id: `${name}-${index}`,
          key: index % 2 === 0 ? shared : `${tenant}-${(index >> 1) % 5}`,
        };
        if (index % 50 === 7) job.fail = 'always';
        if (index % 50 === 13) job.fail = 'once';
        (job.fail === 'always' ? deadLetters : expectedDone).push(job.id);
        return job;
      });
      runtime.register({
        name: `throttled-${name}`,
        timeoutSeconds: 30,
        handler: limitConcurrency(seen.handle, options),
      });
      runtime.addSqsEventSource({
        functionName: `throttled-${name}`,
        queueUrl: queue.url,
        sqsEndpoint: sqs.endpoint,
        batchSize: 10,
        maxConcurrency: 3,
      });
      await sendAll(queue.url, jobs);
    }
    const dead: Array<{ Body?: string }> = [];
    await eventually(async () => {
      for (const queue of queues) dead.push(...(await drain(client, queue.dlqUrl)));
      return seen.completed.size === expectedDone.length && dead.length === deadLetters.length;
    }, 120_000);
    await sleep(1_500); // anything delivered twice would show up by now
    expect(seen.overLimit).toEqual([]);
    expect(seen.stats.throttledBefore).toBeGreaterThan(0); // re-queued copies did come back
    expect(seen.duplicates()).toEqual([]);
    expect([...seen.completed.keys()].sort()).toEqual(expectedDone.sort());
    expect(bodies(dead)).toEqual(deadLetters.sort());
    for (const queue of queues) expect(await drain(client, queue.url)).toEqual([]);
    // Besides copies of other releases, the throttle may itself move a failing line that reached
    // maxAttempts: the dead-letter queue's contents were checked above.
    const expected = ['no attempt counter', 'moved a message to the dead-letter queue after maxAttempts'];
    expect(logger.lines.filter((line) => !expected.some((part) => line.includes(part)))).toEqual([]);
  }, 150_000);

  it('keeps FIFO order per group while groups compete for per-partner limits of 1', async () => {
    const partner = uniqueResource('partner');
    const seen = observer(() => 1);
    // Each throttle of a FIFO message counts as a receive: generous maxReceiveCount.
    // The local mapping holds received messages of a busy group (its stand-in for SQS's group
    // lock) and starts one with as little as 250 ms of its visibility timeout left: a long
    // timeout keeps a held message from coming back while its batch runs. For the same reason
    // no failure on purpose here: it would block its group for a whole visibility timeout.
    const queue = await createQueueWithDlq(client, 'throttle-fifo', 50, {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
      VisibilityTimeout: '30',
    });
    const jobs: Job[] = [];
    for (let seq = 0; seq < 25; seq++) {
      for (let group = 0; group < 8; group++) {
        jobs.push({
          id: `g${group}-${seq}`,
          key: `${partner}-${(group + seq) % 3}`,
          group: `g${group}`,
          seq,
        });
      }
    }
    runtime.register({
      name: 'throttled-fifo',
      timeoutSeconds: 30,
      handler: limitConcurrency(seen.handle, {
        key: (record) => (JSON.parse(record.body) as Job).key,
        concurrency: 1,
        tableName,
        sqsClient: client,
        logger: recordingLogger(),
        // Below the visibility timeout: the local mapping presumes a message that stays away
        // longer than that moved to the dead-letter queue.
        backoff: { baseSeconds: 1, capSeconds: 2 },
      }),
    });
    runtime.addSqsEventSource({
      functionName: 'throttled-fifo',
      queueUrl: queue.url,
      sqsEndpoint: sqs.endpoint,
      batchSize: 10,
      maxConcurrency: 4,
    });
    await sendAll(queue.url, jobs);
    await eventually(() => seen.completed.size === jobs.length, 120_000);
    await sleep(1_500);
    expect(seen.overLimit).toEqual([]);
    expect(seen.stats.throttledBefore).toBeGreaterThan(0); // deferred records did come back
    expect(seen.outOfOrder).toEqual([]);
    expect(seen.duplicates()).toEqual([]);
    expect(await drain(client, queue.dlqUrl)).toEqual([]);
  }, 150_000);
});

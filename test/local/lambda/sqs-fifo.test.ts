import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalLambdaRuntime } from '../../../local/lambda/index.js';
import type { LocalSqs } from '../../../local/sqs/index.js';
import { createQueue, drain, eventually, queueName, sharedSqs } from '../sqs/sqs-test-kit.js';

let sqs: LocalSqs;
let client: SQSClient;
let runtime: LocalLambdaRuntime;

beforeAll(async () => {
  ({ sqs, client } = await sharedSqs());
});

afterEach(async () => {
  await runtime?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends a1..aN, b1..bN, c1..cN interleaved (a1, b1, c1, a2, ...) to a new FIFO queue. */
async function fifoQueueWith(perGroup: number): Promise<{ url: string; sent: Record<string, string[]> }> {
  const { url } = await createQueue(client, queueName('fifo', true), {
    FifoQueue: 'true',
    ContentBasedDeduplication: 'true',
    VisibilityTimeout: '1',
  });
  const sent: Record<string, string[]> = { a: [], b: [], c: [] };
  for (let index = 1; index <= perGroup; index++) {
    for (const group of ['a', 'b', 'c']) {
      const body = `${group}${index}`;
      sent[group]?.push(body);
      await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageGroupId: group }));
    }
  }
  return { url, sent };
}

/** A handler that records, per group, the bodies it completed, and any overlap of one group. */
function recorder(options: { failOnce?: string } = {}) {
  const done: Record<string, string[]> = { a: [], b: [], c: [] };
  const busy = new Set<string>();
  const overlaps: string[] = [];
  let failed = false;
  const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const groups = new Set(event.Records.map((record) => record.attributes.MessageGroupId ?? ''));
    for (const group of groups) {
      if (busy.has(group)) overlaps.push(group);
      busy.add(group);
    }
    await sleep(30);
    const failures: string[] = [];
    const failedGroups = new Set<string>();
    for (const record of event.Records) {
      const group = record.attributes.MessageGroupId ?? '';
      // As AWS asks of FIFO handlers: after a failure, report the rest of the group as failed too.
      if (failedGroups.has(group) || (record.body === options.failOnce && !failed)) {
        if (record.body === options.failOnce) failed = true;
        failedGroups.add(group);
        failures.push(record.messageId);
        continue;
      }
      done[group]?.push(record.body);
    }
    for (const group of groups) busy.delete(group);
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  };
  return { handler, done, overlaps };
}

describe('SQS event source mapping on a FIFO queue', () => {
  it('processes each group in order, never two batches of one group at once, groups in parallel', async () => {
    const { url, sent } = await fifoQueueWith(6);
    const { handler, done, overlaps } = recorder();
    runtime = new LocalLambdaRuntime({ logger: () => {} });
    runtime.register({ name: 'fifo', handler });
    runtime.addSqsEventSource({
      functionName: 'fifo',
      queueUrl: url,
      sqsEndpoint: sqs.endpoint,
      batchSize: 2,
      maxConcurrency: 3,
    });
    await eventually(() => Object.values(done).flat().length === 18);
    expect(done).toEqual(sent);
    expect(overlaps).toEqual([]);
    await sleep(1200); // a visibility timeout later, nothing is delivered twice
    expect(Object.values(done).flat()).toHaveLength(18);
    expect(await drain(client, url)).toHaveLength(0);
  });

  it('keeps group order when a message fails and comes back', async () => {
    const { url, sent } = await fifoQueueWith(4);
    const { handler, done, overlaps } = recorder({ failOnce: 'a2' });
    runtime = new LocalLambdaRuntime({ logger: () => {} });
    runtime.register({ name: 'fifo-fail', handler });
    runtime.addSqsEventSource({
      functionName: 'fifo-fail',
      queueUrl: url,
      sqsEndpoint: sqs.endpoint,
      batchSize: 2,
      maxConcurrency: 2,
    });
    await eventually(() => Object.values(done).flat().length === 12, 10_000);
    expect(done).toEqual(sent);
    expect(overlaps).toEqual([]);
  });
});

import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readResourceLimit } from '../../../core/resource-limit.js';
import { LocalLambdaRuntime } from '../../../local/lambda/index.js';
import type { LocalSqs } from '../../../local/sqs/index.js';
import { limitConcurrency } from '../../../sqs/index.js';
import { runDlm } from '../../cli/run-dlm.js';
import { createQueueWithDlq, drain, eventually, sharedSqs, sqsClient } from '../../local/sqs/sqs-test-kit.js';
import { concurrencyProbe, lambdaContext, offlineRecord, sleep } from '../../sqs/throttle-kit.js';
import { dynamoDbClient, freshLockTable, uniqueResource } from '../../support/dynamodb.js';
import { recordingLogger } from '../../support/recording-logger.js';

/*
 * Issue 15, attack 4, the SQS part: two functions throttle one key, one configured with K = 1
 * and the other, deployed later, with K = 3. While each throttle took K from its own options,
 * the K = 3 one took slots 1 and 2 that the K = 1 one never looks at: 3 in flight on a key
 * limited to 1. The limit now belongs to the resource: the first take recorded 1, and the
 * K = 3 throttle is refused, its messages unprocessed and, after their receives, dead-lettered.
 */

let sqs: LocalSqs;
let client: SQSClient;
let runtime: LocalLambdaRuntime;
let tableName: string;
let endpoint: string;

beforeAll(async () => {
  ({ sqs } = await sharedSqs());
  client = sqsClient(sqs.endpoint);
  runtime = new LocalLambdaRuntime({ logger: () => {} });
  tableName = await freshLockTable('attack_limits');
  endpoint = inject('dynamodbEndpoint');
});

afterAll(async () => {
  await runtime.stop();
  client.destroy();
});

async function sendAll(url: string, bodies: string[]): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: bodies
          .slice(start, start + 10)
          .map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
  }
}

/** A function on a queue of its own with a dead-letter queue, throttling every message on `key`. */
async function throttledFunction(
  name: string,
  key: string,
  concurrency: number,
  probe: ReturnType<typeof concurrencyProbe>,
  visibilitySeconds: number,
) {
  const logger = recordingLogger();
  const done: string[] = [];
  const queue = await createQueueWithDlq(client, `attack-limit-${name}`, 2, {
    VisibilityTimeout: String(visibilitySeconds),
  });
  runtime.register({
    name: `attack-limit-${name}`,
    timeoutSeconds: 30,
    handler: limitConcurrency(
      (record) =>
        probe.around(key, async () => {
          await sleep(150);
          done.push(record.body);
        }),
      {
        key: () => key,
        concurrency,
        leaseSeconds: 10,
        tableName,
        sqsClient: client,
        logger,
        backoff: { baseSeconds: 1, capSeconds: 1 },
      },
    ),
  });
  const start = () =>
    runtime.addSqsEventSource({
      functionName: `attack-limit-${name}`,
      queueUrl: queue.url,
      sqsEndpoint: sqs.endpoint,
      batchSize: 10,
      maxConcurrency: 2,
    });
  return { queue, logger, done, start };
}

describe('attack 4 on the SQS throttle: each function names its own limit', () => {
  it('refuses the K = 3 function on a key whose limit is 1: never more than 1 in flight', async () => {
    const key = uniqueResource('partner-api');
    const probe = concurrencyProbe();
    const strict = await throttledFunction('k1', key, 1, probe, 30);
    // A short visibility timeout and two receives: a refused message reaches its DLQ in seconds.
    const loose = await throttledFunction('k3', key, 3, probe, 2);
    const strictBodies = Array.from({ length: 12 }, (_, index) => `k1-${index}`);
    const looseBodies = Array.from({ length: 12 }, (_, index) => `k3-${index}`);
    await sendAll(strict.queue.url, strictBodies);
    await sendAll(loose.queue.url, looseBodies);
    // The K = 1 function has been running on the key before the K = 3 one is deployed.
    strict.start();
    await eventually(() => strict.done.length > 0, 10_000);
    loose.start();
    const deadLetters = new Set<string>(); // drain leaves them there: they come back once visible
    await eventually(async () => {
      for (const message of await drain(client, loose.queue.dlqUrl)) deadLetters.add(message.Body ?? '');
      return (
        strict.done.length === strictBodies.length &&
        deadLetters.size + loose.done.length === looseBodies.length
      );
    }, 60_000);

    console.log(`most in flight across both functions: ${probe.highest.get(key)}`);
    expect(probe.highest.get(key)).toBe(1);
    expect(
      await readResourceLimit(
        { client: dynamoDbClient(), tableName, clock: Date.now, logger: recordingLogger() },
        key,
      ),
    ).toBe(1);
    expect(strict.done.sort()).toEqual(strictBodies.sort());
    expect(loose.done).toEqual([]);
    expect([...deadLetters].sort()).toEqual(looseBodies.sort());
    // One clear line per key and cache period, not one per message.
    const refusals = loose.logger.lines.filter((line) => line.includes('dlm limit'));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toContain(`concurrency 3 does not match the limit 1 recorded for "${key}"`);
    expect(strict.logger.lines.filter((line) => line.includes('dlm limit'))).toEqual([]);
  }, 90_000);
});

describe('dlm limit', () => {
  it('sets a limit on purpose, shows previous and new, and the throttle honours it', async () => {
    const resourceId = uniqueResource('partner-api');
    const dlm = (...argv: string[]) => runDlm(...argv, '--table', tableName, '--endpoint', endpoint);
    expect((await dlm('limit', resourceId)).stdout).toContain('no limit recorded');

    const first = await dlm('limit', resourceId, '3', '--set-by', 'alice (INC-7)', '--json');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      resourceId,
      previous: null,
      limit: 3,
      setBy: 'alice (INC-7)',
    });
    const second = await dlm('limit', resourceId, '1');
    expect(second.stdout).toContain(`${resourceId}: limit 3 -> 1`);
    expect((await dlm('limit', resourceId, '--json')).stdout).toBe(
      `${JSON.stringify({ resourceId, limit: 1 })}\n`,
    );

    // A throttle configured with 3 on this key is refused; one configured with 1 runs.
    const logger = recordingLogger();
    const throttle = (concurrency: number) =>
      limitConcurrency(async () => {}, {
        key: () => resourceId,
        concurrency,
        tableName,
        sqsClient: client,
        logger,
        throwOnFullBatchFailure: false,
      });
    const context = lambdaContext();
    expect(await throttle(3)({ Records: [offlineRecord('m3', 'x')] }, context)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm3' }],
    });
    expect(await throttle(1)({ Records: [offlineRecord('m1', 'x')] }, context)).toEqual({
      batchItemFailures: [],
    });
  });
});

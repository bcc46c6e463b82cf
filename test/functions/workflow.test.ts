import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLock } from '../../core/dynamo-db-lock.js';
import { exampleStateMachine } from '../../core/steps/example-state-machine.js';
import { acquireState, countState, releaseState } from '../../core/steps/states.js';
import { countResource } from '../../core/waiting/count-resource.js';
import type { LocalAws } from '../../local/start-local-aws.js';
import { tableStore } from '../safety/support/workflow-kit.js';
import { dynamoDbClient, uniqueResource } from '../support/dynamodb.js';
import {
  createStateMachine,
  eventually,
  localAws,
  startExecution,
  waitForExecution,
  waitForExecutions,
} from '../support/local-aws.js';

let aws: LocalAws;
let workArn: string;
let exampleArn: string;
const inFlight = new Map<string, number>();
const mostInFlight = new Map<string, number>();

const store = () => tableStore(aws);

beforeAll(async () => {
  aws = await localAws();
  // The work step records, per resource, how many executions run it at the same moment.
  workArn = aws.lambda.register({
    name: `work-${process.pid}`,
    timeoutSeconds: 10,
    handler: async (event: { resourceId: string; workMs?: number; fail?: boolean }) => {
      const now = (inFlight.get(event.resourceId) ?? 0) + 1;
      inFlight.set(event.resourceId, now);
      mostInFlight.set(event.resourceId, Math.max(now, mostInFlight.get(event.resourceId) ?? 0));
      await new Promise((resolve) => setTimeout(resolve, event.workMs ?? 200));
      inFlight.set(event.resourceId, (inFlight.get(event.resourceId) ?? 1) - 1);
      if (event.fail) throw Object.assign(new Error('work failed on purpose'), { name: 'WorkError' });
      return { done: true };
    },
  });
  exampleArn = await createStateMachine(
    exampleStateMachine({
      functions: aws.functions,
      workFunctionArn: workArn,
      waitSeconds: { path: '$.waitSeconds' },
    }),
    'example',
  );
}, 60_000);

describe('the example workflow', () => {
  it('runs 30 executions on concurrency 3: all succeed, never more than 3 at work, every slot free after', async () => {
    const resourceId = uniqueResource('thirty');
    const executions = await Promise.all(
      Array.from({ length: 30 }, () =>
        startExecution(exampleArn, { resourceId, concurrency: 3, workMs: 200, waitSeconds: 120 }),
      ),
    );
    const results = await waitForExecutions(executions, 60_000);
    // Status with error and cause, so that a failure says why.
    expect(
      results.map((result) => [result.status, result.error, result.cause].filter(Boolean).join(' ')),
    ).toEqual(Array(30).fill('SUCCEEDED'));
    expect(mostInFlight.get(resourceId)).toBe(3);
    expect(await countResource(store(), resourceId)).toEqual({ held: 0, waiting: 0 });
    const output = JSON.parse(results[0]?.output ?? '{}');
    expect(output.lock).toMatchObject({ resourceId, releaseCode: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(output.release).toEqual({ released: true });
  }, 90_000);

  it('releases the slot when the work fails, and the execution fails with the work error', async () => {
    const resourceId = uniqueResource('work-fails');
    const arn = await startExecution(exampleArn, {
      resourceId,
      concurrency: 1,
      workMs: 10,
      fail: true,
      waitSeconds: 10,
    });
    const result = await waitForExecution(arn);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Work.Failed');
    expect(await countResource(store(), resourceId)).toEqual({ held: 0, waiting: 0 });
  });

  it('ends with Lock.Timeout, caught by the Catch, when no slot frees within waitSeconds', async () => {
    const resourceId = uniqueResource('busy');
    const holder = new DynamoDbLock(resourceId, {
      tableName: aws.tableName,
      client: dynamoDbClient(),
      duration: 60,
    });
    await holder.acquire();
    const started = Date.now();
    const arn = await startExecution(exampleArn, { resourceId, concurrency: 1, waitSeconds: 2 });
    const result = await waitForExecution(arn, 15_000);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Lock.Timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(await countResource(store(), resourceId)).toEqual({ held: 1, waiting: 0 });
    await holder.release();
  });
});

describe('the acquire step', () => {
  it('returns within a few hundred milliseconds when the lock is busy: it records the wait, it does not sleep', async () => {
    const resourceId = uniqueResource('no-sleep');
    const holder = new DynamoDbLock(resourceId, {
      tableName: aws.tableName,
      client: dynamoDbClient(),
      duration: 30,
    });
    await holder.acquire();
    const started = performance.now();
    const result = await aws.lambda.invoke(aws.functions.acquire, {
      taskToken: `not-a-real-token-${resourceId}`,
      resourceId,
      waitSeconds: 60,
    });
    const tookMs = performance.now() - started;
    expect(result).toEqual({ status: 'waiting' });
    expect(tookMs).toBeLessThan(500);
    expect(await countResource(store(), resourceId)).toEqual({ held: 1, waiting: 1 });
    // The retry loop finds the task gone (the token was never real) and withdraws the request.
    await eventually(
      async () => (await countResource(store(), resourceId)).waiting === 0,
      10_000,
      'withdrawal',
    );
    await holder.release();
  });

  it('fails fast with Lock.InvalidRequest naming the field, without waiting', async () => {
    const definition = {
      StartAt: 'Acquire',
      States: {
        Acquire: acquireState({
          functionArn: aws.functions.acquire,
          resourceId: { path: '$.resourceId' },
          concurrency: { path: '$.concurrency' },
          catch: [{ ErrorEquals: ['Lock.InvalidRequest'], ResultPath: '$.error', Next: 'Rejected' }],
          end: true,
        }),
        Rejected: { Type: 'Pass', End: true },
      },
    };
    const arn = await createStateMachine(definition, 'invalid');
    for (const [input, field] of [
      [{ resourceId: '', concurrency: 1 }, 'resourceId'],
      [{ resourceId: 'r', concurrency: 0 }, 'concurrency'],
      [{ resourceId: 'r', concurrency: 1.5 }, 'concurrency'],
      [{ resourceId: 'x'.repeat(1025), concurrency: 2 }, 'resourceId'],
      [{ resourceId: 'r', concurrency: '2' }, 'concurrency'],
    ] as const) {
      const started = Date.now();
      const result = await waitForExecution(await startExecution(arn, input), 5_000);
      expect(result.status).toBe('SUCCEEDED');
      const output = JSON.parse(result.output ?? '{}');
      expect(output.error.Error).toBe('Lock.InvalidRequest');
      expect(output.error.Cause).toContain(field);
      expect(Date.now() - started).toBeLessThan(2_000);
    }
  });
});

describe('the count step', () => {
  it('reports holders and waiting requests', async () => {
    const resourceId = uniqueResource('count');
    const holder = new DynamoDbLock(resourceId, {
      tableName: aws.tableName,
      client: dynamoDbClient(),
      duration: 30,
    });
    await holder.acquire();
    const waiterArn = await startExecution(exampleArn, {
      resourceId,
      concurrency: 1,
      workMs: 10,
      waitSeconds: 30,
    });
    await eventually(async () => (await countResource(store(), resourceId)).waiting === 1, 5_000, 'a waiter');
    const countArn = await createStateMachine(
      {
        StartAt: 'Count',
        States: { Count: countState({ functionArn: aws.functions.count, resourceId, end: true }) },
      },
      'count',
    );
    const counted = await waitForExecution(await startExecution(countArn, {}));
    expect(JSON.parse(counted.output ?? '{}').count).toEqual({ resourceId, held: 1, waiting: 1 });
    await holder.release();
    // A library release does not hand off (no workflow step ran): the retry loop grants the waiter.
    expect((await waitForExecution(waiterArn, 15_000)).status).toBe('SUCCEEDED');
  });

  it('hands a released slot to the waiting execution at once when the release step releases it', async () => {
    const resourceId = uniqueResource('handoff');
    const holdArn = await createStateMachine(
      {
        StartAt: 'Acquire',
        States: {
          Acquire: acquireState({ functionArn: aws.functions.acquire, resourceId, next: 'Hold' }),
          Hold: { Type: 'Wait', Seconds: 1, Next: 'Release' },
          Release: releaseState({ functionArn: aws.functions.release, end: true }),
        },
      },
      'hold',
    );
    const first = await startExecution(holdArn, {});
    await eventually(
      async () => (await countResource(store(), resourceId)).held === 1,
      5_000,
      'first holder',
    );
    const second = await startExecution(holdArn, {});
    await eventually(
      async () => (await countResource(store(), resourceId)).waiting === 1,
      5_000,
      'second waits',
    );
    const firstDone = await waitForExecution(first);
    const secondDone = await waitForExecution(second);
    expect([firstDone.status, secondDone.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const secondLock = JSON.parse(secondDone.output ?? '{}').lock;
    // Waited about the first holder's second, not a back-off period on top.
    expect(secondLock.waitedMs).toBeLessThan(1_800);
  });
});

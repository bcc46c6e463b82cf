import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLock } from '../../core/dynamo-db-lock.js';
import { acquireState, releaseState } from '../../core/steps/states.js';
import { countResource } from '../../core/waiting/count-resource.js';
import type { LocalAws } from '../../local/start-local-aws.js';
import { tableStore } from '../safety/support/workflow-kit.js';
import { dynamoDbClient, uniqueResource } from '../support/dynamodb.js';
import {
  createStateMachine,
  eventually,
  localAws,
  sfnClient,
  startExecution,
  waitForExecution,
  waitForExecutions,
} from '../support/local-aws.js';

let aws: LocalAws;
let holdThenFailArn: string;
let orderedArn: string;
const grantOrder = new Map<string, string[]>();

const store = () => tableStore(aws);
const counts = (resourceId: string) => countResource(store(), resourceId);

beforeAll(async () => {
  aws = await localAws();
  holdThenFailArn = await createStateMachine(
    {
      StartAt: 'Acquire',
      States: {
        Acquire: acquireState({
          functionArn: aws.functions.acquire,
          resourceId: { path: '$.resourceId' },
          leaseSeconds: 300,
          next: 'Hold',
        }),
        Hold: { Type: 'Wait', SecondsPath: '$.holdSeconds', Next: 'Crash' },
        Crash: { Type: 'Fail', Error: 'Crashed', Cause: 'failed while holding the lock' },
      },
    },
    'hold-then-fail',
  );
  const recordArn = aws.lambda.register({
    name: `record-grant-${process.pid}`,
    handler: async (event: { resourceId: string; name: string }) => {
      grantOrder.set(event.resourceId, [...(grantOrder.get(event.resourceId) ?? []), event.name]);
      return {};
    },
  });
  orderedArn = await createStateMachine(
    {
      StartAt: 'Acquire',
      States: {
        Acquire: acquireState({
          functionArn: aws.functions.acquire,
          resourceId: { path: '$.resourceId' },
          waitSeconds: 120,
          next: 'Record',
        }),
        Record: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: recordArn, 'Payload.$': '$' },
          ResultPath: null,
          Next: 'Release',
        },
        Release: releaseState({ functionArn: aws.functions.release, end: true }),
      },
    },
    'ordered',
  );
}, 60_000);

describe('cleanup after failed executions', () => {
  it('frees the 300 s lease of an execution that fails while holding it within 2 s', async () => {
    const resourceId = uniqueResource('crash');
    const arn = await startExecution(holdThenFailArn, { resourceId, holdSeconds: 0 });
    const result = await waitForExecution(arn);
    expect(result.status).toBe('FAILED');
    const failedAt = Date.now();
    await eventually(async () => (await counts(resourceId)).held === 0, 2_000, 'slot freed within 2 s');
    expect(Date.now() - failedAt).toBeLessThan(2_000);
  });

  it('never grants a slot to an execution stopped while waiting, and leaves no waiter behind', async () => {
    const resourceId = uniqueResource('stopped');
    const holder = new DynamoDbLock(resourceId, {
      tableName: aws.tableName,
      client: dynamoDbClient(),
      duration: 30,
    });
    await holder.acquire();
    const waiter = await startExecution(orderedArn, { resourceId, name: 'stopped' });
    await eventually(async () => (await counts(resourceId)).waiting === 1, 5_000, 'a waiter');
    await (await sfnClient()).send(
      new StopExecutionCommand({ executionArn: waiter, error: 'Stopped.ByTest' }),
    );
    await eventually(async () => (await counts(resourceId)).waiting === 0, 2_000, 'waiter withdrawn');
    await holder.release();
    // A later execution gets the slot; the stopped one never ran its work.
    const next = await startExecution(orderedArn, { resourceId, name: 'next' });
    expect((await waitForExecution(next)).status).toBe('SUCCEEDED');
    expect(grantOrder.get(resourceId)).toEqual(['next']);
    expect((await waitForExecution(waiter)).status).toBe('ABORTED');
    expect(await counts(resourceId)).toEqual({ held: 0, waiting: 0 });
  });

  it('does nothing more on a duplicate or late status event', async () => {
    const resourceId = uniqueResource('duplicate');
    const arn = await startExecution(holdThenFailArn, { resourceId, holdSeconds: 0 });
    await waitForExecution(arn);
    await eventually(async () => (await counts(resourceId)).held === 0, 2_000, 'slot freed');
    const newHolder = new DynamoDbLock(resourceId, {
      tableName: aws.tableName,
      client: dynamoDbClient(),
      duration: 30,
    });
    await newHolder.acquire();
    const event = {
      version: '0',
      id: 'duplicate',
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [arn],
      detail: { executionArn: arn, status: 'FAILED' },
    };
    const cleanupArn = aws.functions.acquire.replace('dynamo-dlm-acquire', 'dynamo-dlm-cleanup');
    expect(await aws.lambda.invoke(cleanupArn, event)).toEqual({ released: 0, withdrawn: 0 });
    expect(await counts(resourceId)).toEqual({ held: 1, waiting: 0 });
    expect(await newHolder.release()).toBe(true);
  });
});

describe('fairness', () => {
  it('grants 50 waiters on a mutex in arrival order', async () => {
    const resourceId = uniqueResource('fifo');
    const holder = new DynamoDbLock(resourceId, {
      tableName: aws.tableName,
      client: dynamoDbClient(),
      duration: 60,
    });
    await holder.acquire();
    const names = Array.from({ length: 50 }, (_, index) => `waiter-${String(index).padStart(2, '0')}`);
    const executions: string[] = [];
    for (const [index, name] of names.entries()) {
      executions.push(await startExecution(orderedArn, { resourceId, name }));
      // Arrival is when the request is recorded: wait for it before the next one arrives.
      await eventually(
        async () => (await counts(resourceId)).waiting === index + 1,
        5_000,
        `${name} waiting`,
      );
    }
    await holder.release();
    const results = await waitForExecutions(executions, 60_000);
    expect(results.every((result) => result.status === 'SUCCEEDED')).toBe(true);
    expect(grantOrder.get(resourceId)).toEqual(names);
  }, 90_000);
});

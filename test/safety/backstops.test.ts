import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireState, waitTimeoutMarginSeconds } from '../../core/steps/states.js';
import { rechain } from '../../core/waiting/lifecycle.js';
import { handler as sweeper } from '../../functions/sweeper.js';
import type { LocalAws } from '../../local/start-local-aws.js';
import { dynamoDbClient, uniqueResource } from '../support/dynamodb.js';
import { eventually, startExecution, waitForExecution } from '../support/local-aws.js';
import { libraryLock, requestsOf, sleep, waitingRequests } from './support/protocol-kit.js';
import { faultyWorkflow, restoreFunctionClients, tableStore } from './support/workflow-kit.js';

/** Path 5 of the first protocol: nothing stood behind a lost loop. These are the backstops. */

let aws: LocalAws;
let machineArn: string;

beforeAll(async () => {
  ({ aws, machineArn } = await faultyWorkflow('backstops', 30));
}, 60_000);

afterAll(() => restoreFunctionClients());

describe('path 5: backstops', () => {
  it('the built acquire state sets TimeoutSeconds from waitSeconds, and HeartbeatSeconds only when asked (then the function learns it too)', () => {
    const state = acquireState({
      functionArn: 'arn:acquire',
      resourceId: 'r',
      waitSeconds: 600,
      next: 'Work',
    });
    expect(state).toMatchObject({ TimeoutSeconds: 600 + waitTimeoutMarginSeconds });
    expect(state).not.toHaveProperty('HeartbeatSeconds');
    expect(state).not.toHaveProperty('Parameters.Payload.heartbeatSeconds');
    const unbounded = acquireState({ functionArn: 'arn:acquire', resourceId: 'r', next: 'Work' });
    expect(unbounded).not.toHaveProperty('TimeoutSeconds');
    const beating = acquireState({ functionArn: 'a', resourceId: 'r', heartbeatSeconds: 120, next: 'W' });
    expect(beating).toMatchObject({
      HeartbeatSeconds: 120,
      Parameters: { Payload: { heartbeatSeconds: 120 } },
    });
    expect(() =>
      acquireState({
        functionArn: 'a',
        resourceId: 'r',
        timeoutSeconds: 60,
        heartbeatSeconds: 60,
        next: 'W',
      }),
    ).toThrow(/heartbeatSeconds/);
  });

  it('the sweeper re-drives a waiter whose retry turn was lost', async () => {
    const resourceId = uniqueResource('lost-turn');
    const holder = libraryLock(aws, resourceId);
    await holder.acquire();
    const b = await startExecution(machineArn, {
      resourceId,
      concurrency: 1,
      workMs: 10,
      waitSeconds: 60,
      tag: 'B',
    });
    const [request] = await waitingRequests(aws, resourceId, 1);
    // Its live message now names an old chain and drops itself: the loop is lost. Not overdue
    // yet: the shared local AWS runs the sweeper every minute, and it must not find it first.
    if (!request) throw new Error('no request');
    await rechain(tableStore(aws), request, { to: 'a-chain-nobody-carries', dueMs: Date.now() + 600_000 });
    await holder.release();
    await sleep(2_500);
    expect((await requestsOf(aws, resourceId))[0]?.state).toBe('waiting');
    // Now overdue: the sweeper's run re-drives it.
    await rechain(tableStore(aws), request, { to: 'a-chain-nobody-carries', dueMs: Date.now() - 1 });
    const swept = await sweeper({});
    expect(swept.settled + swept.requeued).toBeGreaterThan(0);
    expect((await waitForExecution(b, 15_000)).status).toBe('SUCCEEDED');
  }, 30_000);

  it('an ended request keeps no task token and carries a past expires for TTL', async () => {
    const resourceId = uniqueResource('ended-items');
    const holder = libraryLock(aws, resourceId);
    await holder.acquire();
    const timedOut = await startExecution(machineArn, {
      resourceId,
      concurrency: 1,
      workMs: 10,
      waitSeconds: 1,
    });
    expect((await waitForExecution(timedOut, 15_000)).error).toBe('Lock.Timeout');
    // The Lock.Timeout is sent first, then the request is marked ended.
    await eventually(
      async () => (await requestsOf(aws, resourceId))[0]?.taskToken === '',
      5_000,
      'the request ended',
    );
    const [request] = await requestsOf(aws, resourceId);
    expect(request).toMatchObject({ state: 'timed-out', taskToken: '' });
    expect(request?.dueMs).toBeUndefined();
    const raw = await dynamoDbClient().send(
      new GetItemCommand({
        TableName: aws.requestTableName,
        Key: { resource_id: { S: resourceId }, concurrency_id: { N: String(request?.requestKey) } },
        ConsistentRead: true,
      }),
    );
    expect(Number(raw.Item?.expires?.N)).toBeLessThan(Date.now() / 1000);
    expect(raw.Item?.task_token).toBeUndefined();
    await holder.release();
  }, 30_000);
});

describe('the cleanup', () => {
  it('frees nothing of an execution that Step Functions says is still running, whatever the event says', async () => {
    const resourceId = uniqueResource('forged-event');
    const holder = libraryLock(aws, resourceId);
    await holder.acquire();
    const running = await startExecution(machineArn, {
      resourceId,
      concurrency: 1,
      workMs: 10,
      waitSeconds: 60,
    });
    await waitingRequests(aws, resourceId, 1);
    const cleanupArn = aws.functions.acquire.replace('dynamo-dlm-acquire', 'dynamo-dlm-cleanup');
    const answer = await aws.lambda.invoke(cleanupArn, {
      source: 'aws.states',
      // The local AWS's account, so that only DescribeExecution can refuse it.
      account: '000000000000',
      'detail-type': 'Step Functions Execution Status Change',
      detail: { executionArn: running, status: 'FAILED' },
    });
    expect(answer).toEqual({ released: 0, withdrawn: 0 });
    expect((await requestsOf(aws, resourceId))[0]?.state).toBe('waiting');
    await holder.release();
    expect((await waitForExecution(running, 15_000)).status).toBe('SUCCEEDED');
  }, 30_000);
});

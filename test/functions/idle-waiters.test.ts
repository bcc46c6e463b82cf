import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireState } from '../../core/steps/states.js';
import type { LocalAws } from '../../local/start-local-aws.js';
import { libraryLock, requestsOf, sleep } from '../safety/support/protocol-kit.js';
import {
  counts,
  faultyWorkflow,
  restoreFunctionClients,
  type WorkRecord,
} from '../safety/support/workflow-kit.js';
import { uniqueResource } from '../support/dynamodb.js';
import {
  createStateMachine,
  eventually,
  startExecution,
  waitForExecution,
  waitForExecutions,
} from '../support/local-aws.js';

/*
 * A waiter costs nothing while nothing can change for it: only the head of the queue takes
 * turns (for a slot that frees without a release); the others wait for the hand-over, with the
 * sweeper as their backstop. Each turn moves its request to a new retry chain, so an unchanged
 * chain is a request that took no turn.
 */

let aws: LocalAws;
let machineArn: string;
let work: WorkRecord;
/** Takes a slot with a 3 s lease and ends without releasing it: a holder that died. */
let dyingArn: string;

beforeAll(async () => {
  ({ aws, machineArn, work } = await faultyWorkflow('idle-waiters', 30));
  dyingArn = await createStateMachine(
    {
      StartAt: 'Acquire',
      States: {
        Acquire: acquireState({
          functionArn: aws.functions.acquire,
          resourceId: { path: '$.resourceId' },
          leaseSeconds: 3,
          waitSeconds: 3_600,
          next: 'Gone',
        }),
        Gone: { Type: 'Succeed' },
      },
    },
    'idle-dying',
  );
}, 60_000);

afterAll(() => restoreFunctionClients());

describe('waiters behind the head of the queue', () => {
  it('take no turn while they wait; the head finds a dead holder at its lease end; all are granted in arrival order', async () => {
    const resourceId = uniqueResource('idle');
    // A holder that never releases (the library's release would hand nothing over anyway).
    const holder = libraryLock(aws, resourceId, 9);
    await holder.acquire();
    const tags = ['w0', 'w1', 'w2', 'w3'];
    const arns: string[] = [];
    for (const [index, tag] of tags.entries()) {
      // No deadline within SQS's 900 s and no heartbeat: nothing is due for them but the slot.
      arns.push(
        await startExecution(machineArn, { resourceId, concurrency: 1, workMs: 20, waitSeconds: 3_600, tag }),
      );
      await eventually(
        async () => (await counts(aws, resourceId)).waiting === index + 1,
        5_000,
        `${tag} waits`,
      );
    }
    const before = await requestsOf(aws, resourceId);
    // The test's back-off cap is 2 s: the head looks again at least that often.
    await sleep(4_500);
    const after = await requestsOf(aws, resourceId);
    expect(after.map((request) => request.state)).toEqual(['waiting', 'waiting', 'waiting', 'waiting']);
    expect(after[0]?.retryChain).not.toBe(before[0]?.retryChain);
    for (const index of [1, 2, 3]) {
      expect(after[index]?.retryChain, `w${index} took a turn`).toBe(before[index]?.retryChain);
      // Parked: the sweeper looks at it in 15 minutes, unless a hand-over comes first.
      expect(after[index]?.dueMs).toBeGreaterThan(Date.now() + 10 * 60_000);
    }
    const results = await waitForExecutions(arns, 60_000);
    expect(results.map((result) => result.status)).toEqual([
      'SUCCEEDED',
      'SUCCEEDED',
      'SUCCEEDED',
      'SUCCEEDED',
    ]);
    const order = work.intervals
      .filter((interval) => interval.resourceId === resourceId)
      .sort((a, b) => a.startMs - b.startMs)
      .map((interval) => interval.tag);
    expect(order).toEqual(tags);
  }, 90_000);

  it('wakes the waiter behind a granted head, so a head that dies without releasing does not strand it', async () => {
    const resourceId = uniqueResource('dying');
    const holder = libraryLock(aws, resourceId, 30);
    await holder.acquire();
    const dying = await startExecution(dyingArn, { resourceId });
    await eventually(async () => (await counts(aws, resourceId)).waiting === 1, 5_000, 'the head waits');
    const behind = await startExecution(machineArn, {
      resourceId,
      concurrency: 1,
      workMs: 20,
      waitSeconds: 3_600,
      tag: 'behind',
    });
    await eventually(async () => (await counts(aws, resourceId)).waiting === 2, 5_000, 'both wait');
    // The library's release hands nothing over: the head finds the slot by its own turn and is
    // granted; it ends without releasing, and its lease (3 s) ends. Nothing else happens on the
    // resource: the request behind must have been given a turn for that lease end.
    await holder.release();
    expect((await waitForExecution(dying, 10_000)).status).toBe('SUCCEEDED');
    const grantedMs = Date.now();
    expect((await waitForExecution(behind, 20_000)).status).toBe('SUCCEEDED');
    // Its lease end plus a back-off cap (2 s here) and the steps: not the sweeper's 15 minutes.
    expect(Date.now() - grantedMs).toBeLessThan(12_000);
  }, 60_000);
});

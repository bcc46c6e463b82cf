import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '../../local/start-local-aws.js';
import { uniqueResource } from '../support/dynamodb.js';
import { eventually, startExecution, waitForExecution } from '../support/local-aws.js';
import {
  grantedRequest,
  libraryLock,
  redeliver,
  requestsOf,
  sleep,
  waitingRequests,
} from './support/protocol-kit.js';
import {
  createExampleMachine,
  type FunctionFaults,
  faultyWorkflow,
  overlapViolations,
  restoreFunctionClients,
  type WorkRecord,
} from './support/workflow-kit.js';

/**
 * The five ways the first waiting protocol put two workflows on one slot or stranded a waiter,
 * each replayed on the local AWS. Library holders stand in for "the slot is busy": a library
 * release does not hand over, so the waiters' own retry turns find the freed slot.
 */

let aws: LocalAws;
let faults: FunctionFaults;
let work: WorkRecord;
let machineArn: string;
let shortLeaseArn: string;

beforeAll(async () => {
  ({ aws, faults, work, machineArn } = await faultyWorkflow('protocol-paths', 30));
  shortLeaseArn = await createExampleMachine(aws, work.arn, 'protocol-paths-short', 2);
}, 60_000);

afterAll(() => restoreFunctionClients());

/** Work intervals of a resource that broke the lock (two on a slot, or more than K). */
function doubled(resourceId: string, concurrency = 1) {
  return overlapViolations(
    work.intervals.filter((interval) => interval.resourceId === resourceId),
    () => concurrency,
  );
}

/**
 * B waits on a mutex behind a library holder; when the holder lets go, B's turn grants the slot
 * and dies at SendTaskSuccess, so the grant is recorded and never answered. Once its lease ended,
 * a library client (the intruder) takes the slot, as it may.
 */
async function lapsedGrant(label: string) {
  const resourceId = uniqueResource(label);
  const holder = libraryLock(aws, resourceId);
  await holder.acquire();
  const b = await startExecution(shortLeaseArn, {
    resourceId,
    concurrency: 1,
    workMs: 300,
    waitSeconds: 30,
    tag: 'B',
  });
  await waitingRequests(aws, resourceId, 1);
  faults.sfn.calm().arm({ command: 'SendTaskSuccess', fault: 'crash', times: 1 });
  await holder.release();
  const granted = await grantedRequest(aws, resourceId);
  await sleep(Math.max(0, (granted.granted?.expiresAtMs ?? 0) - Date.now() + 50));
  const intruder = libraryLock(aws, resourceId, 5);
  expect(await intruder.tryAcquire()).toBe(true);
  return { resourceId, b, granted, intruder };
}

describe('the waiting protocol on the local AWS', () => {
  it('path 1: a hand-over whose answer comes late after the waiter was answered by its own turn frees nothing', async () => {
    const resourceId = uniqueResource('two-answerers');
    const holder = libraryLock(aws, resourceId);
    const lease = await holder.acquire();
    const b = await startExecution(machineArn, {
      resourceId,
      concurrency: 1,
      workMs: 4_000,
      waitSeconds: 30,
      tag: 'B',
    });
    await waitingRequests(aws, resourceId, 1);
    const c = await startExecution(machineArn, {
      resourceId,
      concurrency: 1,
      workMs: 200,
      waitSeconds: 30,
      tag: 'C',
    });
    await waitingRequests(aws, resourceId, 2);
    // The hand-over's SendTaskSuccess is held back 3 s; B's own turn answers it meanwhile.
    faults.sfn.calm().arm({ command: 'SendTaskSuccess', fault: 'late', lateMs: 3_000, times: 1 });
    const releasing = aws.lambda.invoke(aws.functions.release, {
      resourceId,
      concurrencyId: lease.concurrencyId,
      releaseCode: lease.releaseCode,
    });
    await redeliver(aws, await grantedRequest(aws, resourceId));
    await releasing;
    const results = await Promise.all([waitForExecution(b, 30_000), waitForExecution(c, 30_000)]);
    expect(results.map((result) => result.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(doubled(resourceId)).toEqual([]);
  }, 45_000);

  it('path 2: a grant whose lease ended unanswered is granted afresh, never answered after a library client took the slot', async () => {
    const { resourceId, b, granted, intruder } = await lapsedGrant('lapsed-grant');
    const intruderFrom = Date.now();
    await redeliver(aws, granted);
    await sleep(1_500);
    const intruderUntil = Date.now();
    await intruder.release();
    expect((await waitForExecution(b, 30_000)).status).toBe('SUCCEEDED');
    const bWork = work.intervals.find(
      (interval) => interval.resourceId === resourceId && interval.tag === 'B',
    );
    expect(bWork).toBeDefined();
    // B never worked while the library client held the slot.
    expect(bWork && bWork.startMs < intruderUntil && bWork.endMs > intruderFrom).toBe(false);
  }, 45_000);

  it('path 3: a chain write whose answer was lost keeps the loop going, and the waiter times out on time', async () => {
    const resourceId = uniqueResource('lost-chain-answer');
    const holder = libraryLock(aws, resourceId);
    await holder.acquire();
    // The SDK resends a chain write whose answer was lost: the repeat must accept its own result.
    faults.dynamodb.calm().arm({
      command: 'UpdateItem',
      fault: 'lose-answer',
      times: 1,
      when: (input) =>
        JSON.stringify(input).includes('retry_chain') && JSON.stringify(input).includes(':from'),
    });
    const started = Date.now();
    const b = await startExecution(machineArn, {
      resourceId,
      concurrency: 1,
      workMs: 10,
      waitSeconds: 5,
      tag: 'B',
    });
    const result = await waitForExecution(b, 20_000);
    expect([result.status, result.error]).toEqual(['FAILED', 'Lock.Timeout']);
    expect(faults.dynamodb.injected.get('lose-answer') ?? 0).toBeGreaterThan(0);
    // Within waitSeconds plus one turn, not after a sweep a minute later.
    expect(Date.now() - started).toBeLessThan(15_000);
    await holder.release();
  }, 30_000);

  it('path 4: a grant written but never answered survives later passes, and its redelivered turn answers it', async () => {
    const { resourceId, b, granted, intruder } = await lapsedGrant('unanswered-grant');
    // A later pass over the resource (a newcomer that must wait) sees the lapsed grant.
    const c = await startExecution(shortLeaseArn, {
      resourceId,
      concurrency: 1,
      workMs: 10,
      waitSeconds: 30,
      tag: 'C',
    });
    await eventually(async () => (await requestsOf(aws, resourceId)).length === 2, 10_000, 'C recorded');
    await redeliver(aws, granted);
    await intruder.release();
    const results = await Promise.all([waitForExecution(b, 30_000), waitForExecution(c, 30_000)]);
    expect(results.map((result) => result.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(doubled(resourceId)).toEqual([]);
  }, 45_000);

  it('path 6 (found by the simulation): a first attempt slow past its answer margin extends the lease before it answers', async () => {
    const resourceId = uniqueResource('slow-first');
    // The read after the slot write takes 1.5 s of the 2 s lease: 0.5 s would be left, under
    // the 1 s margin, when the grant reached the workflow.
    faults.dynamodb.calm().arm({ command: 'GetItem', fault: 'late', lateMs: 1_500, times: 1 });
    const arn = await startExecution(shortLeaseArn, {
      resourceId,
      concurrency: 1,
      workMs: 10,
      waitSeconds: 10,
      tag: 'slow',
    });
    const result = await waitForExecution(arn);
    faults.dynamodb.calm();
    expect(result.status).toBe('SUCCEEDED');
    expect(faults.dynamodb.injected.get('late')).toBe(1);
    const expiresAtMs = Date.parse(JSON.parse(result.output ?? '{}').lock.expiresAt);
    const [interval] = work.intervals.filter((entry) => entry.resourceId === resourceId);
    // The work began with at least the margin (1 s) of its lease left, less the start-up of the step.
    expect(expiresAtMs - (interval?.startMs ?? 0)).toBeGreaterThan(900);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleStateMachine } from '../../core/steps/example-state-machine.js';
import { acquireState, extendState } from '../../core/steps/states.js';
import { countResource } from '../../core/waiting/count-resource.js';
import { readSlots } from '../../core/waiting/queue.js';
import type { LocalAws } from '../../local/start-local-aws.js';
import { restoreFunctionClients, tableStore } from '../safety/support/workflow-kit.js';
import { uniqueResource } from '../support/dynamodb.js';
import {
  createStateMachine,
  eventually,
  localAws,
  startExecution,
  waitForExecution,
  waitForExecutions,
} from '../support/local-aws.js';

/*
 * Issue 20's weighted figure on the local AWS: 30 executions of the example workflow on one
 * resource with 5 slots, a mix of requests for 1 and for 3 permits, arriving one every 150 ms
 * (faster than 5 slots of 600 ms work serve them): the queue builds up, and requests for 3 reach
 * its head behind and ahead of requests for 1.
 */

let aws: LocalAws;
let permitsArn: string;
let extendThenFailArn: string;
let permitsAtWork = 0;
let mostPermitsAtWork = 0;

const store = () => tableStore(aws);

const executions = 30;
const concurrency = 5;
const leaseSeconds = 300;
// Every third execution asks for 3 permits: 10 of 30.
const permitsOf = (index: number) => (index % 3 === 1 ? 3 : 1);

beforeAll(async () => {
  aws = await localAws();
  const workArn = aws.lambda.register({
    name: `permits-work-${process.pid}`,
    timeoutSeconds: 30,
    handler: async (event: { workMs: number; permits: number }) => {
      permitsAtWork += event.permits;
      mostPermitsAtWork = Math.max(mostPermitsAtWork, permitsAtWork);
      await new Promise((resolve) => setTimeout(resolve, event.workMs));
      permitsAtWork -= event.permits;
      return { done: true };
    },
  });
  permitsArn = await createStateMachine(
    exampleStateMachine({
      functions: aws.functions,
      workFunctionArn: workArn,
      leaseSeconds,
      waitSeconds: { path: '$.waitSeconds' },
      permits: { path: '$.permits' },
    }),
    'permits-example',
  );
  // Takes 3 of 5 slots, extends the lease, holds it a moment, and fails while holding it.
  extendThenFailArn = await createStateMachine(
    {
      StartAt: 'Acquire',
      States: {
        Acquire: acquireState({
          functionArn: aws.functions.acquire,
          resourceId: { path: '$.resourceId' },
          concurrency,
          permits: 3,
          leaseSeconds: 60,
          waitSeconds: 60,
          next: 'Extend',
        }),
        Extend: extendState({ functionArn: aws.functions.extend, leaseSeconds: 600, next: 'Hold' }),
        Hold: { Type: 'Wait', Seconds: 2, Next: 'Crash' },
        Crash: { Type: 'Fail', Error: 'Crashed', Cause: 'failed while holding 3 permits' },
      },
    },
    'permits-extend-fail',
  );
}, 60_000);

afterAll(() => restoreFunctionClients());

interface Granted {
  index: number;
  permits: number;
  arrivedMs: number;
  grantedMs: number;
  slots: number[];
}

/** The grant of a finished execution: when it arrived and started (from its lease), its slots. */
function grantOf(index: number, output: string | undefined): Granted {
  const lock = JSON.parse(output ?? '{}').lock as {
    expiresAt: string;
    waitedMs: number;
    slots: { concurrencyId: number }[];
  };
  const grantedMs = Date.parse(lock.expiresAt) - leaseSeconds * 1000;
  return {
    index,
    permits: permitsOf(index),
    arrivedMs: grantedMs - lock.waitedMs,
    grantedMs,
    slots: lock.slots.map((slot) => slot.concurrencyId),
  };
}

/** Pairs granted out of arrival order: a later arrival granted before an earlier one. */
function overtakes(grants: Granted[]): string[] {
  const byArrival = [...grants].sort((a, b) => a.arrivedMs - b.arrivedMs);
  const found: string[] = [];
  for (const [position, earlier] of byArrival.entries())
    for (const later of byArrival.slice(position + 1))
      if (later.arrivedMs > earlier.arrivedMs && later.grantedMs < earlier.grantedMs)
        found.push(
          `#${later.index} (${later.permits}) granted ${earlier.grantedMs - later.grantedMs} ms before #${earlier.index} (${earlier.permits}), which arrived ${later.arrivedMs - earlier.arrivedMs} ms earlier`,
        );
  return found;
}

describe('weighted permits on the workflow acquire', () => {
  it(`runs ${executions} executions of 1 and 3 permits on concurrency ${concurrency}: all succeed, never more than ${concurrency} permits in use, grants in arrival order`, async () => {
    permitsAtWork = 0;
    mostPermitsAtWork = 0;
    const resourceId = uniqueResource('permits-30');
    let mostHeld = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        mostHeld = Math.max(mostHeld, (await countResource(store(), resourceId)).held);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const startedMs = Date.now();
    const arns: string[] = [];
    for (let index = 0; index < executions; index++) {
      arns.push(
        await startExecution(permitsArn, {
          resourceId,
          concurrency,
          permits: permitsOf(index),
          workMs: 600,
          waitSeconds: 240,
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const results = await waitForExecutions(arns, 200_000);
    sampling = false;
    await sampler;
    const tookMs = Date.now() - startedMs;
    expect(
      results.map((result) => [result.status, result.error, result.cause].filter(Boolean).join(' ')),
    ).toEqual(Array(executions).fill('SUCCEEDED'));
    const grants = results.map((result, index) => grantOf(index, result.output));
    // Each lease lists as many distinct slots as it asked for.
    for (const grant of grants) expect(new Set(grant.slots).size).toBe(grant.permits);
    const inversions = overtakes(grants);
    const waited = grants.map((grant) => grant.grantedMs - grant.arrivedMs);
    const permitSeconds = grants.reduce((sum, grant) => sum + grant.permits * 0.6, 0);
    console.log(
      `workflow with permits: ${executions} executions (${grants.filter((grant) => grant.permits === 3).length} of 3 permits) in ${tookMs} ms; most permits held ${mostHeld} (sampled), at work ${mostPermitsAtWork}; slot use ${((100 * permitSeconds) / (concurrency * (tookMs / 1000))).toFixed(0)}% of ${concurrency} slots over the run; waited up to ${Math.max(...waited)} ms; out of arrival order: ${inversions.length}`,
    );
    expect(inversions).toEqual([]);
    expect(mostHeld).toBeLessThanOrEqual(concurrency);
    expect(mostPermitsAtWork).toBeLessThanOrEqual(concurrency);
    expect(await countResource(store(), resourceId)).toMatchObject({ held: 0, waiting: 0 });
  }, 240_000);

  it('extends all 3 slots of a lease with the extend step, and the cleanup of the failed execution frees all 3 within 2 s', async () => {
    const resourceId = uniqueResource('permits-crash');
    const arn = await startExecution(extendThenFailArn, { resourceId });
    // Extended: the three slots of the one release code end about 600 s from now, together.
    const heldEnds = async () => {
      const { slots } = await readSlots(store(), resourceId, concurrency);
      return [...slots.values()]
        .filter((item) => Number(item.expires_ms?.N) > Date.now() + 300_000)
        .map((item) => item.release_code?.S);
    };
    await eventually(async () => (await heldEnds()).length === 3, 10_000, 'three slots extended');
    expect(new Set(await heldEnds()).size).toBe(1);
    const result = await waitForExecution(arn, 30_000);
    expect(result.status).toBe('FAILED');
    const failedAt = Date.now();
    await eventually(
      async () => (await countResource(store(), resourceId)).held === 0,
      2_000,
      'all three slots freed within 2 s',
    );
    expect(Date.now() - failedAt).toBeLessThan(2_000);
  }, 60_000);
});

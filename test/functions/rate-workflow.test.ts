import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRateFigures } from '../../bench/start-rate.js';
import { exampleStateMachine } from '../../core/steps/example-state-machine.js';
import { countResource } from '../../core/waiting/count-resource.js';
import { useClients } from '../../functions/lib/clients.js';
import { countItemTraffic, countRequests, dynamoDbWriteCommands } from '../../local/count-requests.js';
import type { LocalAws } from '../../local/start-local-aws.js';
import { restoreFunctionClients, tableStore } from '../safety/support/workflow-kit.js';
import { uniqueResource } from '../support/dynamodb.js';
import { createStateMachine, localAws, startExecution, waitForExecutions } from '../support/local-aws.js';

/*
 * Issue 20's figure on the local AWS: 200 executions of the example workflow on one resource
 * with 20 slots and a start rate of 5 a second (burst 5). The work takes 1 s, so 20 slots could
 * start 20 a second: the rate, not the slots, is what holds them back.
 */

let aws: LocalAws;
let rateArn: string;
let inFlight = 0;
let mostInFlight = 0;

const store = () => tableStore(aws);

const executions = 200;
const concurrency = 20;
const rate = { limit: 5, periodSeconds: 1, burst: 5 };
const leaseSeconds = 300;

beforeAll(async () => {
  aws = await localAws();
  const workArn = aws.lambda.register({
    name: `rate-work-${process.pid}`,
    timeoutSeconds: 30,
    handler: async (event: { workMs: number }) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, event.workMs));
      inFlight--;
      return { done: true };
    },
  });
  const example = { functions: aws.functions, workFunctionArn: workArn, leaseSeconds };
  const waitSeconds = { path: '$.waitSeconds' };
  rateArn = await createStateMachine(
    exampleStateMachine({ ...example, waitSeconds, rate: { path: '$.rate' } }),
    'rate-example',
  );
  // The functions' DynamoDB requests, counted: the writes per grant of the workflow path.
  // Every function of the local AWS shares this one client: on AWS each would have its own
  // sockets, so the SDK's default of 50 queued 127 requests here and timed acquires out at 10 s.
  const client = new DynamoDBClient({
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: 1_000 } },
  });
  counted = { requests: countRequests(client), items: countItemTraffic(client) };
  useClients({ dynamodb: client });
}, 60_000);

afterAll(() => restoreFunctionClients());

let counted: {
  requests: ReturnType<typeof countRequests>;
  items: ReturnType<typeof countItemTraffic>;
};

/** Write requests and written items (transaction items and condition checks included) so far. */
const writesSoFar = () => ({
  requests: counted.requests.sum(dynamoDbWriteCommands),
  items: counted.items.snapshot().itemsWritten,
});

/** Runs the 200 executions on one resource; answers the grants' start times and the figures. */
async function runExecutions(resourceId: string) {
  let mostHeld = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      mostHeld = Math.max(mostHeld, (await countResource(store(), resourceId)).held);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const writesBefore = writesSoFar();
  const startedMs = Date.now();
  // Arrivals at 20 a second (4 times the rate): the queue builds up at once, while the shared
  // 2-core machine is not asked for 200 acquire invocations in the same instant (on it, 200 at
  // once, or 100 a second after the other test files, timed acquires out at their 10 s, with or
  // without a rate).
  const arns: string[] = [];
  for (let wave = 0; wave < executions / 4; wave++) {
    arns.push(
      ...(await Promise.all(
        Array.from({ length: 4 }, () =>
          startExecution(rateArn, {
            resourceId,
            concurrency,
            rate,
            workMs: 1_000,
            waitSeconds: 240,
          }),
        ),
      )),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const results = await waitForExecutions(arns, 200_000);
  sampling = false;
  await sampler;
  const tookMs = Date.now() - startedMs;
  const writesAfter = writesSoFar();
  // A grant's start is its lease's: the end it was answered less the lease it asked for.
  const starts = results
    .filter((result) => result.status === 'SUCCEEDED')
    .map((result) => Date.parse(JSON.parse(result.output ?? '{}').lock.expiresAt) - leaseSeconds * 1000)
    .sort((a, b) => a - b);
  const perGrant = (value: number) => (value / executions).toFixed(2);
  const figures = `${executions} executions in ${tookMs} ms; per grant and its release ${perGrant(writesAfter.requests - writesBefore.requests)} write requests, ${perGrant(writesAfter.items - writesBefore.items)} items written; most held ${mostHeld}`;
  return { results, starts, mostHeld, figures };
}

const statuses = (results: { status?: string; error?: string; cause?: string }[]) =>
  results.map((result) => [result.status, result.error, result.cause].filter(Boolean).join(' '));

describe('a start rate on the workflow acquire', () => {
  it(`starts ${executions} executions on concurrency ${concurrency} at 5/s (burst 5): never above limit + burst in any 1 s nor above 5.5/s, never more than ${concurrency} held`, async () => {
    inFlight = 0;
    mostInFlight = 0;
    const resourceId = uniqueResource('rate-200');
    const { results, starts, mostHeld, figures } = await runExecutions(resourceId);
    expect(statuses(results)).toEqual(Array(executions).fill('SUCCEEDED'));
    const { perSecond: startRate, busiestPeriod: busiestSecond, spanMs } = startRateFigures(starts, rate);
    const spanSeconds = spanMs / 1000;
    console.log(
      `workflow with a rate: ${figures}; ${startRate.toFixed(2)} starts/s over ${spanSeconds.toFixed(1)} s; busiest 1 s window ${busiestSecond}; most at work ${mostInFlight}`,
    );
    expect(busiestSecond).toBeLessThanOrEqual(rate.limit + rate.burst);
    // Never faster than the rate allows. How close to 5/s it comes is a speed figure (printed
    // above), not asserted here: this shared machine slows it. What costs it: SQS timers count
    // whole seconds from their send, and a turn sends the next head's timer only after granting
    // the burst, so each round loses that time (the rate banks no idle time beyond the burst).
    // Measured 3.38 to 4.74 starts/s here, 4.21 to 4.43 under another engineer's bench.
    expect(startRate).toBeLessThanOrEqual(5.5);
    expect(mostHeld).toBeLessThanOrEqual(concurrency);
    expect(mostInFlight).toBeLessThanOrEqual(concurrency);
    // The count step's view afterwards: nothing held, nobody waiting, the rate's next start.
    const counted = await countResource(store(), resourceId);
    expect(counted).toMatchObject({ held: 0, waiting: 0 });
    expect(Date.parse(counted.nextStartAt ?? '')).toBeGreaterThan((starts.at(-1) ?? 0) - 1_000);
  }, 240_000);
});

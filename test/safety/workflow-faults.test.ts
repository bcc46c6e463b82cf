import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLock } from '../../core/dynamo-db-lock.js';
import { readResource } from '../../core/waiting/read-resource.js';
import type { LocalAws } from '../../local/start-local-aws.js';
import { dynamoDbClient, uniqueResource } from '../support/dynamodb.js';
import { eventually, startExecution, waitForExecution, waitForExecutions } from '../support/local-aws.js';
import { chaosSettings, countFigure, figureLines, seededRandom } from './support/chaos-settings.js';
import {
  counts,
  deadLetterDepth,
  type FunctionFaults,
  faultyWorkflow,
  restoreFunctionClients,
  sqsEvent,
  tableStore,
  type WorkRecord,
} from './support/workflow-kit.js';

const settings = chaosSettings();
let aws: LocalAws;
let faults: FunctionFaults;
let work: WorkRecord;
let machineArn: string;

beforeAll(async () => {
  ({ aws, faults, work, machineArn } = await faultyWorkflow('workflow-faults', 20));
}, 60_000);

afterAll(() => {
  restoreFunctionClients();
  for (const [service, injector] of Object.entries(faults)) {
    for (const [fault, count] of injector.injected) countFigure(`faults.steps.${service}.${fault}`, count);
  }
  console.log(`workflow-faults figures so far:\n  ${figureLines('faults.').join('\n  ')}`);
});

const holderLock = (resourceId: string) =>
  new DynamoDbLock(resourceId, { tableName: aws.tableName, client: dynamoDbClient(), duration: 30 });

/**
 * Executions on a mutex and on three slots, all at once, with random work times: each must end
 * with its work done (or `Lock.Timeout`), no slot may be used twice at once, and at the end
 * every slot is free, nobody waits, and the dead-letter queue is empty.
 */
async function contendedRun(label: string, executions: number, { heldForMs = 0 } = {}) {
  const random = seededRandom(settings.seed + executions);
  const resources = [
    { resourceId: uniqueResource(`${label}-mutex`), concurrency: 1 },
    { resourceId: uniqueResource(`${label}-three`), concurrency: 3 },
  ];
  // Library holders take every slot first: the executions then wait on the retry loop (a library
  // release does not hand over), turn after turn, until the holders let go.
  const holders =
    heldForMs === 0
      ? []
      : resources.flatMap(({ resourceId, concurrency }) =>
          Array.from(
            { length: concurrency },
            () =>
              new DynamoDbLock(resourceId, {
                tableName: aws.tableName,
                client: dynamoDbClient(),
                concurrency,
                duration: 30,
              }),
          ),
        );
  for (const holder of holders) await holder.acquire();
  const started = await Promise.all(
    Array.from({ length: executions }, (_, index) => {
      const resource = resources[index % resources.length] as (typeof resources)[number];
      return startExecution(machineArn, { ...resource, workMs: Math.floor(random() * 120), waitSeconds: 60 });
    }),
  );
  if (holders.length > 0) {
    await new Promise((resolve) => setTimeout(resolve, heldForMs));
    for (const holder of holders) await holder.release();
  }
  const results = await waitForExecutions(started, 90_000);
  countFigure('faults.workflow.executions', executions);
  return { resources, results };
}

async function expectCleanEnd(resources: Array<{ resourceId: string; concurrency: number }>) {
  for (const { resourceId, concurrency } of resources) {
    expect(work.doubled.filter((slot) => slot.startsWith(resourceId))).toEqual([]);
    expect(work.mostInFlight.get(resourceId) ?? 0).toBeLessThanOrEqual(concurrency);
    await eventually(
      async () => JSON.stringify(await counts(aws, resourceId)) === '{"held":0,"waiting":0}',
      5_000,
      `${resourceId} free`,
    );
  }
  expect(await deadLetterDepth(aws)).toBe(0);
}

describe('the steps under DynamoDB faults', () => {
  it('grants every execution once, never doubles a slot and leaks none, with throttling, 5xx and lost answers', async () => {
    faults.dynamodb.calm().chaos({
      commands: ['UpdateItem', 'Query', 'TransactWriteItems', 'PutItem', 'DeleteItem'],
      faults: ['throttle', 'server-error', 'lose-answer', 'lost-request', 'duplicate'],
      rate: 0.25,
      random: seededRandom(settings.seed),
    });
    try {
      const { resources, results } = await contendedRun('dynamodb-chaos', settings.long ? 60 : 16);
      expect(results.map((result) => result.status)).toEqual(results.map(() => 'SUCCEEDED'));
      faults.dynamodb.calm();
      await expectCleanEnd(resources);
      expect(faults.dynamodb.total).toBeGreaterThanOrEqual(10);
    } finally {
      faults.dynamodb.calm();
    }
  }, 120_000);

  it('keeps the slot of a repeated delivery whose grant mark landed but lost its answer', async () => {
    const resourceId = uniqueResource('lost-mark');
    const holder = holderLock(resourceId);
    await holder.acquire();
    const arn = await startExecution(machineArn, {
      resourceId,
      concurrency: 1,
      workMs: 2_000,
      waitSeconds: 30,
    });
    await eventually(async () => (await counts(aws, resourceId)).waiting === 1, 5_000, 'the execution waits');
    const [request] = (await readResource(tableStore(aws), resourceId)).requests;
    if (!request) throw new Error('no waiting request');
    // The grant mark of the request's own item: its answer is lost, the retry finds it set.
    faults.dynamodb.calm().arm({
      command: 'UpdateItem',
      fault: 'lose-answer',
      when: (input) => String(input.UpdateExpression).includes('#grantedSlot'),
    });
    await holder.release();
    // The same request delivered again (SQS or a Step Functions retry of the same task).
    await aws.lambda.invoke(aws.functions.acquire, {
      taskToken: request.taskToken,
      resourceId,
      concurrency: 1,
      leaseSeconds: 20,
      waitSeconds: 30,
      ...(request.owner === undefined ? {} : { owner: request.owner }),
    });
    expect(faults.dynamodb.injected.get('lose-answer')).toBeGreaterThan(0);
    await eventually(async () => (work.mostInFlight.get(resourceId) ?? 0) === 1, 10_000, 'at work');
    // While the execution works, its slot is held: a newcomer does not get it.
    expect(await holderLock(resourceId).tryAcquire()).toBe(false);
    expect((await waitForExecution(arn)).status).toBe('SUCCEEDED');
    await expectCleanEnd([{ resourceId, concurrency: 1 }]);
  }, 40_000);
});

describe('the retry queue delivering twice or late', () => {
  it('never doubles a slot when retry messages are duplicated or delayed', async () => {
    faults.sqs.calm().chaos({
      commands: ['SendMessage'],
      faults: ['duplicate', 'late'],
      rate: 0.5,
      random: seededRandom(settings.seed + 1),
      lateMs: 1_500,
    });
    try {
      const { resources, results } = await contendedRun('sqs-chaos', settings.long ? 60 : 12, {
        heldForMs: 3_000,
      });
      expect(results.map((result) => result.status)).toEqual(results.map(() => 'SUCCEEDED'));
      faults.sqs.calm();
      await expectCleanEnd(resources);
      expect(faults.sqs.total).toBeGreaterThanOrEqual(5);
    } finally {
      faults.sqs.calm();
    }
  }, 120_000);

  it('drops a stale retry message delivered after its request ended, leaving the new holder alone', async () => {
    const resourceId = uniqueResource('stale-message');
    const holder = holderLock(resourceId);
    await holder.acquire();
    const arn = await startExecution(machineArn, { resourceId, concurrency: 1, workMs: 10, waitSeconds: 30 });
    await eventually(async () => (await counts(aws, resourceId)).waiting === 1, 5_000, 'the execution waits');
    const [request] = (await readResource(tableStore(aws), resourceId)).requests;
    if (!request) throw new Error('no waiting request');
    await holder.release();
    expect((await waitForExecution(arn)).status).toBe('SUCCEEDED');
    const newHolder = holderLock(resourceId);
    await newHolder.acquire();
    const message = {
      resourceId,
      requestKey: request.requestKey,
      retryChain: request.retryChain,
      attempt: 3,
    };
    for (let delivery = 0; delivery < 2; delivery++) {
      const answer = await aws.lambda.invoke(
        aws.functions.acquire.replace('dynamo-dlm-acquire', 'dynamo-dlm-retry'),
        sqsEvent(JSON.stringify(message)),
      );
      expect(answer).toEqual({ batchItemFailures: [] });
    }
    countFigure('faults.steps.sqs.stale-delivery', 2);
    expect(await counts(aws, resourceId)).toEqual({ held: 1, waiting: 0 });
    expect(await newHolder.release()).toBe(true);
  }, 30_000);
});

import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { exampleStateMachine } from '../../../core/steps/example-state-machine.js';
import { countResource } from '../../../core/waiting/count-resource.js';
import type { WaitingStore } from '../../../core/waiting/waiting-store.js';
import { useClients } from '../../../functions/lib/clients.js';
import type { LocalAws } from '../../../local/start-local-aws.js';
import { dynamoDbClient } from '../../support/dynamodb.js';
import { createStateMachine, localAws } from '../../support/local-aws.js';
import { recordingLogger } from '../../support/recording-logger.js';
import { FaultInjector } from './fault-injector.js';

/** Fault injectors on the clients the functions use (DynamoDB, SQS, Step Functions). */
export interface FunctionFaults {
  dynamodb: FaultInjector;
  sqs: FaultInjector;
  sfn: FaultInjector;
}

/**
 * Gives the functions real clients with a fault injector each. Call `restoreFunctionClients()`
 * afterwards: the test run shares one worker and one local AWS across files.
 */
export function installFaultyClients(): FunctionFaults {
  const faults: FunctionFaults = {
    dynamodb: new FaultInjector(),
    sqs: new FaultInjector(),
    sfn: new FaultInjector(),
  };
  useClients({
    dynamodb: faults.dynamodb.attach(new DynamoDBClient({}), 'dynamodb'),
    sqs: faults.sqs.attach(new SQSClient({}), 'sqs'),
    sfn: faults.sfn.attach(new SFNClient({}), 'sfn'),
  });
  return faults;
}

/** Puts plain clients and the real clock back into the functions. */
export function restoreFunctionClients(): void {
  useClients({
    dynamodb: new DynamoDBClient({}),
    sqs: new SQSClient({}),
    sfn: new SFNClient({}),
    clock: Date.now,
  });
}

/** The lock table as the tests read it (never through a faulty client). */
export function tableStore(aws: LocalAws): WaitingStore {
  return {
    client: dynamoDbClient(),
    tableName: aws.tableName,
    requestTableName: aws.requestTableName,
    clock: Date.now,
    logger: recordingLogger(),
  };
}

/** One run of the work step: which execution (its `tag`), on which slot, from when to when. */
export interface WorkInterval {
  tag: string;
  resourceId: string;
  slot: number;
  startMs: number;
  endMs: number;
}

/** What the work step saw: the most executions at work per resource, and any slot used twice at once. */
export interface WorkRecord {
  arn: string;
  mostInFlight: Map<string, number>;
  doubled: string[];
  intervals: WorkInterval[];
  runs: number;
}

export interface WorkInput {
  resourceId: string;
  tag?: string;
  workMs?: number;
  fail?: boolean;
  lock?: { concurrencyId: number; releaseCode: string };
}

/**
 * Registers a work step that records, per resource, how many executions work at once and
 * whether two of them ever work on the same slot at the same moment (a doubled slot).
 */
export function registerTrackedWork(aws: LocalAws, label: string): WorkRecord {
  const inFlight = new Map<string, number>();
  const slotsInUse = new Map<string, string>();
  const record: WorkRecord = { arn: '', mostInFlight: new Map(), doubled: [], intervals: [], runs: 0 };
  record.arn = aws.lambda.register({
    name: `${label}-${process.pid}`,
    timeoutSeconds: 30,
    handler: async (event: WorkInput) => {
      record.runs++;
      const now = (inFlight.get(event.resourceId) ?? 0) + 1;
      inFlight.set(event.resourceId, now);
      record.mostInFlight.set(
        event.resourceId,
        Math.max(now, record.mostInFlight.get(event.resourceId) ?? 0),
      );
      const slot = `${event.resourceId}/${event.lock?.concurrencyId}`;
      if (slotsInUse.has(slot)) record.doubled.push(slot);
      slotsInUse.set(slot, event.lock?.releaseCode ?? '');
      const startMs = Date.now();
      try {
        await new Promise((resolve) => setTimeout(resolve, event.workMs ?? 50));
        if (event.fail) throw Object.assign(new Error('work failed on purpose'), { name: 'WorkError' });
        return { done: true };
      } finally {
        record.intervals.push({
          tag: event.tag ?? '',
          resourceId: event.resourceId,
          slot: event.lock?.concurrencyId ?? -1,
          startMs,
          endMs: Date.now(),
        });
        inFlight.set(event.resourceId, (inFlight.get(event.resourceId) ?? 1) - 1);
        if (slotsInUse.get(slot) === (event.lock?.releaseCode ?? '')) slotsInUse.delete(slot);
      }
    },
  });
  return record;
}

/**
 * Where the work of different executions overlapped beyond the lock: two on one slot, or more
 * than K on a resource. `cutAt` ends an interval early: an execution stopped during its work
 * loses its slot at the stop (its Lambda runs on, on AWS as here, but no longer under the lock).
 */
export function overlapViolations(
  intervals: WorkInterval[],
  concurrencyOf: (resourceId: string) => number,
  cutAt: (tag: string) => number | undefined = () => undefined,
): string[] {
  const violations: string[] = [];
  const held = intervals
    .map((interval) => ({
      ...interval,
      endMs: Math.min(interval.endMs, cutAt(interval.tag) ?? interval.endMs),
    }))
    .filter((interval) => interval.endMs > interval.startMs);
  for (const interval of held) {
    const overlapping = held.filter(
      (other) =>
        other !== interval &&
        other.resourceId === interval.resourceId &&
        other.startMs <= interval.startMs &&
        other.endMs > interval.startMs,
    );
    const sameSlot = overlapping.filter((other) => other.slot === interval.slot);
    if (sameSlot.length > 0)
      violations.push(`${interval.tag} and ${sameSlot[0]?.tag} on ${interval.resourceId}/${interval.slot}`);
    if (overlapping.length + 1 > concurrencyOf(interval.resourceId)) {
      violations.push(
        `${overlapping.length + 1} at work on ${interval.resourceId} when ${interval.tag} started`,
      );
    }
  }
  return violations;
}

/** The example state machine (acquire, work, release; release on failure) around a work step. */
export function createExampleMachine(aws: LocalAws, workArn: string, label: string, leaseSeconds = 300) {
  return createStateMachine(
    exampleStateMachine({
      functions: aws.functions,
      workFunctionArn: workArn,
      waitSeconds: { path: '$.waitSeconds' },
      leaseSeconds,
    }),
    label,
  );
}

/** Messages in the retry queue's dead-letter queue, visible or in flight. */
export async function deadLetterDepth(aws: LocalAws): Promise<number> {
  const sqs = new SQSClient({ endpoint: aws.endpoints.sqs, region: aws.region });
  try {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: aws.deadLetterQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  } finally {
    sqs.destroy();
  }
}

/** Holders and waiters of a resource, read directly. */
export function counts(aws: LocalAws, resourceId: string) {
  return countResource(tableStore(aws), resourceId);
}

/** An SQS event of one record, as the event source mapping delivers it. */
export function sqsEvent(body: string) {
  const messageId = randomUUID();
  return {
    Records: [
      {
        messageId,
        receiptHandle: `handle-${messageId}`,
        body,
        attributes: {
          ApproximateReceiveCount: '2',
          SentTimestamp: String(Date.now()),
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:dynamo-dlm-retry',
        awsRegion: 'us-east-1',
      },
    ],
  };
}

/**
 * What a workflow fault test file starts from: the local AWS, the functions' clients behind
 * fault injectors, a tracked work function and the example state machine on it.
 *
 * @example
 * ({ aws, faults, work, machineArn } = await faultyWorkflow('answer-faults'));
 */
export async function faultyWorkflow(label: string, leaseSeconds?: number) {
  const aws = await localAws();
  const faults = installFaultyClients();
  const work = registerTrackedWork(aws, `${label}-work`);
  const machineArn = await createExampleMachine(aws, work.arn, label, leaseSeconds);
  return { aws, faults, work, machineArn };
}

import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDbLock } from '../../../core/dynamo-db-lock.js';
import type { Lease } from '../../../core/lease.js';
import type { LocalAws } from '../../../local/start-local-aws.js';
import { dynamoDbClient, uniqueResource } from '../../support/dynamodb.js';
import { eventually, localAws, sfnClient, startExecution } from '../../support/local-aws.js';
import {
  counts,
  createExampleMachine,
  registerTrackedWork,
  type WorkRecord,
} from '../support/workflow-kit.js';

/** What an attack file runs its victims on: the local AWS, a tracked work step, the example workflow. */
export interface AttackStage {
  aws: LocalAws;
  work: WorkRecord;
  machineArn: string;
}

/**
 * The local AWS with the example workflow (acquire, tracked work, release) under `label`.
 *
 * @example
 * beforeAll(async () => ({ aws, work, machineArn } = await attackStage('limits')), 60_000);
 */
export async function attackStage(label: string): Promise<AttackStage> {
  const aws = await localAws();
  const work = registerTrackedWork(aws, `${label}-work`);
  return { aws, work, machineArn: await createExampleMachine(aws, work.arn, label) };
}

/** An execution's status now. */
export async function statusOf(executionArn: string): Promise<string | undefined> {
  const sfn = await sfnClient();
  return (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status;
}

/** Waits until every one of `executionArns` has succeeded. */
export async function allSucceed(executionArns: string[], timeoutMs = 30_000): Promise<void> {
  await eventually(
    async () => (await Promise.all(executionArns.map(statusOf))).every((status) => status === 'SUCCEEDED'),
    timeoutMs,
    'every execution SUCCEEDED',
  );
}

/**
 * A mutex that a library client holds, with one execution per tag waiting behind it, in order
 * (each is queued before the next starts).
 *
 * @example
 * const { resourceId, lease, executions } = await waitingBehindHolder(stage, ['b', 'c'], { waitSeconds: 60 });
 */
export async function waitingBehindHolder(
  { aws, machineArn }: AttackStage,
  tags: string[],
  { waitSeconds, workMs = 50 }: { waitSeconds: number; workMs?: number },
): Promise<{ resourceId: string; lease: Lease; executions: string[] }> {
  const resourceId = uniqueResource('attacked');
  const holder = new DynamoDbLock(resourceId, {
    tableName: aws.tableName,
    client: dynamoDbClient(),
    duration: 60,
  });
  const lease = await holder.acquire();
  const executions: string[] = [];
  for (const tag of tags) {
    executions.push(
      await startExecution(machineArn, { resourceId, concurrency: 1, waitSeconds, tag, workMs }),
    );
    await eventually(async () => (await counts(aws, resourceId)).waiting === executions.length);
  }
  return { resourceId, lease, executions };
}

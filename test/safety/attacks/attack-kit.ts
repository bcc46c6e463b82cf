import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import type { LocalAws } from '../../../local/start-local-aws.js';
import { eventually, localAws, sfnClient } from '../../support/local-aws.js';
import { createExampleMachine, registerTrackedWork, type WorkRecord } from '../support/workflow-kit.js';

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

import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { inject } from 'vitest';
import type { AslDefinition } from '../../core/steps/asl.js';
import { type LocalAws, startLocalAws } from '../../local/start-local-aws.js';
import type { EngineName } from '../../local/stepfunctions/index.js';

let started: Promise<LocalAws> | undefined;

/**
 * The local AWS of this test run, started once in the (single) test worker on the run's
 * DynamoDB Local; the worker's exit stops its in-process servers.
 */
export function localAws(): Promise<LocalAws> {
  started ??= startLocalAws({
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    tableName: 'dynamo_dlm_locks_test',
    // Short back-off so the safety-net loop is visible within a test's time.
    retry: { baseSeconds: 1, capSeconds: 2 },
    logger: () => {},
    // LOCAL_SFN_ENGINE=aws-local-stepfunctions runs the workflow tests on the other engine.
    stepFunctionsEngine: process.env.LOCAL_SFN_ENGINE as EngineName | undefined,
  });
  return started;
}

let sfn: SFNClient | undefined;

/** A Step Functions client for the local endpoint. */
export async function sfnClient(): Promise<SFNClient> {
  const aws = await localAws();
  sfn ??= new SFNClient({ endpoint: aws.endpoints.stepfunctions, region: aws.region });
  return sfn;
}

let machines = 0;

/** Creates a state machine from a definition; answers its ARN. */
export async function createStateMachine(definition: AslDefinition, label = 'test'): Promise<string> {
  const client = await sfnClient();
  const { stateMachineArn } = await client.send(
    new CreateStateMachineCommand({
      name: `${label}-${process.pid}-${machines++}`,
      definition: JSON.stringify(definition),
      roleArn: 'arn:aws:iam::000000000000:role/local',
    }),
  );
  return stateMachineArn as string;
}

/** Starts an execution; answers its ARN. */
export async function startExecution(stateMachineArn: string, input: unknown): Promise<string> {
  const client = await sfnClient();
  const { executionArn } = await client.send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
  );
  return executionArn as string;
}

/** Waits until an execution has ended (polling DescribeExecution), or throws after `timeoutMs`. */
export async function waitForExecution(
  executionArn: string,
  timeoutMs = 30_000,
): Promise<DescribeExecutionCommandOutput> {
  const client = await sfnClient();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    if (Date.now() > deadline) throw new Error(`${executionArn} still RUNNING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits for many executions, one poller for all (in order: by the time an early one ends, the
 * later ones have mostly ended too), within one overall `timeoutMs`. A poller per execution
 * asked the endpoint 20 times a second each: 200 of them made 4,000 DescribeExecution calls a
 * second in the process that also runs the local AWS, and starved its functions into time-outs.
 */
export async function waitForExecutions(
  executionArns: string[],
  timeoutMs = 30_000,
): Promise<DescribeExecutionCommandOutput[]> {
  const deadline = Date.now() + timeoutMs;
  const results: DescribeExecutionCommandOutput[] = [];
  for (const executionArn of executionArns)
    results.push(await waitForExecution(executionArn, Math.max(0, deadline - Date.now())));
  return results;
}

/** Waits until `check` answers true, polling every 20 ms, or throws after `timeoutMs`. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

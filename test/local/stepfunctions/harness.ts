import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { LambdaServiceError } from '../../../local/lambda/errors.js';
import {
  type EngineName,
  type ExecutionStatusChangeEvent,
  type LocalStepFunctions,
  startLocalStepFunctions,
} from '../../../local/stepfunctions/index.js';

/** A local Lambda of the tests: payload in, result out; throw to fail. */
export type TestFunction = (payload: unknown) => unknown;

/** A started endpoint with an SDK client, the functions it invokes and the events it published. */
export interface Harness {
  sfn: LocalStepFunctions;
  client: SFNClient;
  events: ExecutionStatusChangeEvent[];
  /** Calls per function name, in order, with their payloads. */
  calls: Map<string, unknown[]>;
  createMachine(definition: object, name?: string): Promise<string>;
  start(stateMachineArn: string, input?: unknown, name?: string): Promise<string>;
  /** Polls DescribeExecution until the status is not RUNNING. */
  waitForEnd(executionArn: string, timeoutMs?: number): Promise<DescribeExecutionCommandOutput>;
  stop(): Promise<void>;
}

let machineCounter = 0;

/** Polls `check` every 5 ms until it returns a value other than undefined. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The function name of a name or a Lambda ARN (`arn:aws:lambda:region:account:function:NAME[:qualifier]`). */
function functionName(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[6] ?? nameOrArn) : nameOrArn;
}

/** Starts an endpoint on a free port whose Lambdas are `functions`. */
export async function startHarness(functions: Record<string, TestFunction>): Promise<Harness> {
  const calls = new Map<string, unknown[]>();
  const sfn = await startLocalStepFunctions({
    // LOCAL_SFN_ENGINE=aws-local-stepfunctions runs these same tests on the other engine.
    engine: process.env.LOCAL_SFN_ENGINE as EngineName | undefined,
    lambda: {
      invoke: async (nameOrArn, payload) => {
        const name = functionName(nameOrArn);
        const fn = functions[name];
        if (!fn) throw new LambdaServiceError('ResourceNotFoundException', `Function not found: ${name}`);
        calls.set(name, [...(calls.get(name) ?? []), payload]);
        return fn(payload);
      },
    },
  });
  const client = new SFNClient({
    endpoint: sfn.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const events: ExecutionStatusChangeEvent[] = [];
  sfn.onExecutionStatusChange((event) => {
    events.push(event);
  });
  return {
    sfn,
    client,
    events,
    calls,
    createMachine: async (definition, name = `machine-${++machineCounter}`) => {
      const created = await client.send(
        new CreateStateMachineCommand({
          name,
          definition: JSON.stringify(definition),
          roleArn: 'arn:aws:iam::000000000000:role/local',
        }),
      );
      return created.stateMachineArn as string;
    },
    start: async (stateMachineArn, input = {}, name) => {
      const started = await client.send(
        new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input), name }),
      );
      return started.executionArn as string;
    },
    waitForEnd: (executionArn, timeoutMs = 5_000) =>
      eventually(async () => {
        const described = await client.send(new DescribeExecutionCommand({ executionArn }));
        return described.status === 'RUNNING' ? undefined : described;
      }, timeoutMs),
    stop: async () => {
      client.destroy();
      await sfn.stop();
    },
  };
}

/** The error name an SDK call rejected with, or 'no error'. */
export async function errorName(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'no error';
  } catch (error) {
    return (error as Error).name;
  }
}

/** A waitForTaskToken Task state calling `functionName` with the token and the given extra fields. */
export function callbackTask(functionName: string, extra: object = {}): Record<string, unknown> {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    Parameters: { FunctionName: functionName, Payload: { 'token.$': '$$.Task.Token', 'input.$': '$' } },
    ...extra,
  };
}

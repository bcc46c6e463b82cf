import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStepFunctions, startLocalStepFunctions } from '../../../../local/stepfunctions/index.js';

let sfn: LocalStepFunctions;
let client: SFNClient;
const tokens: string[] = [];
let machines = 0;

beforeAll(async () => {
  sfn = await startLocalStepFunctions({
    engine: 'own',
    lambda: {
      invoke: async (name, payload) => {
        if (name === 'callback') {
          tokens.push((payload as { token: string }).token);
          return null;
        }
        if (name === 'lease') return { lease: 'L-7', input: payload };
        throw Object.assign(new Error(`Function not found: ${name}`), { name: 'ResourceNotFoundException' });
      },
    },
  });
  client = new SFNClient({
    endpoint: sfn.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await sfn.stop();
});

async function create(definition: object): Promise<string> {
  const created = await client.send(
    new CreateStateMachineCommand({
      name: `own-${++machines}`,
      definition: JSON.stringify(definition),
      roleArn: 'arn:aws:iam::000000000000:role/local',
    }),
  );
  return created.stateMachineArn as string;
}

async function finished(executionArn: string) {
  for (let i = 0; i < 400; i++) {
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('execution did not end');
}

// The workflow shape of issue 18: JSONata Arguments with the task token and execution id,
// Assign of the lease, Output.
const jsonataMachine = {
  QueryLanguage: 'JSONata',
  StartAt: 'Acquire',
  States: {
    Acquire: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Arguments: { FunctionName: 'lease', Payload: { execution: '{% $states.context.Execution.Id %}' } },
      Assign: { lease: '{% $states.result.Payload.lease %}' },
      Output: '{% $states.input %}',
      Next: 'Wait for callback',
    },
    'Wait for callback': {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Arguments: { FunctionName: 'callback', Payload: { token: '{% $states.context.Task.Token %}' } },
      HeartbeatSeconds: 5,
      Output: { lease: '{% $lease %}', answer: '{% $states.result %}' },
      End: true,
    },
  },
};

describe("the endpoint on engine: 'own'", () => {
  it('runs a JSONata machine with Assign, a callback token and Output, and serves its history', async () => {
    const arn = await create(jsonataMachine);
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn: arn, input: '{"a":1}' }),
    );
    for (let i = 0; i < 200 && tokens.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(tokens[0]).toMatch(/^AQB[A-Za-z0-9_-]{64}$/);
    await client.send(new SendTaskSuccessCommand({ taskToken: tokens[0], output: '{"ok":true}' }));
    const described = await finished(executionArn as string);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output as string)).toEqual({ lease: 'L-7', answer: { ok: true } });
    const history = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(history.events?.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(history.events?.[0]?.timestamp).toBeInstanceOf(Date);
    expect(history.events?.[5]?.stateExitedEventDetails?.assignedVariables).toEqual({ lease: '"L-7"' });
    const reversed = await client.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 2 }),
    );
    expect(reversed.events?.map((e) => e.type)).toEqual(['ExecutionSucceeded', 'TaskStateExited']);
    expect(reversed.nextToken).toBeDefined();
  });

  it('refuses at CreateStateMachine what it does not run, naming state and field', async () => {
    const refused = await create({
      StartAt: 'Send',
      States: { Send: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } },
    }).catch((error: Error) => error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).name).toBe('InvalidDefinition');
    expect((refused as Error).message).toMatch(/State 'Send', field 'Resource'/);
  });
});

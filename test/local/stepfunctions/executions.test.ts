import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListExecutionsCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionStatusChangeEvent } from '../../../local/stepfunctions/index.js';
import { errorName, eventually, type Harness, startHarness } from './harness.js';

const ROLE = 'arn:aws:iam::000000000000:role/local';
const TRIVIAL = { StartAt: 'Done', States: { Done: { Type: 'Pass', Result: { ok: true }, End: true } } };
const WAITING = { StartAt: 'Wait', States: { Wait: { Type: 'Wait', Seconds: 60, End: true } } };

let h: Harness;
let trivialArn: string;
let waitingArn: string;

beforeAll(async () => {
  h = await startHarness({});
  trivialArn = await h.createMachine(TRIVIAL, 'trivial');
  waitingArn = await h.createMachine(WAITING, 'waiting');
});
afterAll(async () => {
  await h.stop();
});

function eventOf(executionArn: string, status: string): Promise<ExecutionStatusChangeEvent> {
  return eventually(() =>
    h.events.find((e) => e.detail.executionArn === executionArn && e.detail.status === status),
  );
}

describe('state machines and executions API', () => {
  it('creates state machines idempotently and refuses a different definition under the same name', async () => {
    expect(await h.createMachine(TRIVIAL, 'trivial')).toBe(trivialArn);
    expect(trivialArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:trivial');
    expect(await errorName(h.createMachine(WAITING, 'trivial'))).toBe('StateMachineAlreadyExists');
    const described = await h.client.send(new DescribeStateMachineCommand({ stateMachineArn: trivialArn }));
    expect(described).toMatchObject({ name: 'trivial', status: 'ACTIVE', type: 'STANDARD', roleArn: ROLE });
    expect(JSON.parse(described.definition ?? '')).toEqual(TRIVIAL);
    const badName = h.client.send(
      new CreateStateMachineCommand({ name: 'bad name', definition: JSON.stringify(TRIVIAL), roleArn: ROLE }),
    );
    expect(await errorName(badName)).toBe('InvalidName');
  });

  it('runs an execution to SUCCEEDED and describes it as AWS does', async () => {
    const arn = await h.start(trivialArn, { orderId: 1 }, 'first');
    expect(arn).toBe('arn:aws:states:us-east-1:000000000000:execution:trivial:first');
    const done = await h.waitForEnd(arn);
    expect(done).toMatchObject({
      executionArn: arn,
      stateMachineArn: trivialArn,
      name: 'first',
      status: 'SUCCEEDED',
      input: '{"orderId":1}',
      output: '{"ok":true}',
    });
    expect(done.startDate).toBeInstanceOf(Date);
    expect(done.stopDate?.getTime()).toBeGreaterThanOrEqual(done.startDate?.getTime() ?? Number.NaN);
    expect(Date.now() - (done.startDate?.getTime() ?? 0)).toBeLessThan(10_000);
  });

  it('is idempotent for a running execution with the same name and input, and refuses other reuse', async () => {
    const arn = await h.start(waitingArn, { a: 1 }, 'dup');
    expect(await h.start(waitingArn, { a: 1 }, 'dup')).toBe(arn);
    expect(await errorName(h.start(waitingArn, { a: 2 }, 'dup'))).toBe('ExecutionAlreadyExists');
    await h.client.send(new StopExecutionCommand({ executionArn: arn }));
    expect(await errorName(h.start(waitingArn, { a: 1 }, 'dup'))).toBe('ExecutionAlreadyExists');
  });

  it('lists executions newest first, filtered by status', async () => {
    const running = await h.start(waitingArn, {}, 'listed-running');
    const all = await h.client.send(new ListExecutionsCommand({ stateMachineArn: waitingArn }));
    expect(all.executions?.[0]?.executionArn).toBe(running);
    const onlyRunning = await h.client.send(
      new ListExecutionsCommand({ stateMachineArn: waitingArn, statusFilter: 'RUNNING' }),
    );
    expect(onlyRunning.executions?.map((e) => e.name)).toEqual(['listed-running']);
    const aborted = await h.client.send(
      new ListExecutionsCommand({ stateMachineArn: waitingArn, statusFilter: 'ABORTED' }),
    );
    expect(aborted.executions?.map((e) => e.name)).toContain('dup');
    await h.client.send(new StopExecutionCommand({ executionArn: running }));
  });

  it('answers ExecutionDoesNotExist, StateMachineDoesNotExist, InvalidArn and InvalidExecutionInput', async () => {
    const describe = (executionArn: string) => h.client.send(new DescribeExecutionCommand({ executionArn }));
    expect(await errorName(describe('arn:aws:states:us-east-1:000000000000:execution:trivial:nope'))).toBe(
      'ExecutionDoesNotExist',
    );
    expect(await errorName(describe('not-an-arn'))).toBe('InvalidArn');
    const missing = 'arn:aws:states:us-east-1:000000000000:stateMachine:missing';
    expect(await errorName(h.start(missing))).toBe('StateMachineDoesNotExist');
    const badInput = h.client.send(
      new StartExecutionCommand({ stateMachineArn: trivialArn, input: '{oops' }),
    );
    expect(await errorName(badInput)).toBe('InvalidExecutionInput');
  });

  it('answers an unknown action with UnknownOperationException in the JSON 1.0 error shape', async () => {
    const response = await fetch(h.sfn.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.DeleteEverything',
      },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});

describe('execution status change events', () => {
  it('publishes RUNNING and FAILED with error and cause, in the EventBridge shape', async () => {
    const failing = await h.createMachine({
      StartAt: 'Boom',
      States: { Boom: { Type: 'Fail', Error: 'Order.Invalid', Cause: 'no items' } },
    });
    const arn = await h.start(failing, { orderId: 2 });
    const done = await h.waitForEnd(arn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'Order.Invalid', cause: 'no items' });
    await eventOf(arn, 'RUNNING');
    const event = await eventOf(arn, 'FAILED');
    expect(event).toMatchObject({
      version: '0',
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: '000000000000',
      region: 'us-east-1',
      resources: [arn],
      detail: {
        executionArn: arn,
        stateMachineArn: failing,
        status: 'FAILED',
        input: '{"orderId":2}',
        output: null,
        error: 'Order.Invalid',
        cause: 'no items',
        startDate: done.startDate?.getTime(),
        stopDate: done.stopDate?.getTime(),
      },
    });
  });

  it('publishes ABORTED for StopExecution', async () => {
    const arn = await h.start(waitingArn);
    await h.client.send(new StopExecutionCommand({ executionArn: arn, error: 'Ops', cause: 'manual' }));
    const event = await eventOf(arn, 'ABORTED');
    expect(event.detail).toMatchObject({ status: 'ABORTED', error: 'Ops', cause: 'manual' });
    expect(typeof event.detail.stopDate).toBe('number');
  });

  it('times out an execution past its TimeoutSeconds and publishes TIMED_OUT', async () => {
    const slow = await h.createMachine({ ...WAITING, TimeoutSeconds: 1 });
    const arn = await h.start(slow);
    const done = await h.waitForEnd(arn, 3_000);
    expect(done.status).toBe('TIMED_OUT');
    expect((await eventOf(arn, 'TIMED_OUT')).detail.status).toBe('TIMED_OUT');
  });

  it('survives listeners that throw or reject, and stops delivering after unsubscribe', async () => {
    const offThrow = h.sfn.onExecutionStatusChange(() => {
      throw new Error('listener bug');
    });
    const offReject = h.sfn.onExecutionStatusChange(async () => {
      throw new Error('async listener bug');
    });
    const seen: string[] = [];
    const offSeen = h.sfn.onExecutionStatusChange((event) => {
      seen.push(event.detail.status);
    });
    const arn = await h.start(trivialArn);
    expect((await h.waitForEnd(arn)).status).toBe('SUCCEEDED');
    await eventOf(arn, 'SUCCEEDED');
    await eventually(() => (seen.length === 2 ? true : undefined));
    expect(seen).toEqual(['RUNNING', 'SUCCEEDED']);
    offThrow();
    offReject();
    offSeen();
    const after = await h.start(trivialArn);
    await eventOf(after, 'SUCCEEDED');
    expect(seen).toHaveLength(2);
  });
});

import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackTask, errorName, eventually, type Harness, startHarness } from './harness.js';

interface Parked {
  token: string;
  input: unknown;
  context?: Record<string, string>;
}

let h: Harness;
let slowParkReturned = 0;

beforeAll(async () => {
  h = await startHarness({
    park: () => ({ parked: true }),
    context: () => ({}),
    // A callback function that works longer than the task's heartbeat before it returns.
    slowPark: async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      slowParkReturned++;
      return {};
    },
  });
});
afterAll(async () => {
  await h.stop();
});

/** The payload of the n-th call of `park` (tests share one endpoint, so n counts across tests). */
function parked(n: number): Promise<Parked> {
  return eventually(() => h.calls.get('park')?.[n] as Parked | undefined);
}

const parkedCount = () => h.calls.get('park')?.length ?? 0;

describe('waitForTaskToken tasks', () => {
  it('waits for SendTaskSuccess and outputs its parsed JSON; the token then answers TaskTimedOut', async () => {
    const task = callbackTask('park', { End: true });
    (task.Parameters as { Payload: Record<string, string> }).Payload = {
      'token.$': '$$.Task.Token',
      'input.$': '$',
      'executionId.$': '$$.Execution.Id',
      'executionName.$': '$$.Execution.Name',
      'machineId.$': '$$.StateMachine.Id',
      'machineName.$': '$$.StateMachine.Name',
      'startTime.$': '$$.Execution.StartTime',
    };
    const machineArn = await h.createMachine(
      { StartAt: 'Acquire', States: { Acquire: task } },
      'callback-success',
    );
    const before = parkedCount();
    const arn = await h.start(machineArn, { resourceId: 'r1' }, 'exec-success');
    const payload = (await parked(before)) as unknown as Record<string, unknown>;

    expect(payload.token).toMatch(/^AQB[A-Za-z0-9_-]{64}$/);
    expect(payload.input).toEqual({ resourceId: 'r1' });
    expect(payload.executionId).toBe(arn);
    expect(payload.executionName).toBe('exec-success');
    expect(payload.machineId).toBe(machineArn);
    expect(payload.machineName).toBe('callback-success');
    expect(Date.parse(payload.startTime as string)).toBeGreaterThan(Date.now() - 10_000);

    const token = payload.token as string;
    await h.client.send(
      new SendTaskSuccessCommand({ taskToken: token, output: '{"granted":true,"slot":2}' }),
    );
    const done = await h.waitForEnd(arn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '')).toEqual({ granted: true, slot: 2 });
    expect(
      await errorName(h.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))),
    ).toBe('TaskTimedOut');
  });

  it('fails the task on SendTaskFailure, which a Catch on the error name handles', async () => {
    const machineArn = await h.createMachine({
      StartAt: 'Acquire',
      States: {
        Acquire: callbackTask('park', {
          Catch: [{ ErrorEquals: ['Lock.Timeout'], Next: 'TimedOut', ResultPath: '$.failure' }],
          End: true,
        }),
        TimedOut: { Type: 'Pass', End: true },
      },
    });
    const before = parkedCount();
    const arn = await h.start(machineArn, { resourceId: 'r2' });
    const { token } = await parked(before);
    await h.client.send(
      new SendTaskFailureCommand({ taskToken: token, error: 'Lock.Timeout', cause: 'waited 5 s' }),
    );
    const done = await h.waitForEnd(arn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '')).toEqual({
      resourceId: 'r2',
      failure: { Error: 'Lock.Timeout', Cause: 'waited 5 s' },
    });
  });

  it('fails with States.HeartbeatTimeout when no heartbeat comes within HeartbeatSeconds', async () => {
    const machineArn = await h.createMachine({
      StartAt: 'Acquire',
      // States.TaskFailed must not catch a time-out (as on AWS).
      States: {
        Acquire: callbackTask('park', {
          HeartbeatSeconds: 1,
          Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Wrong' }],
          End: true,
        }),
        Wrong: { Type: 'Fail', Error: 'Wrong' },
      },
    });
    const before = parkedCount();
    const started = Date.now();
    const arn = await h.start(machineArn);
    const { token } = await parked(before);
    const done = await h.waitForEnd(arn);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('States.HeartbeatTimeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(
      await errorName(h.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))),
    ).toBe('TaskTimedOut');
  });

  it('starts the heartbeat clock when the invoke returns, as AWS does, not when it starts', async () => {
    const machineArn = await h.createMachine({
      StartAt: 'Acquire',
      States: { Acquire: callbackTask('slowPark', { HeartbeatSeconds: 1, End: true }) },
    });
    const before = h.calls.get('slowPark')?.length ?? 0;
    const returned = slowParkReturned;
    const arn = await h.start(machineArn);
    const { token } = (await eventually(() => h.calls.get('slowPark')?.[before])) as Parked;
    // 1.6 s after the invocation began: past its heartbeat counted from then, within it from the return.
    await eventually(() => (slowParkReturned > returned ? true : undefined));
    await h.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '"answered"' }));
    const done = await h.waitForEnd(arn);
    expect([done.status, done.error]).toEqual(['SUCCEEDED', undefined]);
    expect(done.output).toBe('"answered"');
  });

  it('keeps a task alive while SendTaskHeartbeat comes in time, and States.Timeout catches a lapse', async () => {
    const machineArn = await h.createMachine({
      StartAt: 'Acquire',
      States: {
        Acquire: callbackTask('park', {
          HeartbeatSeconds: 1,
          Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'Lapsed' }],
          End: true,
        }),
        Lapsed: { Type: 'Pass', Result: 'lapsed', End: true },
      },
    });
    const before = parkedCount();
    const alive = await h.start(machineArn);
    const { token } = await parked(before);
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await h.client.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    }
    await h.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '"alive"' }));
    expect((await h.waitForEnd(alive)).output).toBe('"alive"');

    const lapsed = await h.start(machineArn);
    expect((await h.waitForEnd(lapsed)).output).toBe('"lapsed"');
  });

  it('enforces the task TimeoutSeconds with States.Timeout and closes the token', async () => {
    const machineArn = await h.createMachine({
      StartAt: 'Acquire',
      States: { Acquire: callbackTask('park', { TimeoutSeconds: 1, End: true }) },
    });
    const before = parkedCount();
    const arn = await h.start(machineArn);
    const { token } = await parked(before);
    const done = await h.waitForEnd(arn);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('States.Timeout');
    expect(await errorName(h.client.send(new SendTaskHeartbeatCommand({ taskToken: token })))).toBe(
      'TaskTimedOut',
    );
  });

  it('StopExecution aborts a waiting execution, rejects its token and never retries the task', async () => {
    const machineArn = await h.createMachine({
      StartAt: 'Acquire',
      States: {
        Acquire: callbackTask('park', {
          Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 3 }],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
          End: true,
        }),
        Caught: { Type: 'Pass', End: true },
      },
    });
    const before = parkedCount();
    const arn = await h.start(machineArn);
    const { token } = await parked(before);
    const stopped = await h.client.send(
      new StopExecutionCommand({ executionArn: arn, error: 'Test.Stop', cause: 'stopped by the test' }),
    );
    expect(stopped.stopDate).toBeInstanceOf(Date);
    const done = await h.waitForEnd(arn);
    expect(done).toMatchObject({ status: 'ABORTED', error: 'Test.Stop', cause: 'stopped by the test' });
    expect(
      await errorName(h.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))),
    ).toBe('TaskTimedOut');
    // A Retry after 1 s would call the function again: wait past it.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(parkedCount()).toBe(before + 1);
    expect((await h.waitForEnd(arn)).status).toBe('ABORTED');
  });

  it('gives every Map iteration its own token and honours MaxConcurrency', async () => {
    const machineArn = await h.createMachine({
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          MaxConcurrency: 5,
          ItemProcessor: { StartAt: 'Acquire', States: { Acquire: callbackTask('park', { End: true }) } },
          End: true,
        },
      },
    });
    const before = parkedCount();
    const items = Array.from({ length: 12 }, (_, i) => i + 1);
    const arn = await h.start(machineArn, { items });
    await parked(before + 4);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(parkedCount() - before).toBe(5);

    const answered = new Set<string>();
    while (answered.size < items.length) {
      const waiting = (h.calls.get('park') ?? []).slice(before) as Parked[];
      for (const { token, input } of waiting) {
        if (answered.has(token)) continue;
        answered.add(token);
        await h.client.send(
          new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ item: input }) }),
        );
      }
      await parked(before + Math.min(answered.size, items.length - 1));
    }
    const done = await h.waitForEnd(arn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '')).toEqual(items.map((item) => ({ item })));
    expect(answered.size).toBe(12);
    expect(parkedCount() - before).toBe(12);
  });

  it('answers InvalidToken for a malformed token and TaskDoesNotExist for an unknown one', async () => {
    const send = (taskToken: string) =>
      h.client.send(new SendTaskSuccessCommand({ taskToken, output: '{}' }));
    expect(await errorName(send('not-a-token'))).toBe('InvalidToken');
    expect(await errorName(send(`AQB${'A'.repeat(64)}`))).toBe('TaskDoesNotExist');
  });
});

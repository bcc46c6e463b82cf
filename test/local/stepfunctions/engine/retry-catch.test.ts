import { describe, expect, it } from 'vitest';
import { matchesError } from '../../../../local/stepfunctions/engine/errors.js';
import { retryDelaySeconds } from '../../../../local/stepfunctions/engine/retry-catch.js';
import { fakeTasks, output, run, single, taskError } from './engine-harness.js';

const LAMBDA = 'arn:aws:states:::lambda:invoke';

function flaky(failures: number, error = 'Busy') {
  let calls = 0;
  return () => {
    calls++;
    if (calls <= failures) throw taskError(error, `attempt ${calls}`);
    return { calls };
  };
}

describe('Retry', () => {
  it('delays: IntervalSeconds x BackoffRate^n, capped by MaxDelaySeconds, FULL jitter below it', () => {
    // https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (Retry fields)
    expect([0, 1, 2].map((n) => retryDelaySeconds({ IntervalSeconds: 3, BackoffRate: 2 }, n))).toEqual([
      3, 6, 12,
    ]);
    expect(retryDelaySeconds({ IntervalSeconds: 3, BackoffRate: 2, MaxDelaySeconds: 5 }, 2)).toBe(5);
    expect(retryDelaySeconds({}, 0)).toBe(1);
    expect(retryDelaySeconds({ IntervalSeconds: 4, JitterStrategy: 'FULL' }, 0, () => 0.5)).toBe(2);
  });

  it('retries a matching error up to MaxAttempts, counting $$.State.RetryCount', async () => {
    const retries: number[] = [];
    let calls = 0;
    const tasks = fakeTasks({
      S: () => {
        calls++;
        if (calls < 3) throw taskError('Busy');
        return 'ok';
      },
    });
    const state = {
      Type: 'Task',
      Resource: LAMBDA,
      Parameters: { FunctionName: 'f', 'retry.$': '$$.State.RetryCount' },
      Retry: [
        { ErrorEquals: ['Busy'], MaxAttempts: 2, IntervalSeconds: 1, BackoffRate: 1, JitterStrategy: 'FULL' },
      ],
    };
    expect(await output(single(state), {}, tasks)).toBe('ok');
    for (const call of tasks.calls) retries.push((call.input as { retry: number }).retry);
    expect(retries).toEqual([0, 1, 2]);
  });

  it('MaxAttempts 0 never retries; the first matching retrier decides even when spent', async () => {
    const tasks = fakeTasks({ S: flaky(5) });
    const state = {
      Type: 'Task',
      Resource: LAMBDA,
      Parameters: { FunctionName: 'f' },
      Retry: [
        { ErrorEquals: ['Busy'], MaxAttempts: 0 },
        { ErrorEquals: ['States.ALL'], MaxAttempts: 3 },
      ],
    };
    expect((await run(single(state), {}, tasks)).result).toMatchObject({ status: 'FAILED', error: 'Busy' });
    expect(tasks.calls).toHaveLength(1);
  });

  it('retries a Parallel state as a whole', async () => {
    const tasks = fakeTasks({ T: flaky(1) });
    const definition = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'T',
              States: { T: { Type: 'Task', Resource: LAMBDA, Parameters: { FunctionName: 'f' }, End: true } },
            },
          ],
          Retry: [
            { ErrorEquals: ['States.ALL'], MaxAttempts: 1, IntervalSeconds: 1, JitterStrategy: 'FULL' },
          ],
          End: true,
        },
      },
    };
    expect(await output(definition, {}, tasks)).toEqual([{ calls: 2 }]);
  });
});

describe('Catch', () => {
  it('JSONPath: the error output goes to ResultPath in the state input, then Next', async () => {
    const tasks = fakeTasks({ S: () => Promise.reject(taskError('Lock.Timeout', 'not granted')) });
    const definition = {
      StartAt: 'S',
      States: {
        S: {
          Type: 'Task',
          Resource: LAMBDA,
          Parameters: { FunctionName: 'f' },
          Catch: [{ ErrorEquals: ['Lock.Timeout'], ResultPath: '$.error', Next: 'Handled' }],
          End: true,
        },
        Handled: { Type: 'Pass', End: true },
      },
    };
    expect(await output(definition, { order: 1 }, tasks)).toEqual({
      order: 1,
      error: { Error: 'Lock.Timeout', Cause: 'not granted' },
    });
  });

  it('JSONata: $states.errorOutput in the catcher Output and Assign; default output is the error output', async () => {
    const tasks = fakeTasks({ S: () => Promise.reject(taskError('Boom', 'why')) });
    const definition = (catcher: Record<string, unknown>) => ({
      QueryLanguage: 'JSONata',
      StartAt: 'S',
      States: {
        S: {
          Type: 'Task',
          Resource: LAMBDA,
          Arguments: { FunctionName: 'f' },
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Handled', ...catcher }],
          End: true,
        },
        Handled: { Type: 'Pass', Output: { out: '{% $states.input %}', saved: '{% $err %}' }, End: true },
      },
    });
    expect(
      await output(
        definition({
          Output: '{% $states.errorOutput.Cause %}',
          Assign: { err: '{% $states.errorOutput.Error %}' },
        }),
        {},
        tasks,
      ),
    ).toEqual({ out: 'why', saved: 'Boom' });
    expect(await output(definition({ Assign: { err: 'x' } }), {}, tasks)).toEqual({
      out: { Error: 'Boom', Cause: 'why' },
      saved: 'x',
    });
  });

  it('States.TaskFailed matches task errors but not time-outs; States.Timeout matches heartbeat time-outs', () => {
    // https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html (error names)
    expect(matchesError(['States.TaskFailed'], 'Lambda.Unknown')).toBe(true);
    expect(matchesError(['States.TaskFailed'], 'States.Timeout')).toBe(false);
    expect(matchesError(['States.TaskFailed'], 'States.HeartbeatTimeout')).toBe(false);
    expect(matchesError(['States.Timeout'], 'States.HeartbeatTimeout')).toBe(true);
    expect(matchesError(['States.ALL'], 'States.Timeout')).toBe(true);
  });

  it('a heartbeat time-out from the runner is caught by States.Timeout and recorded as TaskTimedOut', async () => {
    const tasks = fakeTasks({
      S: () => Promise.reject(taskError('States.HeartbeatTimeout', 'no heartbeat')),
    });
    const definition = {
      StartAt: 'S',
      States: {
        S: {
          Type: 'Task',
          Resource: `${LAMBDA}.waitForTaskToken`,
          Parameters: { FunctionName: 'f', 'token.$': '$$.Task.Token' },
          HeartbeatSeconds: 1,
          Catch: [
            { ErrorEquals: ['States.TaskFailed'], Next: 'Wrong' },
            { ErrorEquals: ['States.Timeout'], Next: 'Lapsed' },
          ],
          End: true,
        },
        Wrong: { Type: 'Fail', Error: 'Wrong' },
        Lapsed: { Type: 'Pass', Result: 'lapsed', End: true },
      },
    };
    const { result, events } = await run(definition, {}, tasks);
    expect(result).toEqual({ status: 'SUCCEEDED', output: 'lapsed' });
    expect(tasks.calls[0]?.heartbeatSeconds).toBe(1);
    expect(events.find((e) => e.type === 'TaskTimedOut')).toMatchObject({
      taskTimedOutEventDetails: { error: 'States.HeartbeatTimeout', cause: 'no heartbeat' },
    });
  });

  it('States.Runtime is neither retried nor caught', async () => {
    const definition = {
      StartAt: 'S',
      States: {
        S: {
          Type: 'Pass',
          Parameters: { 'v.$': '$.missing' },
          Next: 'E',
        },
        E: { Type: 'Succeed' },
      },
    };
    expect((await run(definition)).result).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    const task = {
      StartAt: 'S',
      States: {
        S: {
          Type: 'Task',
          Resource: LAMBDA,
          Parameters: { FunctionName: 'f', 'v.$': '$.missing' },
          Retry: [{ ErrorEquals: ['States.ALL'] }],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'E' }],
          End: true,
        },
        E: { Type: 'Succeed' },
      },
    };
    const tasks = fakeTasks({});
    expect((await run(task, {}, tasks)).result).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(tasks.calls).toHaveLength(0);
  });

  it('an error with isCatchable false skips Retry and Catch (a stopped execution)', async () => {
    const uncatchable = Object.assign(taskError('States.Runtime', 'stopped'), { isCatchable: false });
    const tasks = fakeTasks({ S: () => Promise.reject(uncatchable) });
    const definition = {
      StartAt: 'S',
      States: {
        S: {
          Type: 'Task',
          Resource: LAMBDA,
          Parameters: { FunctionName: 'f' },
          Retry: [{ ErrorEquals: ['States.ALL'] }],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'E' }],
          End: true,
        },
        E: { Type: 'Succeed' },
      },
    };
    expect((await run(definition, {}, tasks)).result).toEqual({
      status: 'FAILED',
      error: 'States.Runtime',
      cause: 'stopped',
    });
    expect(tasks.calls).toHaveLength(1);
  });

  it('a Fail state inside a Parallel branch is caught by the Parallel with its own error name', async () => {
    const definition = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'F', States: { F: { Type: 'Fail', Error: 'Custom.Error', Cause: 'c' } } }],
          Catch: [{ ErrorEquals: ['Custom.Error'], Next: 'Caught' }],
          End: true,
        },
        Caught: { Type: 'Pass', End: true },
      },
    };
    expect(await output(definition)).toEqual({ Error: 'Custom.Error', Cause: 'c' });
  });
});

describe('States.QueryEvaluationError', () => {
  it('an expression that throws, or returns nothing, fails with States.QueryEvaluationError naming the field', async () => {
    const throwing = single({ Type: 'Pass', Output: '{% $error("nope") %}' }, 'JSONata');
    const { result, events } = await run(throwing);
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.QueryEvaluationError' });
    expect((result as { cause: string }).cause).toMatch(/nope/);
    expect(events.map((e) => e.type)).toContain('EvaluationFailed');
    const undefinedField = single({ Type: 'Pass', Output: { a: '{% $states.input.missing %}' } }, 'JSONata');
    const second = await run(undefinedField);
    expect(second.result).toMatchObject({ status: 'FAILED', error: 'States.QueryEvaluationError' });
    expect((second.result as { cause: string }).cause).toMatch(/Output\.a.*returned nothing/s);
  });

  it('can be caught', async () => {
    const tasks = fakeTasks({ S: () => ({}) });
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'S',
      States: {
        S: {
          Type: 'Task',
          Resource: LAMBDA,
          Arguments: { FunctionName: 'f' },
          Output: '{% $states.result.missing %}',
          Catch: [{ ErrorEquals: ['States.QueryEvaluationError'], Output: 'caught', Next: 'E' }],
          End: true,
        },
        E: { Type: 'Succeed' },
      },
    };
    expect(await output(definition, {}, tasks)).toBe('caught');
  });
});

describe('AWS JSONata functions', () => {
  it('$partition, $range, $hash, $random, $uuid, $parse', async () => {
    const state = {
      Type: 'Pass',
      Output: {
        partition: '{% $partition([1,2,3,4], 3) %}',
        range: '{% $range(0, 10, 5) %}',
        hash: '{% $hash("input data", "SHA-1") %}',
        seeded: '{% $random(7) = $random(7) %}',
        random: '{% $random() < 1 %}',
        uuid: '{% $length($uuid()) %}',
        parse: '{% $parse(\'{"a":[1]}\') %}',
      },
    };
    expect(await output(single(state, 'JSONata'))).toEqual({
      partition: [[1, 2, 3], [4]],
      range: [0, 5, 10],
      hash: 'aaff4a450a104cd177d28d18d74485e8cae074b7',
      seeded: true,
      random: true,
      uuid: 36,
      parse: { a: [1] },
    });
  });

  it('$eval is not available (AWS: use $parse)', async () => {
    const { result } = await run(single({ Type: 'Pass', Output: '{% $eval("1") %}' }, 'JSONata'));
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.QueryEvaluationError' });
  });
});

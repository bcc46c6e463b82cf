import { describe, expect, it } from 'vitest';
import { fakeTasks, output, run, single, taskError } from './engine-harness.js';

describe('Pass', () => {
  it('JSONPath: Parameters select from InputPath input (AWS "Manipulate parameters" example)', async () => {
    // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html
    const input = {
      comment: 'Example for Parameters.',
      product: {
        details: { color: 'blue', size: 'small', material: 'cotton' },
        availability: 'in stock',
        sku: '2317',
        cost: '$23',
      },
    };
    const state = {
      Type: 'Pass',
      Parameters: {
        comment: 'Selecting what I care about.',
        MyDetails: {
          'size.$': '$.product.details.size',
          'exists.$': '$.product.availability',
          StaticValue: 'foo',
        },
      },
    };
    expect(await output(single(state), input)).toEqual({
      comment: 'Selecting what I care about.',
      MyDetails: { size: 'small', exists: 'in stock', StaticValue: 'foo' },
    });
  });

  it('JSONPath: a falsy Result is the result (0, false, "", null)', async () => {
    for (const value of [0, false, '', null]) {
      expect(await output(single({ Type: 'Pass', Result: value }), { a: 1 })).toBe(value);
    }
  });

  it('JSONPath: ResultPath writes into the input, null keeps it, "$" replaces it', async () => {
    const input = { a: 1 };
    expect(await output(single({ Type: 'Pass', Result: 2, ResultPath: '$.b' }), input)).toEqual({
      a: 1,
      b: 2,
    });
    expect(await output(single({ Type: 'Pass', Result: 2, ResultPath: null }), input)).toEqual({ a: 1 });
    expect(await output(single({ Type: 'Pass', Result: 2, ResultPath: '$' }), input)).toBe(2);
  });

  it('JSONPath: InputPath and OutputPath of null give {}', async () => {
    expect(await output(single({ Type: 'Pass', InputPath: null }), { a: 1 })).toEqual({});
    expect(await output(single({ Type: 'Pass', OutputPath: null }), { a: 1 })).toEqual({});
  });

  it('JSONPath: an execution input of 0 passes through `$` paths', async () => {
    expect(await output(single({ Type: 'Pass', Parameters: { 'v.$': '$' } }), 0)).toEqual({ v: 0 });
  });

  it('JSONPath: a missing path fails the execution with States.Runtime', async () => {
    const { result } = await run(single({ Type: 'Pass', Parameters: { 'v.$': '$.missing' } }), {});
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
  });

  it('JSONata: Output transforms $states.input; no Output passes the input', async () => {
    expect(
      await output(single({ Type: 'Pass', Output: { n: '{% $states.input.a + 1 %}' } }, 'JSONata'), { a: 1 }),
    ).toEqual({
      n: 2,
    });
    expect(await output(single({ Type: 'Pass' }, 'JSONata'), { a: 1 })).toEqual({ a: 1 });
  });

  it('JSONata: only whole-string {% %} is an expression (AWS "Transforming data" example)', async () => {
    // https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html: input
    // {"title":"Doctor"} with $customerName "María" gives the same result in both languages.
    const jsonPath = {
      StartAt: 'Name',
      States: {
        Name: { Type: 'Pass', Assign: { customerName: 'María' }, Next: 'S' },
        S: {
          Type: 'Pass',
          Parameters: {
            static: 'Hello',
            'title.$': '$.title',
            'name.$': '$customerName',
            'not-evaluated': '$customerName',
          },
          End: true,
        },
      },
    };
    const jsonata = {
      QueryLanguage: 'JSONata',
      StartAt: 'Name',
      States: {
        Name: { Type: 'Pass', Assign: { customerName: 'María' }, Next: 'S' },
        S: {
          Type: 'Pass',
          Output: {
            static: 'Hello',
            title: '{% $states.input.title %}',
            name: '{% $customerName %}',
            'not-evaluated': '$customerName',
          },
          End: true,
        },
      },
    };
    const expected = { static: 'Hello', title: 'Doctor', name: 'María', 'not-evaluated': '$customerName' };
    expect(await output(jsonPath, { title: 'Doctor' })).toEqual(expected);
    expect(await output(jsonata, { title: 'Doctor' })).toEqual(expected);
  });
});

describe('Task', () => {
  it('JSONPath: Parameters, ResultSelector, ResultPath, OutputPath in that order', async () => {
    const tasks = fakeTasks({
      S: (call) => ({ Payload: { doubled: (call.input as { n: number }).n * 2 }, StatusCode: 200 }),
    });
    const state = {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      InputPath: '$.job',
      Parameters: { FunctionName: 'double', 'n.$': '$.n' },
      ResultSelector: { 'value.$': '$.Payload.doubled' },
      ResultPath: '$.out',
      OutputPath: '$.out',
    };
    expect(await output(single(state), { job: { n: 21 } }, tasks)).toEqual({ value: 42 });
    expect(tasks.calls[0]?.input).toEqual({ FunctionName: 'double', n: 21 });
  });

  it('JSONPath: ResultPath adds the result to the input (AWS "ResultPath" example)', async () => {
    // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html
    const input = {
      comment: 'This is a test of the input and output of a Task state.',
      details: 'Default example',
      who: 'AWS Step Functions',
    };
    const tasks = fakeTasks({ S: () => 'Hello, AWS Step Functions!' });
    const state = {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:hello',
      ResultPath: '$.taskresult',
    };
    expect(await output(single(state), input, tasks)).toEqual({
      ...input,
      taskresult: 'Hello, AWS Step Functions!',
    });
  });

  it('JSONPath: ResultSelector picks from the result (AWS "ResultSelector" example)', async () => {
    // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html#input-output-resultselector
    const result = {
      resourceType: 'elasticmapreduce',
      resource: 'createCluster.sync',
      output: {
        SdkHttpMetadata: { HttpStatusCode: 200 },
        SdkResponseMetadata: {},
        ClusterId: 'AKIAIOSFODNN7EXAMPLE',
      },
    };
    const tasks = fakeTasks({ S: () => result });
    const state = {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:emr',
      ResultSelector: { 'ClusterId.$': '$.output.ClusterId', 'ResourceType.$': '$.resourceType' },
      ResultPath: '$.EMROutput',
    };
    expect(await output(single(state), {}, tasks)).toEqual({
      EMROutput: { ClusterId: 'AKIAIOSFODNN7EXAMPLE', ResourceType: 'elasticmapreduce' },
    });
  });

  it('JSONata: Arguments reach the task and Output shapes $states.result', async () => {
    const tasks = fakeTasks({ S: (call) => ({ Payload: { echo: call.input } }) });
    const state = {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Arguments: { FunctionName: 'echo', Payload: { id: '{% $states.input.id %}' } },
      Output: '{% $states.result.Payload.echo.Payload %}',
    };
    expect(await output(single(state, 'JSONata'), { id: 'x' }, tasks)).toEqual({ id: 'x' });
  });

  it('JSONata: without Output the output is the task result', async () => {
    const tasks = fakeTasks({ S: () => ({ ok: true }) });
    const state = {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Arguments: { FunctionName: 'f' },
    };
    expect(await output(single(state, 'JSONata'), { ignored: 1 }, tasks)).toEqual({ ok: true });
  });

  it('.waitForTaskToken: a fresh token per attempt, in $$.Task.Token and the call', async () => {
    let attempts = 0;
    const tasks = fakeTasks({
      S: (call) => {
        attempts++;
        if (attempts === 1) throw taskError('Busy');
        return { token: call.token };
      },
    });
    const state = {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: 'f', Payload: { 'token.$': '$$.Task.Token' } },
      Retry: [
        { ErrorEquals: ['Busy'], IntervalSeconds: 1, MaxAttempts: 1, BackoffRate: 1, JitterStrategy: 'FULL' },
      ],
    };
    const result = await output(single(state), {}, tasks);
    expect(tasks.calls.map((c) => (c.input as { Payload: { token: string } }).Payload.token)).toEqual([
      'token-1',
      'token-2',
    ]);
    expect(tasks.calls.map((c) => c.token)).toEqual(['token-1', 'token-2']);
    expect(result).toEqual({ token: 'token-2' });
  });

  it('JSONata: $states.context.Task.Token inside a callback task', async () => {
    const tasks = fakeTasks({ S: (call) => call.input });
    const state = {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Arguments: { FunctionName: 'f', Payload: { token: '{% $states.context.Task.Token %}' } },
    };
    expect(await output(single(state, 'JSONata'), {}, tasks)).toEqual({
      FunctionName: 'f',
      Payload: { token: 'token-1' },
    });
  });

  it('TimeoutSeconds fails the attempt with States.Timeout and aborts its signal', async () => {
    let signal: AbortSignal | undefined;
    const tasks = fakeTasks({
      S: (call) => {
        signal = call.signal;
        return new Promise(() => {});
      },
    });
    const state = {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'f' },
      TimeoutSeconds: 1,
    };
    const { result, events } = await run(single(state), {}, tasks);
    expect(result).toEqual({ status: 'FAILED', error: 'States.Timeout', cause: '' });
    expect(signal?.aborted).toBe(true);
    expect(events.map((e) => e.type)).toContain('TaskTimedOut');
  });

  it('a task error becomes the execution error and cause', async () => {
    const tasks = fakeTasks({ S: () => Promise.reject(taskError('Lock.Timeout', 'not granted')) });
    const state = {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'f' },
    };
    expect((await run(single(state), {}, tasks)).result).toEqual({
      status: 'FAILED',
      error: 'Lock.Timeout',
      cause: 'not granted',
    });
  });
});

describe('Choice', () => {
  const choices = (language: 'JSONPath' | 'JSONata') => ({
    QueryLanguage: language,
    StartAt: 'C',
    States: {
      C: {
        Type: 'Choice',
        Choices:
          language === 'JSONPath'
            ? [
                {
                  And: [
                    { Variable: '$.n', IsNumeric: true },
                    { Variable: '$.n', NumericGreaterThanEquals: 10 },
                  ],
                  Next: 'Big',
                },
                { Variable: '$.name', StringMatches: 'log-*.txt', Next: 'Log' },
                { Not: { Variable: '$.flag', IsPresent: true }, Next: 'NoFlag' },
              ]
            : [
                { Condition: '{% $states.input.n >= 10 %}', Next: 'Big' },
                { Condition: '{% $contains($states.input.name, /^log-.*\\.txt$/) %}', Next: 'Log' },
                { Condition: '{% $not($exists($states.input.flag)) %}', Next: 'NoFlag' },
              ],
        Default: 'Other',
      },
      Big: { Type: 'Pass', Result: 'big', End: true },
      Log: { Type: 'Pass', Result: 'log', End: true },
      NoFlag: { Type: 'Pass', Result: 'no flag', End: true },
      Other: { Type: 'Pass', Result: 'other', End: true },
    },
  });

  for (const language of ['JSONPath', 'JSONata'] as const) {
    it(`${language}: the first matching rule wins, Default otherwise`, async () => {
      const definition = choices(language);
      if (language === 'JSONata') {
        for (const name of ['Big', 'Log', 'NoFlag', 'Other']) {
          const state = definition.States[name as 'Big'] as Record<string, unknown>;
          state.Output = state.Result;
          delete state.Result;
        }
      }
      expect(await output(definition, { n: 12, name: 'x', flag: 1 })).toBe('big');
      expect(await output(definition, { n: 1, name: 'log-1.txt', flag: 1 })).toBe('log');
      expect(await output(definition, { n: 1, name: 'x' })).toBe('no flag');
      expect(await output(definition, { n: 1, name: 'x', flag: 1 })).toBe('other');
    });
  }

  it('no match and no Default: States.NoChoiceMatched', async () => {
    const definition = {
      StartAt: 'C',
      States: {
        C: { Type: 'Choice', Choices: [{ Variable: '$.a', BooleanEquals: true, Next: 'E' }] },
        E: { Type: 'Succeed' },
      },
    };
    expect((await run(definition, { a: false })).result).toMatchObject({
      status: 'FAILED',
      error: 'States.NoChoiceMatched',
    });
  });

  it('JSONPath: timestamps compare as instants, paths compare to paths', async () => {
    const definition = {
      StartAt: 'C',
      States: {
        C: {
          Type: 'Choice',
          Choices: [{ Variable: '$.at', TimestampLessThanPath: '$.deadline', Next: 'Early' }],
          Default: 'Late',
        },
        Early: { Type: 'Pass', Result: 'early', End: true },
        Late: { Type: 'Pass', Result: 'late', End: true },
      },
    };
    expect(
      await output(definition, { at: '2026-01-01T10:00:00+02:00', deadline: '2026-01-01T09:00:00Z' }),
    ).toBe('early');
  });

  it("JSONata: a rule's Output wins; without one the state's Output applies", async () => {
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'C',
      States: {
        C: {
          Type: 'Choice',
          Choices: [
            { Condition: '{% $states.input.n = 1 %}', Output: 'rule', Next: 'E' },
            { Condition: '{% $states.input.n = 2 %}', Next: 'E' },
          ],
          Output: 'state',
          Default: 'E',
        },
        E: { Type: 'Succeed' },
      },
    };
    expect(await output(definition, { n: 1 })).toBe('rule');
    expect(await output(definition, { n: 2 })).toBe('state');
    expect(await output(definition, { n: 3 })).toBe('state');
  });

  it('JSONata: a Condition that is not a boolean is States.QueryEvaluationError', async () => {
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'C',
      States: {
        C: { Type: 'Choice', Choices: [{ Condition: '{% 1 %}', Next: 'E' }] },
        E: { Type: 'Succeed' },
      },
    };
    expect((await run(definition)).result).toMatchObject({
      status: 'FAILED',
      error: 'States.QueryEvaluationError',
    });
  });
});

describe('Wait', () => {
  it('JSONPath: SecondsPath reads the effective input; the output is the input', async () => {
    const started = Date.now();
    expect(await output(single({ Type: 'Wait', SecondsPath: '$.s' }), { s: 1 })).toEqual({ s: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('JSONata: Seconds as an expression, a past Timestamp returns at once', async () => {
    expect(
      await output(single({ Type: 'Wait', Seconds: '{% $states.input.s %}' }, 'JSONata'), { s: 0 }),
    ).toEqual({ s: 0 });
    expect(
      await output(single({ Type: 'Wait', Timestamp: '2020-01-01T00:00:00Z', Output: 'done' }, 'JSONata')),
    ).toBe('done');
  });

  it('a wait past the setTimeout limit (24.8 days) waits, rather than firing at once', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(Object.assign(new Error('stopped'), { isCatchable: false })), 50);
    const { result } = await run(single({ Type: 'Wait', Seconds: 5_000_000 }), {}, undefined, stop.signal);
    expect(result).toEqual({ status: 'ABORTED' });
  });

  it('a negative Seconds fails with States.Runtime', async () => {
    expect((await run(single({ Type: 'Wait', SecondsPath: '$.s' }), { s: -1 })).result).toMatchObject({
      status: 'FAILED',
      error: 'States.Runtime',
    });
  });
});

describe('Succeed and Fail', () => {
  it('Succeed ends the run with its (filtered) input', async () => {
    expect(
      await output({ StartAt: 'S', States: { S: { Type: 'Succeed', OutputPath: '$.a' } } }, { a: 1 }),
    ).toBe(1);
    expect(
      await output(
        {
          QueryLanguage: 'JSONata',
          StartAt: 'S',
          States: { S: { Type: 'Succeed', Output: '{% $states.input.a %}' } },
        },
        { a: 2 },
      ),
    ).toBe(2);
  });

  it('JSONPath Fail: ErrorPath and CausePath may be intrinsic functions', async () => {
    const definition = {
      StartAt: 'F',
      States: {
        F: { Type: 'Fail', ErrorPath: '$.code', CausePath: "States.Format('order {} failed', $.id)" },
      },
    };
    expect((await run(definition, { code: 'Order.Failed', id: 7 })).result).toEqual({
      status: 'FAILED',
      error: 'Order.Failed',
      cause: 'order 7 failed',
    });
  });

  it('JSONata Fail: Error and Cause expressions', async () => {
    const definition = {
      QueryLanguage: 'JSONata',
      StartAt: 'F',
      States: { F: { Type: 'Fail', Error: '{% $states.input.code %}', Cause: 'static' } },
    };
    expect((await run(definition, { code: 'E1' })).result).toEqual({
      status: 'FAILED',
      error: 'E1',
      cause: 'static',
    });
  });

  it('a Fail state without Error or Cause reports neither', async () => {
    expect((await run({ StartAt: 'F', States: { F: { Type: 'Fail' } } })).result).toEqual({
      status: 'FAILED',
    });
  });
});

describe('QueryLanguage per state', () => {
  it('a JSONata state inside a JSONPath machine, and the reverse', async () => {
    const definition = {
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', Parameters: { 'n.$': '$.n' }, Next: 'B' },
        B: { Type: 'Pass', QueryLanguage: 'JSONata', Output: { n: '{% $states.input.n * 10 %}' }, End: true },
      },
    };
    expect(await output(definition, { n: 4 })).toEqual({ n: 40 });
  });
});

describe('context object', () => {
  it('$$ and $states.context carry Execution, State and StateMachine fields', async () => {
    const definition = {
      StartAt: 'A',
      States: {
        A: {
          Type: 'Pass',
          Parameters: {
            'id.$': '$$.Execution.Id',
            'input.$': '$$.Execution.Input',
            'name.$': '$$.Execution.Name',
            'state.$': '$$.State.Name',
            'entered.$': '$$.State.EnteredTime',
            'retry.$': '$$.State.RetryCount',
            'machine.$': '$$.StateMachine.Id',
          },
          Next: 'B',
        },
        B: {
          Type: 'Pass',
          QueryLanguage: 'JSONata',
          Output: {
            first: '{% $states.input %}',
            state: '{% $states.context.State.Name %}',
            start: '{% $states.context.Execution.StartTime %}',
          },
          End: true,
        },
      },
    };
    const out = (await output(definition, { x: 1 })) as Record<string, Record<string, unknown>>;
    expect(out.first).toMatchObject({
      id: 'arn:aws:states:us-east-1:000000000000:execution:test:run-1',
      input: { x: 1 },
      name: 'run-1',
      state: 'A',
      retry: 0,
      machine: 'arn:aws:states:us-east-1:000000000000:stateMachine:test',
    });
    expect(Date.parse(out.first?.entered as string)).not.toBeNaN();
    expect(out.state).toBe('B');
  });
});

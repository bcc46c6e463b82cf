import { describe, expect, it } from 'vitest';
import { fakeTasks, run, taskError } from './engine-harness.js';

const LAMBDA = 'arn:aws:states:::lambda:invoke';

// Event type names from https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html
describe('execution history', () => {
  it('a Task run: entered, scheduled, started, succeeded, exited, execution succeeded', async () => {
    const tasks = fakeTasks({ T: () => ({ ok: 1 }) });
    const definition = {
      StartAt: 'T',
      States: { T: { Type: 'Task', Resource: LAMBDA, Parameters: { FunctionName: 'f' }, End: true } },
    };
    const { events } = await run(definition, { a: 1 }, tasks);
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(events.map((e) => e.previousEventId)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(events[2]).toMatchObject({
      taskScheduledEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke',
        region: 'us-east-1',
        parameters: '{"FunctionName":"f"}',
      },
    });
    expect(events[1]).toMatchObject({ stateEnteredEventDetails: { name: 'T', input: '{"a":1}' } });
  });

  it('a caught failure: TaskFailed, then the state exits and the catcher target runs', async () => {
    const tasks = fakeTasks({ T: () => Promise.reject(taskError('Boom', 'c')) });
    const definition = {
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: LAMBDA,
          Parameters: { FunctionName: 'f' },
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'F' }],
          End: true,
        },
        F: { Type: 'Fail', Error: 'Final' },
      },
    };
    const { events } = await run(definition, {}, tasks);
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskStateExited',
      'FailStateEntered',
      'ExecutionFailed',
    ]);
    expect(events[4]).toMatchObject({ taskFailedEventDetails: { error: 'Boom', cause: 'c' } });
    expect(events.at(-1)).toMatchObject({ executionFailedEventDetails: { error: 'Final' } });
  });

  it('a callback task: TaskSubmitted when the runner reports the invoke returned', async () => {
    const tasks = fakeTasks({
      T: async (call) => {
        call.submitted?.({ StatusCode: 200 });
        return { answered: true };
      },
    });
    const definition = {
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: `${LAMBDA}.waitForTaskToken`,
          Parameters: { FunctionName: 'f', 'token.$': '$$.Task.Token' },
          End: true,
        },
      },
    };
    const { events } = await run(definition, {}, tasks);
    expect(events.map((e) => e.type).slice(2, 6)).toEqual([
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
    ]);
    expect(events[4]).toMatchObject({
      taskSubmittedEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke.waitForTaskToken',
        output: '{"StatusCode":200}',
      },
    });
  });

  it('Map and Parallel events, Lambda function ARNs as LambdaFunction* events, assigned variables', async () => {
    const tasks = fakeTasks({ L: () => 1 });
    const definition = {
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
          Assign: { n: 1 },
          Next: 'P',
        },
        P: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'L',
              States: {
                L: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:f', End: true },
              },
            },
          ],
          End: true,
        },
      },
    };
    const { events } = await run(definition, [7], tasks);
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateStarted',
      'MapIterationStarted',
      'PassStateEntered',
      'PassStateExited',
      'MapIterationSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'ParallelStateEntered',
      'ParallelStateStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ParallelStateSucceeded',
      'ParallelStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events[8]).toMatchObject({
      stateExitedEventDetails: { name: 'M', assignedVariables: { n: '1' } },
    });
    expect(events[3]).toMatchObject({ mapIterationStartedEventDetails: { name: 'M', index: 0 } });
  });

  it('a stopped execution ends ABORTED with ExecutionAborted, its pending task signalled', async () => {
    let signal: AbortSignal | undefined;
    const tasks = fakeTasks({
      T: (call) => {
        signal = call.signal;
        return new Promise(() => {});
      },
    });
    const stop = new AbortController();
    const definition = {
      StartAt: 'T',
      States: { T: { Type: 'Task', Resource: LAMBDA, Parameters: { FunctionName: 'f' }, End: true } },
    };
    const running = run(definition, {}, tasks, stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 10));
    stop.abort(Object.assign(new Error('stopped'), { isCatchable: false }));
    const { result, events } = await running;
    expect(result).toEqual({ status: 'ABORTED' });
    expect(signal?.aborted).toBe(true);
    expect(events.at(-1)?.type).toBe('ExecutionAborted');
  });

  it('the top-level TimeoutSeconds ends the run TIMED_OUT', async () => {
    const definition = {
      TimeoutSeconds: 1,
      StartAt: 'W',
      States: { W: { Type: 'Wait', Seconds: 5, End: true } },
    };
    const { result, events } = await run(definition);
    expect(result).toEqual({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect(events.at(-1)?.type).toBe('ExecutionTimedOut');
  });
});

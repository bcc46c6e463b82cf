import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function';

class BusyError extends Error {
  override name = 'Lock.Busy';
}

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    echo: (payload) => ({ echoed: payload }),
    double: (payload) => (payload as { n: number }).n * 2,
    triple: (payload) => (payload as { n: number }).n * 3,
    nothing: () => undefined,
    busy: () => {
      throw new BusyError('resource partner-api is busy');
    },
  });
});
afterAll(async () => {
  await h.stop();
});

describe('Lambda task states', () => {
  it('wraps a lambda:invoke result as AWS does (Payload, StatusCode, ExecutedVersion)', async () => {
    const machineArn = await h.createMachine({
      StartAt: 'Invoke',
      States: {
        Invoke: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: {
            FunctionName: `${FUNCTION_ARN}:echo`,
            Payload: { 'name.$': '$$.Execution.Name', 'value.$': '$.v' },
          },
          End: true,
        },
      },
    });
    const arn = await h.start(machineArn, { v: 42 }, 'invoke-shape');
    const done = await h.waitForEnd(arn);
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output ?? '');
    expect(output).toMatchObject({
      ExecutedVersion: '$LATEST',
      Payload: { echoed: { name: 'invoke-shape', value: 42 } },
      StatusCode: 200,
      SdkHttpMetadata: { HttpStatusCode: 200 },
    });
    expect(typeof output.SdkResponseMetadata.RequestId).toBe('string');
  });

  it('returns a plain function ARN result unwrapped, and null for a function returning nothing', async () => {
    const machineArn = await h.createMachine({
      StartAt: 'Double',
      States: {
        Double: {
          Type: 'Task',
          Resource: `${FUNCTION_ARN}:double`,
          ResultPath: '$.doubled',
          Next: 'Nothing',
        },
        Nothing: { Type: 'Task', Resource: `${FUNCTION_ARN}:nothing`, ResultPath: '$.nothing', End: true },
      },
    });
    const done = await h.waitForEnd(await h.start(machineArn, { n: 21 }));
    expect(JSON.parse(done.output ?? '')).toEqual({ n: 21, doubled: 42, nothing: null });
  });

  it('retries a function error by its errorType, then catches it with the Lambda error JSON as Cause', async () => {
    const machineArn = await h.createMachine({
      StartAt: 'Acquire',
      States: {
        Acquire: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'busy', 'Payload.$': '$' },
          Retry: [{ ErrorEquals: ['Lock.Busy'], IntervalSeconds: 1, MaxAttempts: 1 }],
          Catch: [{ ErrorEquals: ['Lock.Busy'], Next: 'Handled', ResultPath: '$.failure' }],
          End: true,
        },
        Handled: { Type: 'Pass', End: true },
      },
    });
    const callsBefore = h.calls.get('busy')?.length ?? 0;
    const done = await h.waitForEnd(await h.start(machineArn, { id: 7 }));
    expect(done.status).toBe('SUCCEEDED');
    expect((h.calls.get('busy')?.length ?? 0) - callsBefore).toBe(2);
    const { failure } = JSON.parse(done.output ?? '');
    expect(failure.Error).toBe('Lock.Busy');
    expect(JSON.parse(failure.Cause)).toMatchObject({
      errorType: 'Lock.Busy',
      errorMessage: 'resource partner-api is busy',
    });
  });

  it('fails the execution with the errorType when nothing catches the function error', async () => {
    const machineArn = await h.createMachine({
      StartAt: 'Acquire',
      States: { Acquire: { Type: 'Task', Resource: `${FUNCTION_ARN}:busy`, End: true } },
    });
    const done = await h.waitForEnd(await h.start(machineArn));
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('Lock.Busy');
    expect(JSON.parse(done.cause ?? '').errorMessage).toBe('resource partner-api is busy');
  });

  it('names a Lambda service error as AWS does (Lambda.ResourceNotFoundException), so a Retry or Catch written for AWS matches it', async () => {
    const machineArn = await h.createMachine({
      StartAt: 'Call',
      States: {
        Call: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'missing', Payload: {} },
          Catch: [
            { ErrorEquals: ['Lambda.ResourceNotFoundException'], ResultPath: '$.caught', Next: 'Caught' },
          ],
          End: true,
        },
        Caught: { Type: 'Pass', End: true },
      },
    });
    const done = await h.waitForEnd(await h.start(machineArn));
    expect(done.status).toBe('SUCCEEDED');
    const { caught } = JSON.parse(done.output ?? '{}');
    expect(caught.Error).toBe('Lambda.ResourceNotFoundException');
    expect(caught.Cause).toContain('Function not found: missing');
    // The same through a plain function ARN, uncaught: the execution's error carries the prefix.
    const direct = await h.createMachine({
      StartAt: 'Call',
      States: { Call: { Type: 'Task', Resource: `${FUNCTION_ARN}:missing`, End: true } },
    });
    const failed = await h.waitForEnd(await h.start(direct));
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('Lambda.ResourceNotFoundException');
  });

  it('runs Task states inside Parallel branches', async () => {
    const branch = (fn: string) => ({
      StartAt: fn,
      States: { [fn]: { Type: 'Task', Resource: `${FUNCTION_ARN}:${fn}`, End: true } },
    });
    const machineArn = await h.createMachine({
      StartAt: 'Both',
      States: { Both: { Type: 'Parallel', Branches: [branch('double'), branch('triple')], End: true } },
    });
    const done = await h.waitForEnd(await h.start(machineArn, { n: 5 }));
    expect(JSON.parse(done.output ?? '')).toEqual([10, 15]);
  });

  it('works around the engine on ResultPath "$" and on Pass states with a falsy Result', async () => {
    const machineArn = await h.createMachine({
      StartAt: 'Whole',
      States: {
        Whole: { Type: 'Task', Resource: `${FUNCTION_ARN}:echo`, ResultPath: '$', Next: 'Flag' },
        Flag: { Type: 'Pass', Result: false, ResultPath: '$.flag', Next: 'Zero' },
        Zero: { Type: 'Pass', Result: 0, ResultPath: '$.zero', End: true },
      },
    });
    const done = await h.waitForEnd(await h.start(machineArn, { a: 1 }));
    expect(JSON.parse(done.output ?? '')).toEqual({ echoed: { a: 1 }, flag: false, zero: 0 });
  });
});

import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { LambdaFunctionError, LambdaServiceError, LocalLambdaRuntime } from '../../../local/lambda/index.js';

const quiet = () => {};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LocalLambdaRuntime.invoke', () => {
  it('gives the handler a real-looking context and returns the result through JSON', async () => {
    const runtime = new LocalLambdaRuntime({ region: 'eu-west-1', accountId: '111122223333', logger: quiet });
    let seen: Context | undefined;
    const arn = runtime.register({
      name: 'dynamo-dlm-count',
      timeoutSeconds: 10,
      environment: { TABLE: 'locks' },
      handler: async (_event, context) => {
        seen = context;
        return { at: new Date(0), skipped: undefined, remaining: context.getRemainingTimeInMillis() };
      },
    });
    expect(arn).toBe('arn:aws:lambda:eu-west-1:111122223333:function:dynamo-dlm-count');
    const result = await runtime.invoke('dynamo-dlm-count', {});
    expect(result).toEqual({ at: '1970-01-01T00:00:00.000Z', remaining: expect.any(Number) });
    expect((result as { remaining: number }).remaining).toBeGreaterThan(9000);
    expect((result as { remaining: number }).remaining).toBeLessThanOrEqual(10_000);
    expect(seen).toMatchObject({
      functionName: 'dynamo-dlm-count',
      functionVersion: '$LATEST',
      invokedFunctionArn: arn,
      memoryLimitInMB: '128',
      logGroupName: '/aws/lambda/dynamo-dlm-count',
      callbackWaitsForEmptyEventLoop: true,
      environment: { TABLE: 'locks' },
    });
    expect(seen?.awsRequestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(seen?.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
  });

  it('gives the handler a copy of the event and null for an undefined result', async () => {
    const runtime = new LocalLambdaRuntime({ logger: quiet });
    runtime.register({
      name: 'mutator',
      handler: async (event: { list: number[] }) => {
        event.list.push(4);
      },
    });
    const event = { list: [1, 2, 3] };
    expect(await runtime.invoke('mutator', event)).toBeNull();
    expect(event.list).toEqual([1, 2, 3]);
  });

  it('finds functions by name, ARN and $LATEST-qualified ARN only', async () => {
    const runtime = new LocalLambdaRuntime({ logger: quiet });
    const arn = runtime.register({ name: 'f', handler: async () => 'ok' });
    expect(runtime.has('f')).toBe(true);
    expect(runtime.has(arn)).toBe(true);
    expect(runtime.has(`${arn}:$LATEST`)).toBe(true);
    expect(runtime.has(`${arn}:live`)).toBe(false);
    expect(runtime.has(arn.replace('us-east-1', 'eu-west-1'))).toBe(false);
    expect(await runtime.invoke(`${arn}:$LATEST`, null)).toBe('ok');
  });

  it('rejects an unknown function with ResourceNotFoundException and a second registration', async () => {
    const runtime = new LocalLambdaRuntime({ logger: quiet });
    const error = await runtime.invoke('nope', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LambdaServiceError);
    expect(error).toMatchObject({ name: 'ResourceNotFoundException', message: 'Function not found: nope' });
    runtime.register({ name: 'once', handler: async () => null });
    expect(() => runtime.register({ name: 'once', handler: async () => null })).toThrow(/already exist/);
    expect(() => runtime.register({ name: 'bad name' as string, handler: async () => null })).toThrow(
      /Invalid/,
    );
    expect(() => runtime.register({ name: 'neither' })).toThrow(/either handler or modulePath/);
  });

  it("rejects with the thrown error's name as errorType", async () => {
    const lines: string[] = [];
    const runtime = new LocalLambdaRuntime({ logger: (line) => lines.push(line) });
    class LockTimeoutError extends Error {
      override name = 'Lock.Timeout';
    }
    runtime.register({
      name: 'thrower',
      handler: async () => {
        throw new LockTimeoutError('not granted');
      },
    });
    runtime.register({
      name: 'string-thrower',
      handler: () => {
        throw 'plain';
      },
    });
    const error = await runtime.invoke('thrower', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LambdaFunctionError);
    expect(error).toMatchObject({ name: 'Lock.Timeout', errorType: 'Lock.Timeout', message: 'not granted' });
    expect((error as LambdaFunctionError).cause).toBeInstanceOf(LockTimeoutError);
    expect((error as LambdaFunctionError).trace[0]).toContain('not granted');
    await expect(runtime.invoke('string-thrower', {})).rejects.toMatchObject({
      name: 'string',
      message: 'plain',
    });
    expect(lines).toEqual([
      'invoke thrower failed: Lock.Timeout: not granted',
      'invoke string-thrower failed: string: plain',
    ]);
  });

  it('fails a handler running past its timeout with Sandbox.Timedout and abandons it', async () => {
    const runtime = new LocalLambdaRuntime({ logger: quiet });
    let remainingAtEnd = -1;
    runtime.register({
      name: 'slow',
      timeoutSeconds: 0.2,
      handler: async (_event, context) => {
        await sleep(400);
        remainingAtEnd = context.getRemainingTimeInMillis();
        return 'too late';
      },
    });
    const started = Date.now();
    await expect(runtime.invoke('slow', {})).rejects.toMatchObject({
      name: 'Sandbox.Timedout',
      message: 'Task timed out after 0.20 seconds',
    });
    expect(Date.now() - started).toBeLessThan(350);
    await sleep(300);
    expect(remainingAtEnd).toBe(0);
  });

  it('ends the invocation through the deprecated context.succeed and context.fail', async () => {
    const runtime = new LocalLambdaRuntime({ logger: quiet });
    runtime.register({
      name: 'old-style',
      handler: (event: { ok: boolean }, context) => {
        if (event.ok) context.succeed({ via: 'succeed' });
        else context.fail(new Error('via fail'));
        return new Promise(() => {});
      },
    });
    expect(await runtime.invoke('old-style', { ok: true })).toEqual({ via: 'succeed' });
    await expect(runtime.invoke('old-style', { ok: false })).rejects.toThrow('via fail');
  });

  it('loads a handler from a module path lazily, by export name', async () => {
    const runtime = new LocalLambdaRuntime({ logger: quiet });
    runtime.register({ name: 'echo', modulePath: 'test/local/lambda/fixtures/echo-handler.ts' });
    runtime.register({
      name: 'shout',
      modulePath: new URL('./fixtures/echo-handler.ts', import.meta.url).pathname,
      exportName: 'shout',
    });
    runtime.register({
      name: 'missing-export',
      modulePath: 'test/local/lambda/fixtures/echo-handler.ts',
      exportName: 'notAHandler',
    });
    runtime.register({ name: 'missing-module', modulePath: 'test/local/lambda/fixtures/nowhere.ts' });
    expect(await runtime.invoke('echo', { a: 1 })).toEqual({
      event: { a: 1 },
      functionName: 'echo',
      requestId: expect.any(String),
    });
    expect(await runtime.invoke('shout', { text: 'hi' })).toBe('HI');
    await expect(runtime.invoke('missing-export', {})).rejects.toMatchObject({
      name: 'Runtime.HandlerNotFound',
    });
    await expect(runtime.invoke('missing-module', {})).rejects.toMatchObject({
      name: 'Runtime.ImportModuleError',
    });
  });

  it('stop() waits for invocations in flight', async () => {
    const runtime = new LocalLambdaRuntime({ logger: quiet });
    let finished = false;
    runtime.register({
      name: 'busy',
      handler: async () => {
        await sleep(150);
        finished = true;
      },
    });
    const invocation = runtime.invoke('busy', {});
    await runtime.stop();
    expect(finished).toBe(true);
    await invocation;
  });
});

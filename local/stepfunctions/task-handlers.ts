import { randomUUID } from 'node:crypto';
import type { RunOptions } from 'aws-local-stepfunctions';
import { taskKind } from './definition-check.js';
import type { TaskRunner } from './engine/index.js';
import { lambdaFailure, UncatchableError } from './errors.js';
import { readPath } from './json-path.js';
import { newTaskToken, type TaskTokens } from './task-tokens.js';
import type { TimeoutErrors } from './timeout-errors.js';
import type { JsonValue, LambdaInvoker, TaskSpec } from './types.js';

type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type EngineJson = Awaited<ReturnType<LocalHandlers[string]>>;

/**
 * What the handlers of one execution share: the Lambda runner, the token registry, the engine's
 * time-out errors, the execution's abort signal (aborted when the execution ends) and the
 * sentinel string standing for `$$.Task.Token` in its context object.
 *
 * @example
 * const handlers = buildTaskHandlers(machine.tasks, { lambda, tokens, timeouts, signal, sentinel });
 */
export interface HandlerContext {
  lambda: LambdaInvoker;
  tokens: TaskTokens;
  timeouts: TimeoutErrors;
  signal: AbortSignal;
  sentinel: string;
}

/** JSON round trip, as a real invocation serializes results (drops undefined, Dates to strings). */
const toJson = (value: unknown): EngineJson => JSON.parse(JSON.stringify(value ?? null)) as EngineJson;

function replaceSentinel(value: unknown, sentinel: string, token: string): unknown {
  if (typeof value === 'string') return value.includes(sentinel) ? value.split(sentinel).join(token) : value;
  if (Array.isArray(value)) return value.map((item) => replaceSentinel(item, sentinel, token));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, replaceSentinel(v, sentinel, token)]),
    );
  }
  return value;
}

function invokeParams(input: unknown): { functionName: string; payload: unknown; async: boolean } {
  const params = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  if (typeof params.FunctionName !== 'string' || params.FunctionName === '') {
    throw new UncatchableError('States.Runtime', 'The Task parameters have no string FunctionName');
  }
  const payload = params.Payload === undefined ? {} : params.Payload;
  return { functionName: params.FunctionName, payload, async: params.InvocationType === 'Event' };
}

// Lambda:Invoke's response, as Step Functions hands it to the state (HTTP metadata included).
function invokeResponse(payload: unknown, statusCode: number): EngineJson {
  const requestId = randomUUID();
  const headers = { 'Content-Type': 'application/json', 'X-Amzn-Requestid': requestId };
  return toJson({
    ExecutedVersion: '$LATEST',
    Payload: payload,
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      HttpHeaders: headers,
      HttpStatusCode: statusCode,
    },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: statusCode,
  });
}

function positiveSeconds(spec: TaskSpec, input: unknown, which: 'heartbeat' | 'timeout'): number | undefined {
  const fixed = which === 'heartbeat' ? spec.heartbeatSeconds : spec.timeoutSeconds;
  if (fixed !== undefined) return fixed;
  const path = which === 'heartbeat' ? spec.heartbeatSecondsPath : spec.timeoutSecondsPath;
  if (path === undefined) return undefined;
  const value = readPath(path, input);
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (which === 'timeout') return undefined; // the engine reports a bad TimeoutSecondsPath itself
  throw new UncatchableError('States.Runtime', `HeartbeatSecondsPath '${path}' is not a positive integer`);
}

/** Rejects with the signal's reason as soon as the execution ends, so the engine unwinds. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function invokeLambda(
  ctx: { lambda: LambdaInvoker },
  functionName: string,
  payload: unknown,
): Promise<unknown> {
  try {
    return await ctx.lambda.invoke(functionName, toJson(payload));
  } catch (error) {
    throw lambdaFailure(error);
  }
}

function callbackTask(spec: TaskSpec, input: unknown, ctx: HandlerContext): Promise<unknown> {
  const heartbeatSeconds = positiveSeconds(spec, input, 'heartbeat');
  const timeoutSeconds = positiveSeconds(spec, input, 'timeout');
  // Issued synchronously, before the engine arms its own time-out timer, so ours fires first
  // and the token is closed by the time the state fails.
  const { token, result } = ctx.tokens.issue({
    signal: ctx.signal,
    heartbeatSeconds,
    timeoutSeconds,
    onHeartbeatLapse: () => ctx.timeouts.heartbeat(heartbeatSeconds ?? 0),
    onTimeout: () => ctx.timeouts.timeout(),
  });
  const { functionName, payload, async } = invokeParams(replaceSentinel(input, ctx.sentinel, token));
  const invocation = invokeLambda(ctx, functionName, payload);
  // An Event invocation returns at once on AWS; here it resolves when the function ends.
  if (async) ctx.tokens.startHeartbeat(token);
  invocation.then(
    () => {
      if (!async) ctx.tokens.startHeartbeat(token);
    },
    (error: Error) => {
      // A function error fails the task unless it was already answered (or is fire-and-forget).
      if (!async && ctx.tokens.isPending(token)) ctx.tokens.fail(token, error);
    },
  );
  return result;
}

function handlerFor(spec: TaskSpec, ctx: HandlerContext): (input: unknown) => Promise<EngineJson> {
  return async (input) => {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    switch (spec.kind) {
      case 'constant':
        return toJson(spec.value as JsonValue);
      case 'function':
        return toJson(await untilAborted(invokeLambda(ctx, spec.resource, input), ctx.signal));
      case 'callback':
        return toJson(await callbackTask(spec, input, ctx));
      case 'invoke': {
        const { functionName, payload, async } = invokeParams(input);
        const invocation = invokeLambda(ctx, functionName, payload);
        if (async) {
          invocation.catch(() => {}); // Event invocations never report function errors
          return invokeResponse('', 202);
        }
        return invokeResponse(await untilAborted(invocation, ctx.signal), 200);
      }
    }
  };
}

/**
 * Builds the engine's `taskResourceLocalHandlers` for one execution: every Task state gets a
 * local handler, so the engine never calls real AWS. Each handler refuses to start once the
 * execution has ended (StopExecution, time-out), with an error the engine cannot retry or catch.
 *
 * @example
 * machine.run(input, { overrides: { taskResourceLocalHandlers: buildTaskHandlers(tasks, ctx) } });
 */
export function buildTaskHandlers(tasks: ReadonlyMap<string, TaskSpec>, ctx: HandlerContext): LocalHandlers {
  const handlers: LocalHandlers = {};
  for (const [name, spec] of tasks) handlers[name] = handlerFor(spec, ctx);
  return handlers;
}

/**
 * What the own engine's task runner needs: the Lambda runner, the token registry and the
 * time-out errors.
 *
 * @example
 * const tasks = buildTaskRunner({ lambda, tokens, timeouts });
 */
export interface RunnerContext {
  lambda: LambdaInvoker;
  tokens: TaskTokens;
  timeouts: TimeoutErrors;
}

// A callback task on the own engine: the token is the one already in $$.Task.Token, it closes
// when the attempt's signal aborts (time-out, stop, failed sibling), and the heartbeat clock
// starts when the invoke returns, as on AWS.
function callbackAttempt(call: Parameters<TaskRunner['run']>[0], ctx: RunnerContext): Promise<unknown> {
  const { heartbeatSeconds } = call;
  const { token, result } = ctx.tokens.issue({
    token: call.token,
    signal: call.signal,
    heartbeatSeconds,
    onHeartbeatLapse: () => ctx.timeouts.heartbeat(heartbeatSeconds ?? 0),
    onTimeout: () => ctx.timeouts.timeout(),
  });
  const { functionName, payload, async } = invokeParams(call.input);
  const invocation = invokeLambda(ctx, functionName, payload);
  if (async) {
    invocation.catch(() => {}); // Event invocations never report function errors
    ctx.tokens.startHeartbeat(token);
  } else {
    invocation.then(
      (output) => {
        call.submitted?.(output);
        ctx.tokens.startHeartbeat(token);
      },
      (error: Error) => {
        if (ctx.tokens.isPending(token)) ctx.tokens.fail(token, error);
      },
    );
  }
  return result;
}

/**
 * The own engine's {@link TaskRunner}: the same three Lambda resources and result shapes as the
 * handlers above, one call per Task attempt, bound to the attempt's abort signal.
 *
 * @example
 * await runExecution(definition, input, { tasks: buildTaskRunner({ lambda, tokens, timeouts }), ... });
 */
export function buildTaskRunner(ctx: RunnerContext): TaskRunner {
  return {
    newToken: newTaskToken,
    run: async (call) => {
      if (call.signal.aborted) throw call.signal.reason;
      switch (taskKind(call.resource)) {
        case 'function':
          return toJson(await untilAborted(invokeLambda(ctx, call.resource, call.input), call.signal));
        case 'callback':
          return toJson(await callbackAttempt(call, ctx));
        case 'invoke': {
          const { functionName, payload, async } = invokeParams(call.input);
          const invocation = invokeLambda(ctx, functionName, payload);
          if (async) {
            invocation.catch(() => {});
            return invokeResponse('', 202);
          }
          return invokeResponse(await untilAborted(invocation, call.signal), 200);
        }
        default:
          throw new UncatchableError('States.Runtime', `No local handler for Resource '${call.resource}'`);
      }
    },
  };
}

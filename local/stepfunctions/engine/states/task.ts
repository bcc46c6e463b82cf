import { MAX_TIMER_MS } from '../../types.js';
import { StatesError, toStatesError } from '../errors.js';
import { asText } from '../history.js';
import { jsonataField, jsonataFinish, pathEnv, pathFinish, pathParameters } from '../io.js';
import { readValue } from '../paths.js';
import { withCatch, withRetry } from '../retry-catch.js';
import type { StateCtx, StateStep } from '../scope.js';
import { linkedController, untilAborted } from '../timers.js';
import type { JsonValue } from '../types.js';

const CALLBACK_SUFFIX = '.waitForTaskToken';
const SERVICE = /^arn:aws[a-z-]*:states:::([^:]+):(.+)$/;

/**
 * How history names a Task's resource: service integrations as `resourceType`/`resource`
 * (`lambda`/`invoke`), plain Lambda function ARNs as LambdaFunction* events.
 *
 * @example
 * describeResource('arn:aws:states:::lambda:invoke'); // { family: 'Task', resourceType: 'lambda', resource: 'invoke' }
 */
export function describeResource(resource: string): {
  family: 'Task' | 'LambdaFunction';
  resourceType?: string;
  resource: string;
} {
  const service = SERVICE.exec(resource);
  if (service) return { family: 'Task', resourceType: service[1] as string, resource: service[2] as string };
  return { family: 'LambdaFunction', resource };
}

async function seconds(
  ctx: StateCtx,
  field: 'TimeoutSeconds' | 'HeartbeatSeconds',
): Promise<number | undefined> {
  const { state } = ctx;
  let value: JsonValue | undefined;
  if (ctx.language === 'JSONata') {
    value = state[field] === undefined ? undefined : await jsonataField(ctx, state[field], field);
  } else if (typeof state[`${field}Path`] === 'string') {
    value = readValue(state[`${field}Path`] as string, ctx.input, pathEnv(ctx), `${field}Path`);
  } else value = state[field] as number | undefined;
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new StatesError(
      'States.Runtime',
      `${field} must be a positive integer, got ${JSON.stringify(value)}`,
      {
        catchable: false,
      },
    );
  }
  return value;
}

function timeoutError(): StatesError {
  return new StatesError('States.Timeout', '');
}

async function attempt(ctx: StateCtx, retryCount: number): Promise<StateStep> {
  const { scope, state } = ctx;
  const resource = state.Resource as string;
  const callback = resource.endsWith(CALLBACK_SUFFIX);
  let token: string | undefined;
  if (callback) {
    if (!scope.run.tasks.newToken)
      throw new StatesError('States.Runtime', 'no task tokens', { catchable: false });
    token = scope.run.tasks.newToken();
  }
  const extras = { retryCount, token };
  const input =
    ctx.language === 'JSONata'
      ? state.Arguments === undefined
        ? ctx.input
        : await jsonataField(ctx, state.Arguments, 'Arguments', extras)
      : pathParameters(ctx, state.Parameters, extras);
  const timeoutSeconds = await seconds(ctx, 'TimeoutSeconds');
  const heartbeatSeconds = await seconds(ctx, 'HeartbeatSeconds');
  const described = describeResource(resource);
  const history = scope.run.history;
  const names = { resourceType: described.resourceType, resource: described.resource };
  if (described.family === 'Task') {
    history.add(scope.thread, 'TaskScheduled', {
      taskScheduledEventDetails: {
        ...names,
        region: scope.run.region,
        parameters: asText(input),
        ...(timeoutSeconds === undefined ? {} : { timeoutInSeconds: timeoutSeconds }),
        ...(heartbeatSeconds === undefined ? {} : { heartbeatInSeconds: heartbeatSeconds }),
      },
    });
    history.add(scope.thread, 'TaskStarted', { taskStartedEventDetails: names });
  } else {
    history.add(scope.thread, 'LambdaFunctionScheduled', {
      lambdaFunctionScheduledEventDetails: {
        resource,
        input: asText(input),
        ...(timeoutSeconds === undefined ? {} : { timeoutInSeconds: timeoutSeconds }),
      },
    });
    history.add(scope.thread, 'LambdaFunctionStarted');
  }
  const controller = linkedController(scope.signal);
  // Past the timer limit (about 24.8 days) a time-out is as good as none: no timer overflows.
  const timer =
    timeoutSeconds !== undefined && timeoutSeconds * 1000 <= MAX_TIMER_MS
      ? setTimeout(() => controller.abort(timeoutError()), timeoutSeconds * 1000)
      : undefined;
  let result: JsonValue;
  try {
    const call = {
      state: ctx.name,
      resource,
      input,
      signal: controller.signal,
      token,
      timeoutSeconds,
      heartbeatSeconds,
      // Only a callback task is submitted before it ends; once ended, a late call says nothing.
      submitted: (output: unknown) => {
        if (!callback || controller.signal.aborted) return;
        history.add(scope.thread, 'TaskSubmitted', {
          taskSubmittedEventDetails: { ...names, output: asText(output) },
        });
      },
    };
    const raw = await untilAborted(scope.run.tasks.run(call), controller.signal);
    result = JSON.parse(JSON.stringify(raw ?? null)) as JsonValue;
  } catch (thrown) {
    const error = toStatesError(thrown);
    const timedOut = error.error === 'States.Timeout' || error.error === 'States.HeartbeatTimeout';
    const details = { ...names, error: error.error, cause: error.message };
    if (!scope.signal.aborted) {
      if (described.family === 'Task') {
        history.add(scope.thread, timedOut ? 'TaskTimedOut' : 'TaskFailed', {
          [timedOut ? 'taskTimedOutEventDetails' : 'taskFailedEventDetails']: details,
        });
      } else {
        history.add(scope.thread, timedOut ? 'LambdaFunctionTimedOut' : 'LambdaFunctionFailed', {
          [timedOut ? 'lambdaFunctionTimedOutEventDetails' : 'lambdaFunctionFailedEventDetails']: {
            error: error.error,
            cause: error.message,
          },
        });
      }
    }
    throw error;
  } finally {
    clearTimeout(timer);
    // Tells the runner the attempt is over (closes a callback token that is still open).
    controller.abort(new StatesError('States.Runtime', 'The task attempt has ended', { catchable: false }));
  }
  if (described.family === 'Task') {
    history.add(scope.thread, 'TaskSucceeded', {
      taskSucceededEventDetails: { ...names, output: asText(result) },
    });
  } else {
    history.add(scope.thread, 'LambdaFunctionSucceeded', {
      lambdaFunctionSucceededEventDetails: { output: asText(result) },
    });
  }
  if (ctx.language === 'JSONata') return jsonataFinish(ctx, { result }, result, state, extras);
  return pathFinish(ctx, result);
}

/**
 * A Task state: evaluates its input (`Parameters` or `Arguments`, with `$$.Task.Token` for
 * `.waitForTaskToken` resources), hands it to the {@link TaskRunner}, enforces `TimeoutSeconds`
 * and shapes the result, under Retry and Catch.
 *
 * @example
 * const step = await runTask(ctx);
 */
export function runTask(ctx: StateCtx): Promise<StateStep> {
  return withCatch(ctx, () => withRetry(ctx, (retryCount) => attempt(ctx, retryCount)));
}

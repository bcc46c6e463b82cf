import { createLambdaContext } from './context.js';
import { LambdaFunctionError, LambdaServiceError, timeoutError, toFunctionError } from './errors.js';
import type { LocalFunction } from './local-function.js';

/**
 * Runs one invocation like a RequestResponse Invoke: the event and the result go through JSON
 * (as Lambda serialises them, so no object is shared with the caller), and a handler still
 * running at its timeout is abandoned (Lambda would freeze it) while the invocation fails with
 * `Sandbox.Timedout`.
 *
 * @example
 * const result = await invokeFunction(fn, { resourceId: 'partner-api' });
 */
export async function invokeFunction(fn: LocalFunction, event: unknown): Promise<unknown> {
  const handler = await fn.load();
  const payload = roundTrip(event, 'Request');
  const timeoutMs = fn.timeoutSeconds * 1000;
  let settle: (error: unknown, result?: unknown) => void = () => {};
  const outcome = new Promise<unknown>((resolve, reject) => {
    settle = (error, result) => (error == null ? resolve(result) : reject(toFunctionError(error)));
  });
  const timer = setTimeout(() => settle(timeoutError(fn.timeoutSeconds)), timeoutMs);
  const context = createLambdaContext({
    functionName: fn.name,
    invokedFunctionArn: fn.arn,
    memoryLimitInMB: fn.memorySizeMb,
    deadlineMs: Date.now() + timeoutMs,
    environment: fn.environment,
    settle: (error, result) => settle(error, result),
  });
  try {
    // Promise.resolve().then: a handler that throws synchronously fails the invocation too.
    Promise.resolve()
      .then(() => handler(payload, context))
      .then(
        (result) => settle(null, result),
        (error: unknown) => settle(error ?? new Error('Handler rejected without a reason')),
      );
    return roundTrip(await outcome, 'Response');
  } finally {
    clearTimeout(timer);
  }
}

/** JSON in and out, `undefined` as `null`: what crosses Lambda's API. */
function roundTrip(value: unknown, what: 'Request' | 'Response'): unknown {
  if (value === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(value) ?? 'null') as unknown;
  } catch (error) {
    const reason = `${what} payload is not JSON: ${error instanceof Error ? error.message : String(error)}`;
    // A bad request is refused by the Invoke API; a bad result fails the invocation.
    if (what === 'Request') throw new LambdaServiceError('InvalidRequestContentException', reason);
    throw new LambdaFunctionError('Runtime.MarshalError', reason, { cause: error });
  }
}

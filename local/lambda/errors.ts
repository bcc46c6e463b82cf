/**
 * A failed invocation, shaped like Lambda's error payload: `name` and `errorType` are what
 * Lambda reports as `errorType` (a thrown Error's `name`, `typeof` the value for anything else,
 * `Sandbox.Timedout` for a timeout), `message` is its `errorMessage`. The thrown value, if any,
 * is the `cause`.
 *
 * @example
 * try { await runtime.invoke('dynamo-dlm-acquire', {}); }
 * catch (error) { if (error instanceof LambdaFunctionError) console.log(error.errorType); }
 */
export class LambdaFunctionError extends Error {
  /** Lambda's `errorType`, also the error's `name`. */
  readonly errorType: string;
  /** Lambda's `trace`: the stack lines of the thrown error, if any. */
  readonly trace: string[];

  constructor(errorType: string, message: string, options: { cause?: unknown; trace?: string[] } = {}) {
    super(message, { cause: options.cause });
    this.name = errorType;
    this.errorType = errorType;
    this.trace = options.trace ?? [];
  }
}

/**
 * An invocation that Lambda's API itself refuses, before any code runs; `name` is the API's
 * exception name, such as `ResourceNotFoundException`.
 *
 * @example
 * await runtime.invoke('missing', {}).catch((error) => error.name); // 'ResourceNotFoundException'
 */
export class LambdaServiceError extends Error {
  /** Marks an error of Lambda's API rather than of the function (see `LambdaInvoker`). */
  readonly lambdaService = true;

  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * Turns whatever a handler threw into the error Lambda would report, as the Node runtime does.
 *
 * @example
 * toFunctionError(new RangeError('bad')).errorType; // 'RangeError'
 * toFunctionError('oops').errorType; // 'string'
 */
export function toFunctionError(thrown: unknown): LambdaFunctionError {
  if (thrown instanceof LambdaFunctionError) return thrown;
  if (thrown instanceof Error) {
    return new LambdaFunctionError(thrown.name, thrown.message, {
      cause: thrown,
      trace: thrown.stack?.split('\n') ?? [],
    });
  }
  return new LambdaFunctionError(typeof thrown, String(thrown), { cause: thrown });
}

/**
 * The error of an invocation that outlived its timeout, with AWS's errorType and wording.
 *
 * @example
 * timeoutError(3).message; // 'Task timed out after 3.00 seconds'
 */
export function timeoutError(timeoutSeconds: number): LambdaFunctionError {
  return new LambdaFunctionError(
    'Sandbox.Timedout',
    `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
  );
}

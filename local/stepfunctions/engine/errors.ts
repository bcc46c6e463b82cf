/**
 * A failure inside a run, with its ASL error name and cause. `catchable: false` skips Retry and
 * Catch (States.Runtime, a stopped execution); `retryable: false` skips Retry only.
 *
 * @example
 * throw new StatesError('States.QueryEvaluationError', "The JSONata expression '$x' returned nothing");
 */
export class StatesError extends Error {
  readonly error: string;
  readonly catchable: boolean;
  readonly retryable: boolean;

  constructor(error: string, cause: string, options: { catchable?: boolean; retryable?: boolean } = {}) {
    super(cause);
    this.name = error;
    this.error = error;
    this.catchable = options.catchable ?? true;
    this.retryable = options.retryable ?? this.catchable;
  }
}

/**
 * A `States.Runtime` failure: neither retried nor caught, as on AWS.
 *
 * @example
 * throw runtimeError("The JSONPath '$.a' could not be found in the input");
 */
export function runtimeError(cause: string): StatesError {
  return new StatesError('States.Runtime', cause, { catchable: false });
}

/**
 * Turns whatever a task or expression threw into a {@link StatesError}; errors already shaped
 * keep their name, cause and flags (duck-typed `isCatchable`/`isRetryable`, as the endpoint's
 * `UncatchableError` sets them).
 *
 * @example
 * toStatesError(Object.assign(new Error('busy'), { name: 'Lock.Timeout' })).error; // 'Lock.Timeout'
 */
export function toStatesError(thrown: unknown): StatesError {
  if (thrown instanceof StatesError) return thrown;
  if (thrown instanceof Error) {
    const flags = thrown as Error & { isCatchable?: boolean; isRetryable?: boolean };
    const catchable = flags.isCatchable !== false;
    return new StatesError(thrown.name && thrown.name !== 'Error' ? thrown.name : 'Error', thrown.message, {
      catchable,
      retryable: catchable && flags.isRetryable !== false,
    });
  }
  return new StatesError('Error', String(thrown));
}

/**
 * Whether a Retry or Catch rule's `ErrorEquals` matches an error name.
 *
 * @example
 * matchesError(['States.TaskFailed'], 'Lambda.Unknown'); // true
 * matchesError(['States.Timeout'], 'States.HeartbeatTimeout'); // true
 */
export function matchesError(errorEquals: readonly string[], error: string): boolean {
  for (const name of errorEquals) {
    if (name === error || name === 'States.ALL') return true;
    // A task's own errors (Lambda.*, a function's errorType) are TaskFailed; the engine's
    // States.* errors, time-outs among them, are their own family.
    if (name === 'States.TaskFailed' && !error.startsWith('States.')) return true;
    if (name === 'States.Timeout' && error === 'States.HeartbeatTimeout') return true;
  }
  return false;
}

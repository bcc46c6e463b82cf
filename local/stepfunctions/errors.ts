/**
 * Error names the local endpoint answers with, as AWS Step Functions spells them.
 *
 * @example
 * const name: SfnErrorName = 'TaskTimedOut';
 */
export type SfnErrorName =
  | 'ExecutionAlreadyExists'
  | 'ExecutionDoesNotExist'
  | 'InternalFailure'
  | 'InvalidArn'
  | 'InvalidDefinition'
  | 'InvalidExecutionInput'
  | 'InvalidName'
  | 'InvalidOutput'
  | 'InvalidToken'
  | 'SerializationException'
  | 'StateMachineAlreadyExists'
  | 'StateMachineDoesNotExist'
  | 'StateMachineTypeNotSupported'
  | 'TaskDoesNotExist'
  | 'TaskTimedOut'
  | 'UnknownOperationException'
  | 'ValidationException';

/**
 * An API error sent back to the client as `{"__type": name, "message": ...}`.
 *
 * @example
 * throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
 */
export class SfnError extends Error {
  override readonly name: SfnErrorName;
  readonly statusCode: number;

  constructor(name: SfnErrorName, message: string, statusCode = 400) {
    super(message);
    this.name = name;
    this.statusCode = statusCode;
  }
}

/**
 * A task error that the engine must neither retry nor catch: a stopped execution must not be
 * revived by a `Retry` or `Catch`, and `States.Runtime` is never catchable on AWS either. The
 * engine reads the two flags by duck typing.
 *
 * @example
 * throw new UncatchableError('States.Runtime', 'The execution was stopped');
 */
export class UncatchableError extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;

  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * A catchable task failure with an AWS error name, e.g. the `error` of `SendTaskFailure`.
 *
 * @example
 * reject(taskError('Lock.Timeout', 'not granted within 60 s'));
 */
export function taskError(name: string, cause: string): Error {
  const error = new Error(cause);
  error.name = name;
  return error;
}

/**
 * Converts a rejection of a local Lambda into the task failure AWS produces: error = the Lambda
 * errorType, cause = the JSON error object the Lambda runtime reports; for an error of Lambda's
 * API (`lambdaService`), error = `Lambda.<exception>`, cause = its message.
 *
 * @example
 * const failure = lambdaFailure(Object.assign(new Error('busy'), { name: 'Lock.Timeout' }));
 * failure.name; // 'Lock.Timeout'
 * JSON.parse(failure.message).errorMessage; // 'busy'
 */
export function lambdaFailure(error: unknown): Error {
  // Lambda's API refused the call: Step Functions names it `Lambda.<exception>` and gives the
  // service's message as the cause (not the function error JSON).
  if (error instanceof Error && (error as { lambdaService?: unknown }).lambdaService === true)
    return taskError(`Lambda.${error.name}`, `${error.message} (Service: Lambda, Error Code: ${error.name})`);
  const isError = error instanceof Error;
  const errorType = isError && error.name ? error.name : 'Error';
  const errorMessage = isError ? error.message : String(error);
  const trace = isError && error.stack ? error.stack.split('\n') : [];
  return taskError(errorType, JSON.stringify({ errorType, errorMessage, trace }));
}

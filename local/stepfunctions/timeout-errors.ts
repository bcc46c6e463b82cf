import './polyfill.js';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';

/**
 * Makes task time-out errors the engine treats as its own. The engine exempts only instances of
 * its private `StatesTimeoutError` class from the `States.TaskFailed` wildcard, as AWS exempts
 * time-outs; errors built here share that class, so heartbeat time-outs and time-outs the
 * endpoint detects first behave exactly like the engine's.
 *
 * @example
 * const timeouts = await loadTimeoutErrors();
 * reject(timeouts.heartbeat(30));
 */
export interface TimeoutErrors {
  /** `States.Timeout`, identical to the engine's own. */
  timeout(): Error;
  /** `States.HeartbeatTimeout` after `seconds` without a heartbeat. */
  heartbeat(seconds: number): Error;
}

// The class is not exported: obtain one instance from a 1 ms task time-out.
async function captureTimeoutClass(): Promise<(new () => Error) | undefined> {
  const machine = new StateMachine(
    {
      StartAt: 'T',
      States: { T: { Type: 'Task', Resource: 'local:probe', TimeoutSeconds: 0.001, End: true } },
    },
    { validationOptions: { noValidate: true } },
  );
  const never = () => new Promise<never>(() => {});
  try {
    await machine.run(null, { overrides: { taskResourceLocalHandlers: { T: never } } }).result;
  } catch (error) {
    const cause = error instanceof ExecutionError ? error.cause : undefined;
    if (cause instanceof Error && cause.name === 'States.Timeout')
      return cause.constructor as new () => Error;
  }
  return undefined;
}

/**
 * Loads {@link TimeoutErrors} once per process (about a millisecond).
 *
 * @example
 * const { timeout } = await loadTimeoutErrors();
 * timeout().name; // 'States.Timeout'
 */
export async function loadTimeoutErrors(): Promise<TimeoutErrors> {
  loading ??= captureTimeoutClass();
  const TimeoutClass = await loading;
  const make = (name: string, message: string): Error => {
    const error = TimeoutClass ? new TimeoutClass() : new Error();
    error.name = name;
    error.message = message;
    return error;
  };
  return {
    timeout: () => make('States.Timeout', 'States.Timeout'),
    heartbeat: (seconds) => make('States.HeartbeatTimeout', `No heartbeat received for ${seconds} seconds`),
  };
}

let loading: Promise<(new () => Error) | undefined> | undefined;

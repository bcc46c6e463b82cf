import { MAX_TIMER_MS } from '../types.js';
import { StatesError, toStatesError } from './errors.js';
import { asText, History } from './history.js';
import { runScope } from './run.js';
import type { Scope } from './scope.js';
import { FailStateError } from './states/terminal.js';
import { linkedController } from './timers.js';
import type {
  ExecutionInfo,
  ExecutionResult,
  HistoryEvent,
  Json,
  JsonValue,
  QueryLanguage,
  TaskRunner,
} from './types.js';
import { VariableScope } from './variables.js';

/**
 * What one execution needs: the task runner, the context object's identity fields, an optional
 * stop signal (StopExecution) and a listener for history events.
 *
 * @example
 * const options: ExecutionOptions = { tasks, execution, stateMachine: { Id: arn, Name: 'm' }, onEvent: (e) => events.push(e) };
 */
export interface ExecutionOptions {
  tasks: TaskRunner;
  execution: ExecutionInfo;
  stateMachine: { Id: string; Name: string };
  region?: string;
  /** Aborting it stops the run: ABORTED, pending tasks' signals aborted with its reason. */
  signal?: AbortSignal;
  onEvent?: (event: HistoryEvent) => void;
}

class ExecutionTimeout extends StatesError {
  constructor() {
    super('States.Timeout', 'The execution timed out', { catchable: false });
  }
}

function failedResult(error: StatesError): ExecutionResult {
  // A Fail state without Error/Cause reports neither, as on AWS.
  const fromFail = error instanceof FailStateError;
  const result: ExecutionResult = { status: 'FAILED' };
  if (!fromFail || error.error) result.error = error.error;
  if (!fromFail || error.message) result.cause = error.message;
  return result;
}

/**
 * Runs one execution of a definition that passed {@link validate}, to its end: SUCCEEDED with the
 * output, FAILED with error and cause, TIMED_OUT past the top-level `TimeoutSeconds`, ABORTED
 * when `options.signal` aborts. Never rejects.
 *
 * @example
 * const result = await runExecution(definition, { orderId: 1 }, options);
 */
export async function runExecution(
  definition: Json,
  input: JsonValue,
  options: ExecutionOptions,
): Promise<ExecutionResult> {
  const stop = options.signal ?? new AbortController().signal;
  const root = linkedController(stop);
  const history = new History(options.onEvent ?? (() => {}));
  const thread = { lastEventId: 0 };
  const scope: Scope = {
    run: {
      tasks: options.tasks,
      execution: options.execution,
      executionInput: input,
      stateMachine: options.stateMachine,
      history,
      region: options.region ?? 'us-east-1',
    },
    states: definition.States as Record<string, Json>,
    startAt: definition.StartAt as string,
    language: (definition.QueryLanguage as QueryLanguage | undefined) ?? 'JSONPath',
    variables: new VariableScope(),
    signal: root.signal,
    thread,
  };
  const timeoutSeconds = definition.TimeoutSeconds as number | undefined;
  const timer =
    timeoutSeconds !== undefined && timeoutSeconds * 1000 <= MAX_TIMER_MS
      ? setTimeout(() => root.abort(new ExecutionTimeout()), timeoutSeconds * 1000)
      : undefined;
  history.add(thread, 'ExecutionStarted', {
    executionStartedEventDetails: {
      input: asText(input),
      inputDetails: { truncated: false },
      roleArn: options.execution.RoleArn,
    },
  });
  let result: ExecutionResult;
  try {
    const output = await runScope(scope, input);
    result = { status: 'SUCCEEDED', output };
  } catch (thrown) {
    if (root.signal.reason instanceof ExecutionTimeout)
      result = { status: 'TIMED_OUT', error: 'States.Timeout' };
    else if (stop.aborted) result = { status: 'ABORTED' };
    else result = failedResult(toStatesError(thrown));
  } finally {
    clearTimeout(timer);
  }
  // Closes whatever still listens (tokens of tasks abandoned by a caught failure elsewhere).
  if (!root.signal.aborted)
    root.abort(new StatesError('States.Runtime', 'The execution has ended', { catchable: false }));
  if (result.status === 'SUCCEEDED') {
    history.add(thread, 'ExecutionSucceeded', {
      executionSucceededEventDetails: { output: asText(result.output), outputDetails: { truncated: false } },
    });
  } else if (result.status === 'FAILED') {
    history.add(thread, 'ExecutionFailed', {
      executionFailedEventDetails: { error: result.error, cause: result.cause },
    });
  } else if (result.status === 'TIMED_OUT') {
    history.add(thread, 'ExecutionTimedOut', { executionTimedOutEventDetails: { error: 'States.Timeout' } });
  } else {
    history.add(thread, 'ExecutionAborted', { executionAbortedEventDetails: {} });
  }
  return result;
}

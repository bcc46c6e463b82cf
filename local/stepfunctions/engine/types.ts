/**
 * Any JSON value, as states read and write it.
 *
 * @example
 * const value: JsonValue = { a: [1, 'two', null] };
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A JSON object read from a definition; fields stay unknown until checked by `validate`.
 *
 * @example
 * const state: Json = { Type: 'Pass', End: true };
 */
export type Json = Record<string, unknown>;

/**
 * The two query languages of ASL.
 *
 * @example
 * const language: QueryLanguage = 'JSONata';
 */
export type QueryLanguage = 'JSONPath' | 'JSONata';

/**
 * One attempt of a Task state, as the engine hands it to the endpoint.
 *
 * @example
 * const call: TaskCall = { state: 'Acquire', resource: 'arn:aws:states:::lambda:invoke', input: { FunctionName: 'f' }, signal };
 */
export interface TaskCall {
  /** Name of the Task state. */
  state: string;
  /** The state's `Resource`, verbatim. */
  resource: string;
  /** The effective input: `Parameters` (JSONPath) or `Arguments` (JSONata) evaluated. */
  input: JsonValue;
  /** For `.waitForTaskToken` resources: the token already placed in `$$.Task.Token`. */
  token?: string;
  /** `HeartbeatSeconds` as evaluated; the endpoint enforces heartbeats (it sees them arrive). */
  heartbeatSeconds?: number;
  /** `TimeoutSeconds` as evaluated; the engine enforces it and aborts `signal` when it lapses. */
  timeoutSeconds?: number;
  /** Aborted when this attempt is abandoned: time-out, a failed sibling branch, execution end. */
  signal: AbortSignal;
  /** A callback task's runner calls it when the invoke returns (history: TaskSubmitted). */
  submitted?: (output: unknown) => void;
}

/**
 * The seam between the engine and whoever runs Task states (the endpoint's Lambda handlers, or a
 * test's fake). A rejection's `name` is the ASL error and its `message` the cause; an error with
 * `isCatchable === false` ends the execution without Retry or Catch.
 *
 * @example
 * const tasks: TaskRunner = { run: async (call) => ({ echoed: call.input }) };
 */
export interface TaskRunner {
  /** Runs one attempt; resolves with the raw task result. */
  run(call: TaskCall): Promise<unknown>;
  /** A fresh task token for a `.waitForTaskToken` attempt; required for such resources. */
  newToken?(): string;
}

/**
 * Execution fields of the context object (`$$` / `$states.context`).
 *
 * @example
 * const execution: ExecutionInfo = { Id: arn, Name: 'run-1', RoleArn: role, StartTime: new Date().toISOString(), RedriveCount: 0 };
 */
export interface ExecutionInfo {
  Id: string;
  Name: string;
  RoleArn: string;
  StartTime: string;
  RedriveCount: number;
}

/**
 * One entry of an execution's history, shaped as GetExecutionHistory answers it.
 *
 * @example
 * const event: HistoryEvent = { id: 1, previousEventId: 0, timestamp: new Date(), type: 'ExecutionStarted', executionStartedEventDetails: { input: '{}' } };
 */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: Date;
  type: string;
  [details: string]: unknown;
}

/**
 * How an execution ended.
 *
 * @example
 * if (result.status === 'SUCCEEDED') console.log(result.output);
 */
export type ExecutionResult =
  | { status: 'SUCCEEDED'; output: JsonValue }
  | { status: 'FAILED'; error?: string; cause?: string }
  | { status: 'TIMED_OUT'; error: 'States.Timeout'; cause?: string }
  | { status: 'ABORTED' };

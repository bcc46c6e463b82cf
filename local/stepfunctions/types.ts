/**
 * Runs a local Lambda function. The endpoint calls it for every Lambda Task state.
 *
 * @example
 * const lambda: LambdaInvoker = {
 *   invoke: async (name, payload) => handlers[name.split(':').pop() ?? name](payload),
 * };
 */
export interface LambdaInvoker {
  /**
   * Invokes a local function by name or ARN with the payload; resolves with its result. Rejects
   * with an Error whose `name` is the Lambda errorType (e.g. 'Lock.Timeout' or 'Error'), or, when
   * Lambda's API itself refused the call (no such function, throttled), with an Error named after
   * the API's exception and `lambdaService: true`: the task fails with `Lambda.<name>`, as on AWS.
   */
  invoke(functionNameOrArn: string, payload: unknown): Promise<unknown>;
}

/**
 * Any JSON value.
 *
 * @example
 * const value: JsonValue = { a: [1, 'two', null] };
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Status of an execution, as DescribeExecution reports it.
 *
 * @example
 * const done = (s: ExecutionStatus) => s !== 'RUNNING';
 */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/**
 * What the endpoint does for one Task state, found once when the state machine is created.
 * `invoke` is `lambda:invoke`, `callback` is `lambda:invoke.waitForTaskToken`, `function` a plain
 * Lambda ARN, and `constant` a Pass state rewritten to work around an engine bug.
 *
 * @example
 * const spec: TaskSpec = { kind: 'callback', resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', heartbeatSeconds: 60 };
 */
export interface TaskSpec {
  kind: 'invoke' | 'callback' | 'function' | 'constant';
  resource: string;
  value?: JsonValue;
  heartbeatSeconds?: number;
  heartbeatSecondsPath?: string;
  timeoutSeconds?: number;
  timeoutSecondsPath?: string;
}

/**
 * Longest delay `setTimeout` honours (2^31 - 1 ms); longer ones fire at once.
 *
 * @example
 * setTimeout(fire, Math.min(ms, MAX_TIMER_MS));
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * {@link MAX_TIMER_MS} in whole seconds: the clamp for every duration in a definition.
 *
 * @example
 * const seconds = Math.min(state.TimeoutSeconds, MAX_TIMER_SECONDS);
 */
export const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

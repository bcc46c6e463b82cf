import type { EventThread, History } from './history.js';
import type { ExecutionInfo, Json, JsonValue, QueryLanguage, TaskRunner } from './types.js';
import type { VariableScope } from './variables.js';

/**
 * What every state of one execution shares.
 *
 * @example
 * const run: RunShared = { tasks, execution, executionInput: {}, stateMachine: { Id: arn, Name: 'm' }, history, region: 'us-east-1' };
 */
export interface RunShared {
  tasks: TaskRunner;
  execution: ExecutionInfo;
  executionInput: JsonValue;
  stateMachine: { Id: string; Name: string };
  history: History;
  region: string;
}

/**
 * One running list of states: the top level, a Parallel branch or a Map iteration, with its own
 * variables, abort signal and event chain.
 *
 * @example
 * const scope: Scope = { run, states: definition.States, startAt: 'A', language: 'JSONPath', variables, signal, thread: { lastEventId: 0 } };
 */
export interface Scope {
  run: RunShared;
  states: Record<string, Json>;
  startAt: string;
  language: QueryLanguage;
  variables: VariableScope;
  signal: AbortSignal;
  thread: EventThread;
}

/**
 * Extra context-object fields of one evaluation.
 *
 * @example
 * ctx.context({ retryCount: 1, token });
 */
export interface ContextExtras {
  retryCount?: number;
  token?: string;
  mapItem?: { Index: number; Value: JsonValue };
}

/**
 * One state being run: where it is, its definition, its raw input and language.
 *
 * @example
 * const output = ctx.language === 'JSONata' ? await jsonataOutput(ctx) : pathOutput(ctx);
 */
export interface StateCtx {
  scope: Scope;
  name: string;
  state: Json;
  input: JsonValue;
  language: QueryLanguage;
  enteredTime: string;
  /** The context object (`$$`, `$states.context`) for this state. */
  context(extras?: ContextExtras): JsonValue;
}

/**
 * What a state hands back: its output, the variables its `Assign` produced (committed after the
 * state, all at once) and, for Choice and Catch, the next state chosen.
 *
 * @example
 * return { output, assign: { lease: 'abc' }, next: catcher.Next };
 */
export interface StateStep {
  output: JsonValue;
  assign?: Record<string, JsonValue>;
  next?: string;
}

/**
 * The context object AWS documents, built for one state.
 *
 * @example
 * buildContext(scope.run, 'Acquire', new Date().toISOString(), {}).State.Name; // 'Acquire'
 */
export function buildContext(
  run: RunShared,
  name: string,
  enteredTime: string,
  extras: ContextExtras,
): JsonValue {
  const context: Record<string, JsonValue> = {
    Execution: { ...run.execution, Input: run.executionInput } as unknown as JsonValue,
    State: { Name: name, EnteredTime: enteredTime, RetryCount: extras.retryCount ?? 0 },
    StateMachine: run.stateMachine,
  };
  if (extras.token !== undefined) context.Task = { Token: extras.token };
  if (extras.mapItem) context.Map = { Item: extras.mapItem };
  return context;
}

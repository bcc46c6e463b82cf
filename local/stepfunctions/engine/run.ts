import { toStatesError } from './errors.js';
import { asText } from './history.js';
import { buildContext, type Scope, type StateCtx, type StateStep } from './scope.js';
import { runChoice } from './states/choice.js';
import { runMap } from './states/map.js';
import { runParallel } from './states/parallel.js';
import { runPass } from './states/pass.js';
import { runTask } from './states/task.js';
import { runFail, runSucceed } from './states/terminal.js';
import { runWait } from './states/wait.js';
import type { Json, JsonValue, QueryLanguage } from './types.js';

const RUNNERS: Record<string, (ctx: StateCtx) => Promise<StateStep>> = {
  Pass: runPass,
  Task: runTask,
  Choice: runChoice,
  Wait: runWait,
  Succeed: runSucceed,
  Fail: runFail,
  Parallel: runParallel,
  Map: runMap,
};

function assignedVariables(assign: Record<string, JsonValue>): Record<string, unknown> {
  const texts = Object.fromEntries(Object.entries(assign).map(([name, value]) => [name, asText(value)]));
  return { assignedVariables: texts, assignedVariablesDetails: { truncated: false } };
}

async function runState(
  scope: Scope,
  name: string,
  input: JsonValue,
): Promise<{ output: JsonValue; next?: string }> {
  const state = scope.states[name] as Json;
  const type = state.Type as string;
  const { history } = scope.run;
  const enteredTime = new Date().toISOString();
  history.add(scope.thread, `${type}StateEntered`, {
    stateEnteredEventDetails: { name, input: asText(input), inputDetails: { truncated: false } },
  });
  const ctx: StateCtx = {
    scope,
    name,
    state,
    input,
    language: (state.QueryLanguage as QueryLanguage | undefined) ?? scope.language,
    enteredTime,
    context: (extras = {}) => buildContext(scope.run, name, enteredTime, extras),
  };
  let step: StateStep;
  try {
    step = await (RUNNERS[type] as (ctx: StateCtx) => Promise<StateStep>)(ctx);
  } catch (thrown) {
    const error = toStatesError(thrown);
    if (error.error === 'States.QueryEvaluationError' && !scope.signal.aborted) {
      history.add(scope.thread, 'EvaluationFailed', {
        evaluationFailedEventDetails: { state: name, error: error.error, cause: error.message },
      });
    }
    throw error;
  }
  // Assign takes effect when the state ends, after every expression of the state was evaluated.
  if (step.assign) scope.variables.assign(step.assign);
  if (type !== 'Fail') {
    history.add(scope.thread, `${type}StateExited`, {
      stateExitedEventDetails: {
        name,
        output: asText(step.output),
        outputDetails: { truncated: false },
        ...(step.assign ? assignedVariables(step.assign) : {}),
      },
    });
  }
  const next = step.next ?? (state.End === true || type === 'Succeed' ? undefined : (state.Next as string));
  return { output: step.output, next };
}

/**
 * Runs a list of states (the top level, a Parallel branch, a Map iteration) from `StartAt` until
 * a state ends it; answers the last output or throws the failure.
 *
 * @example
 * const output = await runScope(scope, input);
 */
export async function runScope(scope: Scope, input: JsonValue): Promise<JsonValue> {
  let name: string | undefined = scope.startAt;
  let value = input;
  while (name !== undefined) {
    if (scope.signal.aborted) throw scope.signal.reason;
    const step = await runState(scope, name, value);
    value = step.output;
    name = step.next;
  }
  return value;
}

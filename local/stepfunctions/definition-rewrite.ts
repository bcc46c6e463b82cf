import { taskKind } from './definition-check.js';
import { forEachState, isObject, type Json } from './definition-walk.js';
import { type JsonValue, MAX_TIMER_SECONDS, type TaskSpec } from './types.js';

/**
 * A definition ready for the engine, plus what each Task state needs from the endpoint, keyed by
 * state name (the engine looks local handlers up by state name).
 *
 * @example
 * const { definition, tasks } = rewriteDefinition(JSON.parse(text));
 */
export interface RewrittenDefinition {
  definition: Json;
  tasks: Map<string, TaskSpec>;
}

const CONSTANT_RESOURCE = 'local:constant';

function clampSeconds(holder: Json, key: string): void {
  const value = holder[key];
  if (typeof value === 'number' && value > MAX_TIMER_SECONDS) holder[key] = MAX_TIMER_SECONDS;
}

// AWS: States.Timeout also matches heartbeat time-outs; the engine compares names exactly.
function widenTimeoutMatch(rules: unknown): void {
  if (!Array.isArray(rules)) return;
  for (const rule of rules) {
    if (!isObject(rule) || !Array.isArray(rule.ErrorEquals)) continue;
    const names = rule.ErrorEquals;
    if (names.includes('States.Timeout') && !names.includes('States.HeartbeatTimeout')) {
      names.push('States.HeartbeatTimeout');
    }
  }
}

function fixRetriers(rules: unknown): void {
  if (!Array.isArray(rules)) return;
  for (const rule of rules) {
    if (!isObject(rule)) continue;
    clampSeconds(rule, 'IntervalSeconds');
    // Back-off grows past the timer limit otherwise, and the engine then retries at once.
    const max = rule.MaxDelaySeconds;
    if (typeof max !== 'number' || max > MAX_TIMER_SECONDS) rule.MaxDelaySeconds = MAX_TIMER_SECONDS;
  }
}

function fixResultPaths(state: Json): void {
  // Engine bug: `ResultPath: "$"` writes a key named "$"; an absent ResultPath means the same.
  if (state.ResultPath === '$') delete state.ResultPath;
  if (!Array.isArray(state.Catch)) return;
  for (const catcher of state.Catch)
    if (isObject(catcher) && catcher.ResultPath === '$') delete catcher.ResultPath;
}

// Engine bug: a Pass whose Result is falsy passes its input through. A Task with a local handler
// returning the constant keeps InputPath/Parameters/ResultPath/OutputPath semantics intact.
function passToConstantTask(state: Json): JsonValue | undefined {
  if (state.Type !== 'Pass' || !('Result' in state) || state.Result) return undefined;
  const value = (state.Result ?? null) as JsonValue;
  delete state.Result;
  state.Type = 'Task';
  state.Resource = CONSTANT_RESOURCE;
  return value;
}

function specOf(state: Json, constant: JsonValue | undefined): TaskSpec {
  if (constant !== undefined) return { kind: 'constant', resource: CONSTANT_RESOURCE, value: constant };
  const spec: TaskSpec = { kind: taskKind(state.Resource) ?? 'function', resource: String(state.Resource) };
  if (typeof state.HeartbeatSeconds === 'number') spec.heartbeatSeconds = state.HeartbeatSeconds;
  if (typeof state.HeartbeatSecondsPath === 'string') spec.heartbeatSecondsPath = state.HeartbeatSecondsPath;
  if (typeof state.TimeoutSeconds === 'number') spec.timeoutSeconds = state.TimeoutSeconds;
  if (typeof state.TimeoutSecondsPath === 'string') spec.timeoutSecondsPath = state.TimeoutSecondsPath;
  return spec;
}

/**
 * Rewrites a validated definition (a copy; the argument is left alone) around the engine's
 * limits: Task time-out default and clamp (the engine defaults to 60 s and timers overflow past
 * 24.8 days), `ResultPath: "$"`, falsy Pass `Result`, `States.Timeout` matching heartbeat
 * time-outs. State names are unique across the whole definition (the validator enforces it, as
 * AWS does), so the engine's handlers keyed by state name cannot collide.
 *
 * @example
 * const { definition, tasks } = rewriteDefinition({ StartAt: 'T', States: { T: { Type: 'Task', Resource: arn, End: true } } });
 * definition.States.T.TimeoutSeconds; // 2147483
 */
export function rewriteDefinition(original: Json): RewrittenDefinition {
  const definition = structuredClone(original);
  clampSeconds(definition, 'TimeoutSeconds');
  const tasks = new Map<string, TaskSpec>();
  forEachState(definition, ({ name, state }) => {
    fixResultPaths(state);
    widenTimeoutMatch(state.Catch);
    widenTimeoutMatch(state.Retry);
    fixRetriers(state.Retry);
    if (state.Type === 'Wait') clampSeconds(state, 'Seconds');
    const constant = passToConstantTask(state);
    if (state.Type !== 'Task') return;
    if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
      state.TimeoutSeconds = MAX_TIMER_SECONDS;
    }
    clampSeconds(state, 'TimeoutSeconds');
    tasks.set(name, specOf(state, constant));
  });
  return { definition, tasks };
}

import { evaluateField } from './jsonata.js';
import { applyResultPath, evaluateTemplate, filterPath, type PathEnv } from './paths.js';
import type { ContextExtras, StateCtx, StateStep } from './scope.js';
import type { JsonValue } from './types.js';

/**
 * The JSONPath environment of a state: its context object and variables.
 *
 * @example
 * readValue('$$.Execution.Id', input, pathEnv(ctx), 'Parameters');
 */
export function pathEnv(ctx: StateCtx, extras: ContextExtras = {}): PathEnv {
  return { context: ctx.context(extras), variables: ctx.scope.variables };
}

/**
 * JSONPath: the effective input of a state, `InputPath` then `Parameters` (or Map's
 * `ItemSelector`, passed as `template`).
 *
 * @example
 * const parameters = pathParameters(ctx, ctx.state.Parameters);
 */
export function pathParameters(ctx: StateCtx, template: unknown, extras: ContextExtras = {}): JsonValue {
  const env = pathEnv(ctx, extras);
  const effective = filterPath(ctx.state.InputPath, ctx.input, env, 'InputPath');
  return template === undefined ? effective : evaluateTemplate(template, effective, env, 'Parameters');
}

/**
 * JSONPath: a state's `Assign`, its `.$` paths reading `data` (the result after ResultSelector
 * for Task/Map/Parallel, the Pass result, a Choice/Wait input, a Catch's error output).
 *
 * @example
 * const assign = pathAssign(ctx, ctx.state.Assign, selected);
 */
export function pathAssign(
  ctx: StateCtx,
  template: unknown,
  data: JsonValue,
): Record<string, JsonValue> | undefined {
  if (template === undefined) return undefined;
  return evaluateTemplate(template, data, pathEnv(ctx), 'Assign') as Record<string, JsonValue>;
}

/**
 * JSONPath: from a raw result to the state's step: `ResultSelector`, `Assign`, `ResultPath`
 * (into the raw state input), `OutputPath`.
 *
 * @example
 * return pathFinish(ctx, taskResult);
 */
export function pathFinish(
  ctx: StateCtx,
  result: JsonValue,
  selector: unknown = ctx.state.ResultSelector,
): StateStep {
  const env = pathEnv(ctx);
  const selected =
    selector === undefined ? result : evaluateTemplate(selector, result, env, 'ResultSelector');
  const assign = pathAssign(ctx, ctx.state.Assign, selected);
  const placed = applyResultPath(ctx.state.ResultPath, ctx.input, selected);
  return { output: filterPath(ctx.state.OutputPath, placed, env, 'OutputPath'), assign };
}

/**
 * JSONata: `Output` and `Assign`, both evaluated against the values from before the state
 * (`$states.result` set when there is one); `Output` defaults to `fallback`.
 *
 * @example
 * return await jsonataFinish(ctx, { result }, result);
 */
export async function jsonataFinish(
  ctx: StateCtx,
  extra: { result?: JsonValue; errorOutput?: JsonValue },
  fallback: JsonValue,
  fields: { Output?: unknown; Assign?: unknown } = ctx.state,
  extras: ContextExtras = {},
): Promise<StateStep> {
  const states = { input: ctx.input, context: ctx.context(extras), ...extra };
  const output =
    fields.Output === undefined
      ? fallback
      : await evaluateField(fields.Output, states, ctx.scope.variables, 'Output');
  const assign =
    fields.Assign === undefined
      ? undefined
      : ((await evaluateField(fields.Assign, states, ctx.scope.variables, 'Assign')) as Record<
          string,
          JsonValue
        >);
  return { output, assign };
}

/**
 * JSONata: a field evaluated with `$states.input` and `$states.context` (Arguments, Items,
 * Seconds, TimeoutSeconds...).
 *
 * @example
 * const args = await jsonataField(ctx, ctx.state.Arguments, 'Arguments');
 */
export function jsonataField(
  ctx: StateCtx,
  template: unknown,
  field: string,
  extras: ContextExtras = {},
): Promise<JsonValue> {
  return evaluateField(
    template,
    { input: ctx.input, context: ctx.context(extras) },
    ctx.scope.variables,
    field,
  );
}

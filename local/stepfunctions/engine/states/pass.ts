import { jsonataFinish, pathFinish, pathParameters } from '../io.js';
import type { StateCtx, StateStep } from '../scope.js';
import type { JsonValue } from '../types.js';

/**
 * A Pass state. JSONPath: `Result` (any JSON, falsy values included) or `Parameters` over the
 * `InputPath` input, then `ResultPath` and `OutputPath`; JSONata: `Output` (default the input).
 *
 * @example
 * await runPass(ctx); // { output: ctx.input }
 */
export async function runPass(ctx: StateCtx): Promise<StateStep> {
  if (ctx.language === 'JSONata') return jsonataFinish(ctx, {}, ctx.input);
  const result: JsonValue =
    'Result' in ctx.state ? (ctx.state.Result as JsonValue) : pathParameters(ctx, ctx.state.Parameters);
  // Its Assign reads the result just computed (validate refuses a ResultSelector on a Pass).
  return pathFinish(ctx, result);
}

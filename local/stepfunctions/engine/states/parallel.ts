import { childScope, runChildren } from '../children.js';
import { jsonataField, jsonataFinish, pathFinish, pathParameters } from '../io.js';
import { withCatch, withRetry } from '../retry-catch.js';
import { runScope } from '../run.js';
import type { StateCtx, StateStep } from '../scope.js';
import type { Json, JsonValue } from '../types.js';

async function attempt(ctx: StateCtx): Promise<StateStep> {
  const { state, scope } = ctx;
  const input: JsonValue =
    ctx.language === 'JSONata'
      ? state.Arguments === undefined
        ? ctx.input
        : await jsonataField(ctx, state.Arguments, 'Arguments')
      : pathParameters(ctx, state.Parameters);
  const branches = state.Branches as Json[];
  const started = scope.run.history.add(scope.thread, 'ParallelStateStarted');
  let result: JsonValue;
  try {
    result = await runChildren(
      ctx,
      branches.length,
      0,
      undefined,
      (index, signal) => childScope(ctx, branches[index] as Json, signal, { lastEventId: started }),
      (_index, child) => runScope(child, input),
    );
  } catch (error) {
    if (!scope.signal.aborted) scope.run.history.add(scope.thread, 'ParallelStateFailed');
    throw error;
  }
  scope.run.history.add(scope.thread, 'ParallelStateSucceeded');
  if (ctx.language === 'JSONata') return jsonataFinish(ctx, { result }, result);
  return pathFinish(ctx, result);
}

/**
 * A Parallel state: every branch runs on the same input (`Parameters`/`Arguments` applied) in a
 * scope of its own; the result is their outputs in branch order. The first failing branch stops
 * the others and fails the state with its error, under Retry and Catch.
 *
 * @example
 * const step = await runParallel(ctx);
 */
export function runParallel(ctx: StateCtx): Promise<StateStep> {
  return withCatch(ctx, () => withRetry(ctx, () => attempt(ctx)));
}

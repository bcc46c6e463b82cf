import { childScope, runChildren, type Tolerance } from '../children.js';
import { runtimeError, StatesError } from '../errors.js';
import { jsonataField, jsonataFinish, pathEnv, pathFinish } from '../io.js';
import { evaluateTemplate, filterPath, readValue } from '../paths.js';
import { withCatch, withRetry } from '../retry-catch.js';
import { runScope } from '../run.js';
import type { StateCtx, StateStep } from '../scope.js';
import type { Json, JsonValue } from '../types.js';

interface MapPlan {
  items: JsonValue[];
  inputOf: (index: number) => Promise<JsonValue>;
  maxConcurrency: number;
  tolerance: Tolerance | undefined;
}

function nonNegative(field: string, value: JsonValue | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || value < 0)
    throw runtimeError(`${field} must be a non-negative number, got ${JSON.stringify(value)}`);
  return value;
}

function toleranceOf(count: number | undefined, percentage: number | undefined): Tolerance | undefined {
  if (count === undefined && percentage === undefined) return undefined;
  if (percentage !== undefined && percentage > 100)
    throw runtimeError('ToleratedFailurePercentage must be at most 100');
  return { count, percentage };
}

function asItems(value: JsonValue, field: string): JsonValue[] {
  if (Array.isArray(value)) return value;
  const message = `The ${field} of a Map state must give an array, got ${JSON.stringify(value)}`;
  // A JSONata field that evaluates to the wrong type is a query evaluation error there.
  if (field === 'Items') throw new StatesError('States.QueryEvaluationError', message);
  throw runtimeError(message);
}

async function planJsonata(ctx: StateCtx): Promise<MapPlan> {
  const { state } = ctx;
  const items = asItems(
    state.Items === undefined ? ctx.input : await jsonataField(ctx, state.Items, 'Items'),
    'Items',
  );
  const field = async (name: string) =>
    state[name] === undefined ? undefined : jsonataField(ctx, state[name], name);
  return {
    items,
    inputOf: (index) => {
      const item = { Index: index, Value: items[index] as JsonValue };
      if (state.ItemSelector === undefined) return Promise.resolve(item.Value);
      return jsonataField(ctx, state.ItemSelector, 'ItemSelector', { mapItem: item });
    },
    maxConcurrency: nonNegative('MaxConcurrency', await field('MaxConcurrency')) ?? 0,
    tolerance: toleranceOf(
      nonNegative('ToleratedFailureCount', await field('ToleratedFailureCount')),
      nonNegative('ToleratedFailurePercentage', await field('ToleratedFailurePercentage')),
    ),
  };
}

function planJsonPath(ctx: StateCtx): MapPlan {
  const { state } = ctx;
  const env = pathEnv(ctx);
  const effective = filterPath(state.InputPath, ctx.input, env, 'InputPath');
  const items = asItems(
    state.ItemsPath === undefined
      ? effective
      : readValue(state.ItemsPath as string, effective, env, 'ItemsPath'),
    'ItemsPath',
  );
  // `Parameters` is the older name of `ItemSelector`.
  const selector = state.ItemSelector ?? state.Parameters;
  const number = (name: string): number | undefined => {
    const path = state[`${name}Path`];
    if (typeof path === 'string')
      return nonNegative(`${name}Path`, readValue(path, effective, env, `${name}Path`));
    return nonNegative(name, state[name] as JsonValue | undefined);
  };
  return {
    items,
    inputOf: (index) => {
      const item = { Index: index, Value: items[index] as JsonValue };
      if (selector === undefined) return Promise.resolve(item.Value);
      return Promise.resolve(
        evaluateTemplate(selector, effective, pathEnv(ctx, { mapItem: item }), 'ItemSelector'),
      );
    },
    maxConcurrency: number('MaxConcurrency') ?? 0,
    tolerance: toleranceOf(number('ToleratedFailureCount'), number('ToleratedFailurePercentage')),
  };
}

async function attempt(ctx: StateCtx): Promise<StateStep> {
  const { state, scope } = ctx;
  const plan = ctx.language === 'JSONata' ? await planJsonata(ctx) : planJsonPath(ctx);
  const processor = (state.ItemProcessor ?? state.Iterator) as Json;
  const { history } = scope.run;
  const started = history.add(scope.thread, 'MapStateStarted', {
    mapStateStartedEventDetails: { length: plan.items.length },
  });
  let result: JsonValue;
  try {
    result = await runChildren(
      ctx,
      plan.items.length,
      plan.maxConcurrency,
      plan.tolerance,
      (_index, signal) => childScope(ctx, processor, signal, { lastEventId: started }),
      async (index, child) => runScope(child, await plan.inputOf(index)),
      {
        started: (index, thread) =>
          history.add(thread, 'MapIterationStarted', {
            mapIterationStartedEventDetails: { name: ctx.name, index },
          }),
        ended: (index, thread, outcome) =>
          history.add(thread, `MapIteration${outcome}`, {
            [`mapIteration${outcome}EventDetails`]: { name: ctx.name, index },
          }),
      },
    );
  } catch (error) {
    if (!scope.signal.aborted) history.add(scope.thread, 'MapStateFailed');
    throw error;
  }
  history.add(scope.thread, 'MapStateSucceeded');
  if (ctx.language === 'JSONata') return jsonataFinish(ctx, { result }, result);
  return pathFinish(ctx, result);
}

/**
 * An inline Map state: one iteration per item (`ItemsPath`/`Items`), each in a scope of its own
 * with its input from `ItemSelector` (`$$.Map.Item.Index`/`Value`), at most `MaxConcurrency` at
 * once, failures tolerated up to `ToleratedFailureCount`/`Percentage`; under Retry and Catch.
 *
 * @example
 * const step = await runMap(ctx);
 */
export function runMap(ctx: StateCtx): Promise<StateStep> {
  return withCatch(ctx, () => withRetry(ctx, () => attempt(ctx)));
}

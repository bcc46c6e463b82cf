import { StatesError } from '../errors.js';
import { jsonataField, jsonataFinish, pathEnv } from '../io.js';
import { filterPath, readValue } from '../paths.js';
import type { StateCtx, StateStep } from '../scope.js';

/**
 * A Succeed state: JSONPath `InputPath`/`OutputPath`, JSONata `Output`.
 *
 * @example
 * await runSucceed(ctx);
 */
export async function runSucceed(ctx: StateCtx): Promise<StateStep> {
  if (ctx.language === 'JSONata') return { output: (await jsonataFinish(ctx, {}, ctx.input)).output };
  const env = pathEnv(ctx);
  const effective = filterPath(ctx.state.InputPath, ctx.input, env, 'InputPath');
  return { output: filterPath(ctx.state.OutputPath, effective, env, 'OutputPath') };
}

/**
 * The failure a Fail state raises; no `Error`/`Cause` leaves them empty, as AWS reports neither.
 *
 * @example
 * error instanceof FailStateError; // a Fail state ended the run
 */
export class FailStateError extends StatesError {}

async function text(ctx: StateCtx, field: 'Error' | 'Cause'): Promise<string | undefined> {
  const { state } = ctx;
  let value: unknown;
  if (ctx.language === 'JSONata') {
    value = state[field] === undefined ? undefined : await jsonataField(ctx, state[field], field);
  } else if (typeof state[`${field}Path`] === 'string') {
    value = readValue(state[`${field}Path`] as string, ctx.input, pathEnv(ctx), `${field}Path`);
  } else value = state[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new StatesError(
      'States.Runtime',
      `The Fail state's ${field} must be a string, got ${JSON.stringify(value)}`,
      {
        catchable: false,
      },
    );
  }
  return value;
}

/**
 * A Fail state: raises its `Error`/`Cause` (or `ErrorPath`/`CausePath`, paths or intrinsic
 * functions; JSONata expressions), which a surrounding Parallel or Map may catch.
 *
 * @example
 * await runFail(ctx); // throws FailStateError
 */
export async function runFail(ctx: StateCtx): Promise<never> {
  const error = (await text(ctx, 'Error')) ?? '';
  const cause = (await text(ctx, 'Cause')) ?? '';
  throw new FailStateError(error, cause);
}

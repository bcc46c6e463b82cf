import { StatesError } from '../errors.js';
import { jsonataField, jsonataFinish, pathAssign, pathEnv } from '../io.js';
import { filterPath, readValue } from '../paths.js';
import type { StateCtx, StateStep } from '../scope.js';
import { sleep } from '../timers.js';
import type { JsonValue } from '../types.js';

const badWait = (message: string) => new StatesError('States.Runtime', message, { catchable: false });

function untilMs(kind: 'Seconds' | 'Timestamp', value: JsonValue): number {
  if (kind === 'Seconds') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw badWait(`The Wait state's Seconds must be a non-negative integer, got ${JSON.stringify(value)}`);
    }
    return value * 1000;
  }
  const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at))
    throw badWait(`The Wait state's Timestamp is not an ISO-8601 timestamp: ${JSON.stringify(value)}`);
  return Math.max(0, at - Date.now());
}

/**
 * A Wait state: `Seconds`, `Timestamp`, `SecondsPath` or `TimestampPath` (JSONata: `Seconds` or
 * `Timestamp`, possibly expressions). Any length works: long waits sleep in timer-sized chunks.
 *
 * @example
 * await runWait(ctx);
 */
export async function runWait(ctx: StateCtx): Promise<StateStep> {
  const { state } = ctx;
  const kind = 'Seconds' in state || 'SecondsPath' in state ? 'Seconds' : 'Timestamp';
  if (ctx.language === 'JSONata') {
    await sleep(untilMs(kind, await jsonataField(ctx, state[kind], kind)), ctx.scope.signal);
    return jsonataFinish(ctx, {}, ctx.input);
  }
  const env = pathEnv(ctx);
  const effective = filterPath(state.InputPath, ctx.input, env, 'InputPath');
  const value =
    `${kind}Path` in state
      ? readValue(state[`${kind}Path`] as string, effective, env, `${kind}Path`)
      : (state[kind] as JsonValue);
  await sleep(untilMs(kind, value), ctx.scope.signal);
  return {
    output: filterPath(state.OutputPath, effective, env, 'OutputPath'),
    assign: pathAssign(ctx, state.Assign, effective),
  };
}

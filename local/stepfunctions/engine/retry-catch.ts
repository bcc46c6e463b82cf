import { matchesError, type StatesError, toStatesError } from './errors.js';
import { jsonataFinish, pathAssign } from './io.js';
import { applyResultPath } from './paths.js';
import type { StateCtx, StateStep } from './scope.js';
import { sleep } from './timers.js';
import type { Json, JsonValue } from './types.js';

/**
 * The delay before retry number `count` (0-based) of a retrier, in seconds: `IntervalSeconds`
 * (default 1) times `BackoffRate` (default 2) per earlier retry, capped by `MaxDelaySeconds`;
 * `JitterStrategy: FULL` draws uniformly below it.
 *
 * @example
 * retryDelaySeconds({ IntervalSeconds: 3, BackoffRate: 2 }, 2); // 12
 */
export function retryDelaySeconds(retrier: Json, count: number, random = Math.random): number {
  const interval = (retrier.IntervalSeconds as number | undefined) ?? 1;
  const rate = (retrier.BackoffRate as number | undefined) ?? 2;
  let delay = interval * rate ** count;
  if (typeof retrier.MaxDelaySeconds === 'number') delay = Math.min(delay, retrier.MaxDelaySeconds);
  if (retrier.JitterStrategy === 'FULL') delay = random() * delay;
  return delay;
}

// A failure that no Retry/Catch may see: an uncatchable error, or any error once the scope is
// aborted (a stopped execution, a failed sibling branch).
function handleable(ctx: StateCtx, error: StatesError, flag: 'catchable' | 'retryable'): boolean {
  return !ctx.scope.signal.aborted && error[flag];
}

/**
 * Runs `attempt` under the state's `Retry`: the first retrier whose `ErrorEquals` matches
 * decides; once its `MaxAttempts` (default 3) are spent the error goes on to Catch, even if a
 * later retrier would match. Each retrier counts its own attempts.
 *
 * @example
 * const step = await withRetry(ctx, (retryCount) => attemptTask(ctx, retryCount));
 */
export async function withRetry<T>(
  ctx: StateCtx,
  attempt: (retryCount: number) => Promise<T>,
  onRetry?: (error: StatesError) => void,
): Promise<T> {
  const retriers = (ctx.state.Retry as Json[] | undefined) ?? [];
  const counts = retriers.map(() => 0);
  let retryCount = 0;
  for (;;) {
    try {
      return await attempt(retryCount);
    } catch (thrown) {
      const error = toStatesError(thrown);
      if (!handleable(ctx, error, 'retryable')) throw error;
      const index = retriers.findIndex((r) => matchesError(r.ErrorEquals as string[], error.error));
      const retrier = retriers[index];
      if (!retrier) throw error;
      const used = counts[index] as number;
      if (used >= ((retrier.MaxAttempts as number | undefined) ?? 3)) throw error;
      onRetry?.(error);
      await sleep(retryDelaySeconds(retrier, used) * 1000, ctx.scope.signal);
      counts[index] = used + 1;
      retryCount++;
    }
  }
}

/**
 * Runs `work` under the state's `Catch`: the first catcher whose `ErrorEquals` matches turns the
 * error output `{ Error, Cause }` into the state's output (JSONPath: its `ResultPath` into the
 * state input; JSONata: its `Output`, default the error output) and picks `Next`.
 *
 * @example
 * return withCatch(ctx, () => withRetry(ctx, attempt));
 */
export async function withCatch(ctx: StateCtx, work: () => Promise<StateStep>): Promise<StateStep> {
  try {
    return await work();
  } catch (thrown) {
    const error = toStatesError(thrown);
    if (!handleable(ctx, error, 'catchable')) throw error;
    const catchers = (ctx.state.Catch as Json[] | undefined) ?? [];
    const catcher = catchers.find((c) => matchesError(c.ErrorEquals as string[], error.error));
    if (!catcher) throw error;
    const errorOutput: JsonValue = { Error: error.error, Cause: error.message };
    if (ctx.language === 'JSONata') {
      const step = await jsonataFinish(ctx, { errorOutput }, errorOutput, catcher);
      return { ...step, next: catcher.Next as string };
    }
    return {
      output: applyResultPath(catcher.ResultPath, ctx.input, errorOutput),
      assign: pathAssign(ctx, catcher.Assign, errorOutput),
      next: catcher.Next as string,
    };
  }
}

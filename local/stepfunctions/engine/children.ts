import { StatesError, toStatesError } from './errors.js';
import type { EventThread } from './history.js';
import type { Scope, StateCtx } from './scope.js';
import { linkedController } from './timers.js';
import type { Json, JsonValue } from './types.js';

/**
 * How many failed children a Map tolerates (`ToleratedFailureCount`/`Percentage`); absent means
 * none, and then the first failure fails the state with the child's own error.
 *
 * @example
 * const tolerance: Tolerance = { count: 2 };
 */
export interface Tolerance {
  count?: number;
  percentage?: number;
}

/**
 * One child run: a Parallel branch or a Map iteration.
 *
 * @example
 * const child: ChildRun = (index, scope) => runScope(scope, inputs[index]);
 */
export type ChildRun = (index: number, scope: Scope) => Promise<JsonValue>;

/**
 * Hooks for history events around each child (Map iterations report their own).
 *
 * @example
 * const hooks: ChildHooks = { started: (i, thread) => history.add(thread, 'MapIterationStarted', ...) };
 */
export interface ChildHooks {
  started?(index: number, thread: EventThread): void;
  ended?(index: number, thread: EventThread, outcome: 'Succeeded' | 'Failed' | 'Aborted'): void;
}

const aborted = () => new StatesError('States.Runtime', 'A sibling branch failed', { catchable: false });

/**
 * A child scope of `ctx`'s: its own variables (reading the parent's), the given signal, and
 * the definition's `States`/`StartAt`; the language default stays the state machine's.
 *
 * @example
 * const scope = childScope(ctx, branch, signal, { lastEventId: startedId });
 */
export function childScope(ctx: StateCtx, definition: Json, signal: AbortSignal, thread: EventThread): Scope {
  return {
    run: ctx.scope.run,
    states: definition.States as Record<string, Json>,
    startAt: definition.StartAt as string,
    language: ctx.scope.language,
    variables: ctx.scope.variables.child(),
    signal,
    thread,
  };
}

/**
 * Runs `count` children, at most `maxConcurrency` at once (0: all), and answers their outputs
 * in order. A failure beyond the tolerance aborts the others (their callback tokens close at
 * once) and fails the state; a tolerated failure leaves `{ Error, Cause }` at its index.
 *
 * @example
 * const outputs = await runChildren(ctx, branches.length, 0, {}, makeScope, run);
 */
export async function runChildren(
  ctx: StateCtx,
  count: number,
  maxConcurrency: number,
  tolerance: Tolerance | undefined,
  makeScope: (index: number, signal: AbortSignal) => Scope,
  run: ChildRun,
  hooks: ChildHooks = {},
): Promise<JsonValue[]> {
  const group = linkedController(ctx.scope.signal);
  const outputs: JsonValue[] = new Array(count).fill(null);
  let next = 0;
  let failures = 0;
  let failure: StatesError | undefined;
  const exceeded = (): boolean => {
    if (!tolerance) return true;
    if (tolerance.count !== undefined && failures > tolerance.count) return true;
    if (tolerance.percentage !== undefined && (failures * 100) / count > tolerance.percentage) return true;
    return tolerance.count === undefined && tolerance.percentage === undefined;
  };
  const worker = async (): Promise<void> => {
    while (next < count && !group.signal.aborted) {
      const index = next++;
      const scope = makeScope(index, group.signal);
      hooks.started?.(index, scope.thread);
      try {
        outputs[index] = await run(index, scope);
        hooks.ended?.(index, scope.thread, 'Succeeded');
      } catch (thrown) {
        if (group.signal.aborted) {
          hooks.ended?.(index, scope.thread, 'Aborted');
          return;
        }
        const error = toStatesError(thrown);
        hooks.ended?.(index, scope.thread, 'Failed');
        failures++;
        outputs[index] = { Error: error.error, Cause: error.message };
        if (!error.catchable || exceeded()) {
          failure =
            tolerance && error.catchable
              ? new StatesError(
                  'States.ExceedToleratedFailureThreshold',
                  'The specified tolerated failure threshold was exceeded',
                )
              : error;
          group.abort(aborted());
        }
      }
    }
  };
  const width = maxConcurrency > 0 ? Math.min(maxConcurrency, count) : count;
  try {
    await Promise.all(Array.from({ length: width }, worker));
  } finally {
    if (!group.signal.aborted) group.abort(aborted());
  }
  if (ctx.scope.signal.aborted) throw ctx.scope.signal.reason;
  if (failure) throw failure;
  return outputs;
}

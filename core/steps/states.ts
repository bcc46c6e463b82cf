import type { Rate } from '../rate.js';
import {
  type AslState,
  type Json,
  lambdaServiceRetry,
  type PathValue,
  parameter,
  type Transition,
  transition,
} from './asl.js';

/** Options shared by every step. */
interface StepOptions {
  /** The deployed function's ARN (or name). */
  functionArn: string;
  comment?: string;
  /** Extra `Catch` rules, e.g. `[{ ErrorEquals: ['Lock.Timeout'], Next: 'Busy' }]`. */
  catch?: Json[];
}

/** Options of `acquireState`. */
export interface AcquireStateOptions extends StepOptions {
  resourceId: string | PathValue;
  concurrency?: number | PathValue;
  leaseSeconds?: number | PathValue;
  /** Give up with `Lock.Timeout` after this long; default: the task's `timeoutSeconds` decides. */
  waitSeconds?: number | PathValue;
  /**
   * The resource's start rate, `{ limit, periodSeconds, burst }` (or a path to one): at most
   * `limit` grants per `periodSeconds`, up to `burst` at once. Default: no rate.
   */
  rate?: Rate | PathValue;
  /**
   * How many of the `concurrency` slots to take at once, all or none (or a path to the number).
   * Default 1. The lease lists them all in `slots`; the release and extend states act on all.
   */
  permits?: number | PathValue;
  /** Where the lease goes in the state's output. Default `$.lock`. */
  resultPath?: string;
  /**
   * The task's own time-out (`TimeoutSeconds`), the last backstop: a waiting acquire past it fails
   * with `States.Timeout`. Default: `waitSeconds` plus `waitTimeoutMarginSeconds` when
   * `waitSeconds` is a number; none otherwise.
   */
  timeoutSeconds?: number;
  /**
   * `HeartbeatSeconds` of the waiting task, passed to the acquire function too, whose turns then
   * heartbeat the task at least every half of it. Default none (`false` too): a waiter behind the
   * head of the queue then costs nothing while it waits, and the sweeper, not a heartbeat, is the
   * backstop of a lost turn.
   */
  heartbeatSeconds?: number | false;
}

/**
 * Added to `waitSeconds` for the acquire task's `TimeoutSeconds`: a `Lock.Timeout` comes from
 * the retry turn at the deadline, or at worst from the sweeper (a minute later, plus a turn);
 * the task's own time-out must not fire before it.
 */
export const waitTimeoutMarginSeconds = 360;

/** What decides the acquire task's own time-outs (the same in both query languages). */
export type AcquireTimeoutOptions = Pick<AcquireStateOptions, 'timeoutSeconds' | 'heartbeatSeconds'> & {
  waitSeconds?: unknown;
};

/** The acquire task's `TimeoutSeconds` and `HeartbeatSeconds`, defaults applied (heartbeat < timeout, as AWS requires). */
export function acquireTimeouts(options: AcquireTimeoutOptions): {
  TimeoutSeconds?: number;
  HeartbeatSeconds?: number;
} {
  const timeout =
    options.timeoutSeconds ??
    (typeof options.waitSeconds === 'number'
      ? Math.ceil(options.waitSeconds) + waitTimeoutMarginSeconds
      : undefined);
  const heartbeat = options.heartbeatSeconds === false ? undefined : options.heartbeatSeconds;
  const heartbeatFits = heartbeat !== undefined && (timeout === undefined || heartbeat < timeout);
  if (!heartbeatFits && heartbeat !== undefined)
    throw new TypeError(
      `Expected \`heartbeatSeconds\` (${heartbeat}) to be below the task's timeoutSeconds (${timeout})`,
    );
  return {
    ...(timeout === undefined ? {} : { TimeoutSeconds: timeout }),
    ...(heartbeatFits ? { HeartbeatSeconds: heartbeat } : {}),
  };
}

/**
 * A `Task` state that waits for a slot without polling: `lambda:invoke.waitForTaskToken` on the
 * acquire function. Its output (at `resultPath`) is the lease:
 * `{ resourceId, concurrencyId, releaseCode, expiresAt, fencingToken, waitedMs, slots }`.
 *
 * @example
 * States: { Acquire: acquireState({ functionArn: acquireArn, resourceId: 'partner-api', concurrency: 3, next: 'Work' }) }
 */
export function acquireState(options: AcquireStateOptions & Transition): AslState {
  return {
    Type: 'Task',
    ...(options.comment ? { Comment: options.comment } : {}),
    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    Parameters: {
      FunctionName: options.functionArn,
      Payload: {
        'taskToken.$': '$$.Task.Token',
        'owner.$': '$$.Execution.Id',
        ...parameter('resourceId', options.resourceId),
        ...parameter('concurrency', options.concurrency),
        ...parameter('leaseSeconds', options.leaseSeconds),
        ...parameter('waitSeconds', options.waitSeconds),
        ...parameter('heartbeatSeconds', options.heartbeatSeconds || undefined),
        ...rateParameter(options.rate),
        ...parameter('permits', options.permits),
      },
    },
    ResultPath: options.resultPath ?? '$.lock',
    ...acquireTimeouts(options),
    Retry: lambdaServiceRetry,
    ...(options.catch ? { Catch: options.catch } : {}),
    ...transition(options),
  };
}

/** The rate as a parameter: a path (`rate.$`), or the object itself. */
function rateParameter(rate: Rate | PathValue | undefined): Record<string, Json> {
  if (rate === undefined) return {};
  return 'path' in rate ? { 'rate.$': rate.path } : { rate: { ...rate } };
}

/** Options of `releaseState`. */
export interface ReleaseStateOptions extends StepOptions {
  /** Where the acquire output is in the input. Default `$.lock`. */
  lockPath?: string;
  /** Where `{ released }` goes. Default `$.release`. */
  resultPath?: string;
}

/**
 * A `Task` state that releases the lease at `lockPath` and hands the slot to the next waiter.
 * Output at `resultPath`: `{ released: true|false }`; releasing twice is harmless.
 *
 * @example
 * States: { Release: releaseState({ functionArn: releaseArn, end: true }) }
 */
export function releaseState(options: ReleaseStateOptions & Transition): AslState {
  const lock = options.lockPath ?? '$.lock';
  return plainTask(
    options,
    leaseFields(lock),
    { 'released.$': '$.Payload.released' },
    options.resultPath ?? '$.release',
  );
}

/** Options of `countState`. */
export interface CountStateOptions extends StepOptions {
  resourceId: string | PathValue;
  /** Where `{ resourceId, held, waiting }` goes. Default `$.count`. */
  resultPath?: string;
}

/**
 * A `Task` state that counts holders and waiters: `{ resourceId, held, waiting }`.
 *
 * @example
 * States: { HowBusy: countState({ functionArn: countArn, resourceId: 'partner-api', next: 'Decide' }) }
 */
export function countState(options: CountStateOptions & Transition): AslState {
  return plainTask(
    options,
    parameter('resourceId', options.resourceId),
    { 'resourceId.$': '$.Payload.resourceId', 'held.$': '$.Payload.held', 'waiting.$': '$.Payload.waiting' },
    options.resultPath ?? '$.count',
  );
}

/** Options of `extendState`. */
export interface ExtendStateOptions extends StepOptions {
  leaseSeconds: number | PathValue;
  /** Where the acquire output is in the input. Default `$.lock`. */
  lockPath?: string;
  /** Where the extended lease goes. Default: back over the lock, `$.lock`. */
  resultPath?: string;
}

/**
 * A `Task` state that moves the lease end to `leaseSeconds` from now; fails with `Lock.Lost`
 * when the slot is no longer held.
 *
 * @example
 * States: { KeepIt: extendState({ functionArn: extendArn, leaseSeconds: 600, next: 'MoreWork' }) }
 */
export function extendState(options: ExtendStateOptions & Transition): AslState {
  const lock = options.lockPath ?? '$.lock';
  return plainTask(
    options,
    { ...leaseFields(lock), ...parameter('leaseSeconds', options.leaseSeconds) },
    {
      'resourceId.$': '$.Payload.resourceId',
      'concurrencyId.$': '$.Payload.concurrencyId',
      'releaseCode.$': '$.Payload.releaseCode',
      'expiresAt.$': '$.Payload.expiresAt',
      'fencingToken.$': '$.Payload.fencingToken',
      'slots.$': '$.Payload.slots',
    },
    options.resultPath ?? lock,
  );
}

/**
 * The fields of the acquire output that name a lease, read from where the lock is in the input:
 * with `slots`, every slot of it (the acquire output always lists them), so that a release or an
 * extension acts on all permits of the lease.
 */
function leaseFields(lock: string): Record<string, Json> {
  return {
    'resourceId.$': `${lock}.resourceId`,
    'concurrencyId.$': `${lock}.concurrencyId`,
    'releaseCode.$': `${lock}.releaseCode`,
    'slots.$': `${lock}.slots`,
  };
}

function plainTask(
  options: StepOptions & Transition,
  payload: Record<string, Json>,
  resultSelector: Record<string, Json>,
  resultPath: string,
): AslState {
  return {
    Type: 'Task',
    ...(options.comment ? { Comment: options.comment } : {}),
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: options.functionArn, Payload: payload },
    // lambda:invoke wraps the function's answer in { Payload, StatusCode, ... }: keep the answer.
    ResultSelector: resultSelector,
    ResultPath: resultPath,
    Retry: lambdaServiceRetry,
    ...(options.catch ? { Catch: options.catch } : {}),
    ...transition(options),
  };
}

import type { Rate } from '../rate.js';
import {
  type AslDefinition,
  type AslState,
  type Json,
  lambdaServiceRetry,
  type Transition,
  transition,
} from './asl.js';
import { acquireTimeouts } from './states.js';

/**
 * The JSONata query language's steps (`QueryLanguage: "JSONata"`): the same functions as the
 * JSONPath builders in `states.ts`, with `Arguments`, `Assign` and `Output` in place of
 * `Parameters`, `ResultSelector` and `ResultPath`. The lease lives in a workflow variable
 * (`$lock` by default), so the state's input goes on unchanged. The payloads are functions of
 * their own so that other builders (SST's `lambdaInvoke`, `dynamo-dlm/sst`) send the same ones.
 */

/** A value of a JSONata state: a constant, or a string `{% expression %}` evaluated at run time. */
export type JsonataValue = string | number;

/** Where the acquire step puts the lease, and where the others read it. */
export const defaultLeaseVariable = 'lock';

/** What every JSONata step takes besides its payload. */
interface JsonataStepOptions {
  /** The deployed function's ARN (or name). */
  functionArn: string;
  comment?: string;
  /** `Catch` rules, e.g. `[{ ErrorEquals: ['Lock.Timeout'], Output: '{% $states.errorOutput %}', Next: 'Busy' }]`. */
  catch?: Json[];
  /** The state's `Output`. Default `{% $states.input %}`: the input goes on unchanged. */
  output?: Json;
}

/** What identifies the acquire request. */
export interface AcquirePayloadOptions {
  resourceId: JsonataValue;
  concurrency?: JsonataValue;
  leaseSeconds?: JsonataValue;
  /** Give up with `Lock.Timeout` after this long; default: the task's `TimeoutSeconds` decides. */
  waitSeconds?: JsonataValue;
  /** `HeartbeatSeconds` of the waiting task, passed to the function (see `acquireState`). */
  heartbeatSeconds?: number | false;
  /** The resource's start rate, `{ limit, periodSeconds, burst }` or an expression (see `acquireState`). */
  rate?: Rate | string;
  /** Slots taken at once, all or none (see `acquireState`). Default 1. */
  permits?: JsonataValue;
}

/**
 * The acquire function's payload: the task token and the execution (the owner) from the context,
 * and the request.
 *
 * @example
 * acquirePayload({ resourceId: '{% $states.input.tenant %}', concurrency: 3 });
 */
export function acquirePayload(options: AcquirePayloadOptions): Record<string, Json> {
  return {
    taskToken: '{% $states.context.Task.Token %}',
    owner: '{% $states.context.Execution.Id %}',
    resourceId: options.resourceId,
    ...present('concurrency', options.concurrency),
    ...present('leaseSeconds', options.leaseSeconds),
    ...present('waitSeconds', options.waitSeconds),
    ...present('heartbeatSeconds', options.heartbeatSeconds || undefined),
    ...(options.rate === undefined
      ? {}
      : { rate: typeof options.rate === 'string' ? options.rate : { ...options.rate } }),
    ...present('permits', options.permits),
  };
}

/**
 * The release function's payload (and the part of extend's that names the lease): the lease in
 * the variable `lease`.
 *
 * @example
 * leasePayload('lock'); // { resourceId: '{% $lock.resourceId %}', ... }
 */
export function leasePayload(lease: string = defaultLeaseVariable): Record<string, Json> {
  const variable = leaseVariable(lease, 'lease');
  return {
    resourceId: `{% $${variable}.resourceId %}`,
    concurrencyId: `{% $${variable}.concurrencyId %}`,
    releaseCode: `{% $${variable}.releaseCode %}`,
    // Every slot of a lease of several permits; null for a lease written without them.
    slots: `{% $exists($${variable}.slots) ? $${variable}.slots : null %}`,
  };
}

/** Options of `acquireJsonataState`. */
export interface AcquireJsonataStateOptions extends JsonataStepOptions, AcquirePayloadOptions {
  /** The variable the lease is assigned to. Default `lock`. */
  assignTo?: string;
  /** The task's `TimeoutSeconds`; default as `acquireState`'s (`waitSeconds` plus the margin). */
  timeoutSeconds?: number;
}

/**
 * A JSONata `Task` that waits for a slot (`lambda:invoke.waitForTaskToken`) and assigns the
 * lease `{ resourceId, concurrencyId, releaseCode, expiresAt, fencingToken, waitedMs, slots }` to `$lock`.
 *
 * @example
 * States: { Acquire: acquireJsonataState({ functionArn, resourceId: 'partner-api', concurrency: 3, next: 'Work' }) }
 */
export function acquireJsonataState(options: AcquireJsonataStateOptions & Transition): AslState {
  const variable = leaseVariable(options.assignTo ?? defaultLeaseVariable, 'assignTo');
  return {
    Type: 'Task',
    QueryLanguage: 'JSONata',
    ...(options.comment ? { Comment: options.comment } : {}),
    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    Arguments: { FunctionName: options.functionArn, Payload: acquirePayload(options) },
    // The answer of SendTaskSuccess is the lease itself.
    Assign: { [variable]: '{% $states.result %}' },
    Output: options.output ?? '{% $states.input %}',
    ...acquireTimeouts(options),
    Retry: lambdaServiceRetry,
    ...(options.catch ? { Catch: options.catch } : {}),
    ...transition(options),
  };
}

/** Options of `releaseJsonataState`. */
export interface ReleaseJsonataStateOptions extends JsonataStepOptions {
  /** The variable that holds the lease. Default `lock`. */
  lease?: string;
}

/**
 * A JSONata `Task` that releases the lease in `$lock`; releasing twice is harmless. The answer
 * `{ released }` is `$states.result.Payload` inside the state (for an `output` or a Choice after).
 *
 * @example
 * States: { Release: releaseJsonataState({ functionArn: releaseArn, end: true }) }
 */
export function releaseJsonataState(options: ReleaseJsonataStateOptions & Transition): AslState {
  return plainJsonataTask(options, leasePayload(options.lease), undefined);
}

/** Options of `countJsonataState`. */
export interface CountJsonataStateOptions extends JsonataStepOptions {
  resourceId: JsonataValue;
  /** The variable `{ resourceId, held, waiting }` is assigned to. Default `count`. */
  assignTo?: string;
}

/**
 * A JSONata `Task` that counts holders and waiters into `$count`: `{ resourceId, held, waiting }`.
 *
 * @example
 * States: { HowBusy: countJsonataState({ functionArn: countArn, resourceId: 'partner-api', next: 'Decide' }) }
 */
export function countJsonataState(options: CountJsonataStateOptions & Transition): AslState {
  const variable = leaseVariable(options.assignTo ?? 'count', 'assignTo');
  return plainJsonataTask(
    options,
    { resourceId: options.resourceId },
    { [variable]: '{% $states.result.Payload %}' },
  );
}

/** Options of `extendJsonataState`. */
export interface ExtendJsonataStateOptions extends JsonataStepOptions {
  leaseSeconds: JsonataValue;
  /** The variable that holds the lease; the extended lease is assigned back to it. Default `lock`. */
  lease?: string;
}

/**
 * A JSONata `Task` that moves the end of the lease in `$lock` to `leaseSeconds` from now and
 * assigns the extended lease back; fails with `Lock.Lost` when the slot is no longer held.
 *
 * @example
 * States: { KeepIt: extendJsonataState({ functionArn: extendArn, leaseSeconds: 600, next: 'MoreWork' }) }
 */
export function extendJsonataState(options: ExtendJsonataStateOptions & Transition): AslState {
  const variable = leaseVariable(options.lease ?? defaultLeaseVariable, 'lease');
  return plainJsonataTask(options, extendPayload(options.leaseSeconds, variable), {
    [variable]: '{% $states.result.Payload %}',
  });
}

/**
 * The extend function's payload: the lease in the variable `lease`, and the new length.
 *
 * @example
 * extendPayload(600); // { resourceId: '{% $lock.resourceId %}', ..., leaseSeconds: 600 }
 */
export function extendPayload(
  leaseSeconds: JsonataValue,
  lease: string = defaultLeaseVariable,
): Record<string, Json> {
  return { ...leasePayload(lease), leaseSeconds };
}

/** Options of the JSONata example. */
export interface ExampleJsonataStateMachineOptions {
  functions: { acquire: string; release: string };
  /** The work done while holding the slot: a Lambda function ARN called with the state input. */
  workFunctionArn: string;
  resourceId?: JsonataValue;
  concurrency?: JsonataValue;
  leaseSeconds?: JsonataValue;
  waitSeconds?: JsonataValue;
  /** The resource's start rate (see `acquireState`). */
  rate?: Rate | string;
  /** Slots each execution takes at once (see `acquireState`). */
  permits?: JsonataValue;
}

/**
 * `exampleStateMachine` in JSONata: acquire, work, release; when the work fails the slot is
 * released before the execution fails, and a `Lock.Timeout` ends the execution as `Lock.Timeout`.
 *
 * @example
 * const definition = exampleJsonataStateMachine({ functions, workFunctionArn });
 */
export function exampleJsonataStateMachine(options: ExampleJsonataStateMachineOptions): AslDefinition {
  const errorOutput = '{% $states.errorOutput %}';
  return {
    Comment: 'dynamo-dlm example: at most `concurrency` executions do the work at once',
    QueryLanguage: 'JSONata',
    StartAt: 'Acquire',
    States: {
      Acquire: acquireJsonataState({
        functionArn: options.functions.acquire,
        resourceId: options.resourceId ?? '{% $states.input.resourceId %}',
        concurrency: options.concurrency ?? '{% $states.input.concurrency %}',
        leaseSeconds: options.leaseSeconds ?? 300,
        ...(options.waitSeconds === undefined ? {} : { waitSeconds: options.waitSeconds }),
        ...(options.rate === undefined ? {} : { rate: options.rate }),
        ...(options.permits === undefined ? {} : { permits: options.permits }),
        catch: [{ ErrorEquals: ['Lock.Timeout'], Output: errorOutput, Next: 'NoSlotInTime' }],
        next: 'Work',
      }),
      Work: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Arguments: { FunctionName: options.workFunctionArn, Payload: '{% $states.input %}' },
        Assign: { work: '{% $states.result.Payload %}' },
        Output: '{% $states.input %}',
        Catch: [{ ErrorEquals: ['States.ALL'], Output: errorOutput, Next: 'ReleaseAfterFailure' }],
        Next: 'Release',
      },
      Release: releaseJsonataState({ functionArn: options.functions.release, end: true }),
      // Its input is the work's error, which goes on to WorkFailed.
      ReleaseAfterFailure: releaseJsonataState({
        functionArn: options.functions.release,
        next: 'WorkFailed',
      }),
      WorkFailed: { Type: 'Fail', Error: 'Work.Failed', Cause: '{% $states.input.Cause %}' },
      NoSlotInTime: { Type: 'Fail', Error: 'Lock.Timeout', Cause: '{% $states.input.Cause %}' },
    },
  };
}

function plainJsonataTask(
  options: JsonataStepOptions & Transition,
  payload: Record<string, Json>,
  assign: Record<string, Json> | undefined,
): AslState {
  return {
    Type: 'Task',
    QueryLanguage: 'JSONata',
    ...(options.comment ? { Comment: options.comment } : {}),
    Resource: 'arn:aws:states:::lambda:invoke',
    Arguments: { FunctionName: options.functionArn, Payload: payload },
    ...(assign ? { Assign: assign } : {}),
    Output: options.output ?? '{% $states.input %}',
    Retry: lambdaServiceRetry,
    ...(options.catch ? { Catch: options.catch } : {}),
    ...transition(options),
  };
}

/** A workflow variable's name as Step Functions takes it (letters, digits, `_`; not a digit first). */
function leaseVariable(name: string, field: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,79}$/.test(name)) {
    throw new TypeError(
      `Expected \`${field}\` to be a variable name (letters, digits, _, not starting with a digit), got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

function present(name: string, value: JsonataValue | undefined): Record<string, Json> {
  return value === undefined ? {} : { [name]: value };
}

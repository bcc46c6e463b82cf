import { lambdaServiceErrors } from '../core/steps/asl.js';
import {
  type AcquirePayloadOptions,
  acquirePayload,
  defaultLeaseVariable,
  extendPayload,
  type JsonataValue,
  leasePayload,
} from '../core/steps/jsonata.js';
import type { DynamoDlm } from './dynamo-dlm.js';

/**
 * The steps of `DynamoDlm` for SST's own workflow builder (`sst.aws.StepFunctions`, JSONata
 * only): each is a `lambdaInvoke` with the payload of `dynamo-dlm/steps` (defined once, in
 * `core/steps/jsonata.ts`) and the retry of the Lambda service's errors; the lease is the
 * variable `$lock`, and each state's output is its input.
 */
type Task = ReturnType<typeof sst.aws.StepFunctions.lambdaInvoke>;
type State = Parameters<Task['next']>[0];

/** SST's spelling of `lambdaServiceRetry`. */
const serviceRetry = {
  errors: lambdaServiceErrors,
  interval: '1 second',
  maxAttempts: 3,
  backoffRate: 2,
} as const;
const passInput = '{% $states.input %}';

/**
 * Options of `acquireTask`. No task time-out or heartbeat: SST's tasks set neither
 * `TimeoutSeconds` nor `HeartbeatSeconds`, so `waitSeconds` (answered by the functions, with
 * the sweeper as their backstop) is how a waiting acquire ends.
 */
export interface AcquireTaskOptions extends Omit<AcquirePayloadOptions, 'heartbeatSeconds'> {
  /** The state's name. */
  name: string;
  /** The variable the lease is assigned to. Default `lock`. */
  assignTo?: string;
}

/**
 * Waits for a slot (`integration: "token"`): the lease goes to `$lock`.
 *
 * @example
 * const acquire = acquireTask(locks, { name: 'Acquire', resourceId: 'partner-api', concurrency: 3 });
 */
export function acquireTask(locks: DynamoDlm, options: AcquireTaskOptions): Task {
  return sst.aws.StepFunctions.lambdaInvoke({
    name: options.name,
    function: locks.steps.acquire,
    integration: 'token',
    payload: acquirePayload(options),
    assign: { [options.assignTo ?? defaultLeaseVariable]: '{% $states.result %}' },
    output: passInput,
  }).retry(serviceRetry);
}

/**
 * Releases the lease in `$lock` (or `lease`); releasing twice is harmless.
 *
 * @example
 * acquire.next(work).next(releaseTask(locks, { name: 'Release' }));
 */
export function releaseTask(locks: DynamoDlm, options: { name: string; lease?: string }): Task {
  return sst.aws.StepFunctions.lambdaInvoke({
    name: options.name,
    function: locks.steps.release,
    payload: leasePayload(options.lease),
    output: passInput,
  }).retry(serviceRetry);
}

/**
 * Counts holders and waiters of a resource into `$count` (or `assignTo`): `{ resourceId, held, waiting }`.
 *
 * @example
 * countTask(locks, { name: 'HowBusy', resourceId: 'partner-api' });
 */
export function countTask(
  locks: DynamoDlm,
  options: { name: string; resourceId: JsonataValue; assignTo?: string },
): Task {
  return sst.aws.StepFunctions.lambdaInvoke({
    name: options.name,
    function: locks.steps.count,
    payload: { resourceId: options.resourceId },
    assign: { [options.assignTo ?? 'count']: '{% $states.result.Payload %}' },
    output: passInput,
  }).retry(serviceRetry);
}

/**
 * Moves the end of the lease in `$lock` to `leaseSeconds` from now and assigns it back; fails
 * with `Lock.Lost` when the slot is no longer held.
 *
 * @example
 * extendTask(locks, { name: 'KeepIt', leaseSeconds: 600 });
 */
export function extendTask(
  locks: DynamoDlm,
  options: { name: string; leaseSeconds: JsonataValue; lease?: string },
): Task {
  const lease = options.lease ?? defaultLeaseVariable;
  return sst.aws.StepFunctions.lambdaInvoke({
    name: options.name,
    function: locks.steps.extend,
    payload: extendPayload(options.leaseSeconds, lease),
    assign: { [lease]: '{% $states.result.Payload %}' },
    output: passInput,
  }).retry(serviceRetry);
}

/** Options of `withLockTasks`. */
export interface WithLockTasksOptions extends Omit<AcquireTaskOptions, 'name' | 'assignTo'> {
  /** Prefix of the states' names: `<name>Acquire`, `<name>Release`, ... */
  name: string;
  /** The work done while the slot is held: one task (its `catch` is set here). */
  work: Task;
}

/**
 * Acquire, the work, release; a failed work step releases the slot before the execution fails
 * (`Work.Failed`, with the work's cause), and a `Lock.Timeout` fails it as `Lock.Timeout`.
 * `start` is the first state, `end` the release, to go on from with `end.next(...)`.
 *
 * @example
 * const { start } = withLockTasks(locks, { name: 'Partner', resourceId: 'partner-api', concurrency: 3, work });
 * new sst.aws.StepFunctions('Orders', { definition: start });
 */
export function withLockTasks(locks: DynamoDlm, options: WithLockTasksOptions): { start: Task; end: Task } {
  const { name, work, ...request } = options;
  const acquire = acquireTask(locks, { ...request, name: `${name}Acquire` });
  const release = releaseTask(locks, { name: `${name}Release` });
  const releaseAfterFailure = releaseTask(locks, { name: `${name}ReleaseAfterFailure` });
  const failed: State = sst.aws.StepFunctions.fail({
    name: `${name}WorkFailed`,
    error: 'Work.Failed',
    cause: '{% $states.input.Cause %}',
  });
  const noSlot: State = sst.aws.StepFunctions.fail({
    name: `${name}NoSlotInTime`,
    error: 'Lock.Timeout',
    cause: '{% $states.input.Cause %}',
  });
  acquire.catch(noSlot, { errors: ['Lock.Timeout'] });
  work.catch(releaseAfterFailure, { errors: ['States.ALL'] });
  releaseAfterFailure.next(failed);
  acquire.next(work).next(release);
  return { start: acquire, end: release };
}

import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
} from '@aws-sdk/client-sfn';
import type { Lease, SlotHold } from '../../core/lease.js';
import { sfnClient } from './clients.js';
import { logger, tokenHint } from './logger.js';
import { emitMetric, metricName } from './metrics.js';

/** The acquire step's output, as the workflow receives it. */
export interface AcquireOutput {
  resourceId: string;
  concurrencyId: number;
  releaseCode: string;
  expiresAt: string;
  fencingToken: number;
  waitedMs: number;
  /** Every slot of the lease with its fencing token: one, or `permits` of them. */
  slots: SlotHold[];
}

/** Answers that mean the task no longer waits (timed out, execution stopped, token unknown). */
const taskGoneErrors = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** A lease as the steps output it (acquire and extend): the end as an ISO 8601 time. */
export function leaseOutput(lease: Omit<Lease, 'owner'>): Omit<AcquireOutput, 'waitedMs'> {
  return {
    resourceId: lease.resourceId,
    concurrencyId: lease.concurrencyId,
    releaseCode: lease.releaseCode,
    expiresAt: new Date(lease.expiresAtMs).toISOString(),
    fencingToken: lease.fencingToken,
    // Every slot of the lease, also of a lease of one: the built release and extend states pass
    // `slots` on, and a path to a field that may be absent would fail their state.
    slots: (lease.slots ?? [lease]).map(({ concurrencyId, fencingToken }) => ({
      concurrencyId,
      fencingToken,
    })),
  };
}

/** The acquire output for a lease. */
export function acquireOutput(lease: Lease, waitedMs: number): AcquireOutput {
  return { ...leaseOutput(lease), waitedMs: Math.max(0, Math.round(waitedMs)) };
}

/**
 * Sends the grant to the waiting task. Answers false when the task takes no answer: it may have
 * ended, or another answerer may have delivered this very grant first (Step Functions answers
 * `TaskTimedOut` to every answer after the first), so "false" is never a reason to free the
 * slot. Other failures throw for a retry.
 *
 * @example
 * await sendGrant(taskToken, output); // then record the request as answered either way
 */
export async function sendGrant(taskToken: string, output: AcquireOutput): Promise<boolean> {
  return whileTaskExists(taskToken, 'grant', () =>
    sfnClient().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
  );
}

/** Fails the waiting task with a workflow-facing error; false when the task is gone already. */
export async function sendFailure(taskToken: string, error: string, cause: string): Promise<boolean> {
  return whileTaskExists(taskToken, error, () =>
    sfnClient().send(new SendTaskFailureCommand({ taskToken, error, cause: cause.slice(0, 32_768) })),
  );
}

/** Whether the task still waits: a heartbeat answers `TaskTimedOut` once its execution ended. */
export async function taskStillWaits(taskToken: string): Promise<boolean> {
  return whileTaskExists(taskToken, 'heartbeat', () =>
    sfnClient().send(new SendTaskHeartbeatCommand({ taskToken })),
  );
}

/** Sends `send` to the task; false when the task takes no answer any more. */
async function whileTaskExists(
  taskToken: string,
  what: string,
  send: () => Promise<unknown>,
): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (error) {
    if (error instanceof Error && taskGoneErrors.has(error.name)) {
      logger.info('task takes no answer', { what, answer: error.name, task: tokenHint(taskToken) });
      return false;
    }
    // Not answered now: a retry turn or the sweeper answers later, from the request's record.
    emitMetric(metricName.answersFailed, 1);
    throw error;
  }
}

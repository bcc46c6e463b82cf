import type { Context } from 'aws-lambda';
import { rateCell } from '../core/rate.js';
import { ResourceLimitMismatchError } from '../core/resource-limit.js';
import { firstAttempt } from '../core/waiting/first-attempt.js';
import { releaseCodeOf, type SlotRequest } from '../core/waiting/request.js';
import { isUnclaimed } from '../core/waiting/token-claim.js';
import { sendFailure } from './lib/answer.js';
import { lockStore, now } from './lib/clients.js';
import { readConfig } from './lib/config.js';
import { errorName, StepError } from './lib/errors.js';
import { joinQueue } from './lib/join-queue.js';
import { logger, tokenHint } from './lib/logger.js';
import { emitMetric, metricName } from './lib/metrics.js';
import { acquireInput, parseStepInput } from './lib/schemas.js';
import { answerUnrecorded, driveSettled, passAfterLeaving, settlePass } from './lib/settle.js';

/** What the function returns (Step Functions ignores it: the task waits for its token). */
export type AcquireResult = {
  status: 'granted' | 'waiting' | 'answered-elsewhere' | 'invalid' | 'timeout' | 'refused';
};

/**
 * The acquire step, called with `arn:aws:states:::lambda:invoke.waitForTaskToken`. It never
 * sleeps: it grants at once, or puts the request in the resource's queue (`joinQueue`) and
 * returns; the workflow stays parked on its task token until a grant or `Lock.Timeout` arrives.
 *
 * @example
 * // Parameters: { "taskToken.$": "$$.Task.Token", "resourceId": "partner-api", "concurrency": 3, "owner.$": "$$.Execution.Id" }
 */
export async function handler(event: unknown, context?: Context): Promise<AcquireResult> {
  const arrivedMs = now();
  const taskToken = (event as { taskToken?: unknown } | null)?.taskToken;
  if (typeof taskToken !== 'string' || taskToken.length === 0) {
    // Without a token there is no task to answer: failing the invocation fails the state.
    throw new StepError(
      errorName.invalidRequest,
      'taskToken: required (pass "taskToken.$": "$$.Task.Token")',
    );
  }
  let input: ReturnType<typeof acquireInput.parse>;
  try {
    input = parseStepInput(acquireInput, event);
  } catch (error) {
    // A token recorded for a request is that request's: bad input under it is someone else's.
    if (!(await isUnclaimed(lockStore(context), releaseCodeOf(taskToken)))) return refused(taskToken);
    await sendFailure(taskToken, errorName.invalidRequest, (error as Error).message);
    return { status: 'invalid' };
  }
  logger.appendKeys({
    resourceId: input.resourceId,
    task: tokenHint(taskToken),
    requestId: context?.awsRequestId,
  });
  const store = lockStore(context);
  const config = readConfig();
  const request: SlotRequest = {
    resourceId: input.resourceId,
    concurrency: input.concurrency,
    leaseMs: Math.round(input.leaseSeconds * 1000),
    waitUntilMs:
      input.waitSeconds === undefined ? Number.POSITIVE_INFINITY : arrivedMs + input.waitSeconds * 1000,
    taskToken,
    ...(input.owner === undefined ? {} : { owner: input.owner }),
    ...(input.heartbeatSeconds === undefined ? {} : { heartbeatSeconds: input.heartbeatSeconds }),
    ...(input.waitSeconds === undefined ? {} : { waitSeconds: input.waitSeconds }),
    ...(input.rate === undefined ? {} : { rate: rateCell(input.rate) }),
    ...(input.permits === undefined || input.permits === 1 ? {} : { permits: input.permits }),
  };
  try {
    const attempt = await firstAttempt(store, request);
    if (attempt.kind === 'refused') return refused(taskToken);
    if (attempt.kind === 'over-limit') {
      const mismatch = new ResourceLimitMismatchError(input.resourceId, input.concurrency, attempt.limit);
      await sendFailure(taskToken, errorName.invalidRequest, mismatch.message);
      return { status: 'invalid' };
    }
    // Answered, unless its lease lapsed and the slot went on first: then it waits like a busy one.
    if (attempt.kind === 'granted' && (await answerUnrecorded(store, request, attempt.lease, arrivedMs)))
      return { status: 'granted' };
    if (attempt.kind === 'settled') {
      await driveSettled(store, attempt.request);
      // It may have left the head of the queue just now (granted the slot it took): wake the next.
      if (attempt.request.state === 'granted') await passAfterLeaving(store, input.resourceId);
      return { status: 'answered-elsewhere' };
    }
    // The hand-over's pass: its grant answered, and the new head woken.
    if (attempt.kind === 'busy' && attempt.handedOver) await settlePass(store, attempt.handedOver);
    if (input.waitSeconds === 0) {
      emitMetric(metricName.timeouts, 1, { resourceId: input.resourceId });
      await sendFailure(
        taskToken,
        errorName.timeout,
        `No slot of "${input.resourceId}" was free (waitSeconds 0)`,
      );
      return { status: 'timeout' };
    }
    const joined = await joinQueue(store, config, request);
    logger.info(joined === 'granted' ? 'settled in the first pass' : joined);
    return { status: joined };
  } finally {
    logger.resetKeys();
  }
}

/**
 * An acquire whose task token belongs to another request (another resource or payload): a
 * replayed token. Its task is not answered, neither with a grant nor with an error the caller
 * could word; the invocation says so, and the log names the task by its hint only.
 */
function refused(taskToken: string): AcquireResult {
  logger.warn('refused a task token recorded for another request; its task was not answered', {
    task: tokenHint(taskToken),
  });
  return { status: 'refused' };
}

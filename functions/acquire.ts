import type { Context } from 'aws-lambda';
import { firstAttempt } from '../core/waiting/first-attempt.js';
import { grantWaiting, leftWaiting } from '../core/waiting/grant-waiting.js';
import { recordWaiting } from '../core/waiting/record-waiting.js';
import type { SlotRequest } from '../core/waiting/request.js';
import { sendFailure } from './lib/answer.js';
import { lockStore, now } from './lib/clients.js';
import { readConfig } from './lib/config.js';
import { errorName, StepError } from './lib/errors.js';
import { logger, tokenHint } from './lib/logger.js';
import { newRetryChain, turnGraceMs } from './lib/retry-queue.js';
import { acquireInput, parseStepInput } from './lib/schemas.js';
import { answerUnrecorded, driveSettled, passAfterLeaving, settlePass } from './lib/settle.js';
import { scheduleTurn } from './lib/turn-schedule.js';

/** What the function returns (Step Functions ignores it: the task waits for its token). */
export type AcquireResult = { status: 'granted' | 'waiting' | 'answered-elsewhere' | 'invalid' | 'timeout' };

/**
 * The acquire step, called with `arn:aws:states:::lambda:invoke.waitForTaskToken`. It never
 * sleeps: it grants at once, or records the request as waiting, puts it on the retry queue and
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
  };
  try {
    const attempt = await firstAttempt(store, request);
    if (attempt.kind === 'granted') {
      await answerUnrecorded(store, request, attempt.lease, arrivedMs);
      return { status: 'granted' };
    }
    if (attempt.kind === 'settled') {
      await driveSettled(store, attempt.request);
      // It may have left the head of the queue just now (granted the slot it took): wake the next.
      if (attempt.request.state === 'granted') await passAfterLeaving(store, input.resourceId);
      return { status: 'answered-elsewhere' };
    }
    if (attempt.handedOver) await settlePass(store, { grants: [attempt.handedOver], expired: [] });
    if (input.waitSeconds === 0) {
      await sendFailure(
        taskToken,
        errorName.timeout,
        `No slot of "${input.resourceId}" was free (waitSeconds 0)`,
      );
      return { status: 'timeout' };
    }
    // Until its first turn is scheduled (below), the sweeper re-drives it past the base delay.
    const chain = newRetryChain();
    const dueMs = now() + config.retryBaseSeconds * 1000 + turnGraceMs;
    const recorded = await recordWaiting(store, request, { retryChain: chain, dueMs });
    if (recorded.kind === 'holds-primary') return { status: 'answered-elsewhere' };
    if (recorded.kind === 'settled') {
      await driveSettled(store, recorded.request);
      return { status: 'answered-elsewhere' };
    }
    // A slot may have freed between the first attempt and the record: look once more, in order.
    const pass = await grantWaiting(store, input.resourceId);
    await settlePass(store, pass, { except: recorded.request.requestKey });
    const stillWaiting = leftWaiting(pass, recorded.request.requestKey);
    if (stillWaiting)
      await scheduleTurn(store, config, recorded.request, pass, { attempt: 0, from: [chain] });
    logger.info(stillWaiting ? 'waiting' : 'settled in the first pass');
    return { status: stillWaiting ? 'waiting' : 'granted' };
  } finally {
    logger.resetKeys();
  }
}

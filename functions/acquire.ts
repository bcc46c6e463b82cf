import type { Context } from 'aws-lambda';
import { firstAttempt, grantedLease } from '../core/waiting/first-attempt.js';
import { grantWaiting } from '../core/waiting/grant-waiting.js';
import { recordWaiting } from '../core/waiting/record-waiting.js';
import type { SlotRequest } from '../core/waiting/request.js';
import { sendFailure } from './lib/answer.js';
import { lockStore } from './lib/clients.js';
import { readConfig } from './lib/config.js';
import { errorName, StepError } from './lib/errors.js';
import { logger, tokenHint } from './lib/logger.js';
import { enqueueRetry, newRetryChain } from './lib/retry-queue.js';
import { acquireInput, parseStepInput } from './lib/schemas.js';
import { answerGrant, settlePass } from './lib/settle.js';

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
  const arrivedMs = Date.now();
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
  };
  try {
    const attempt = await firstAttempt(store, request);
    if (attempt.kind === 'granted') {
      await answerGrant(store, request, attempt.lease, { fresh: attempt.fresh, arrivedMs });
      return { status: 'granted' };
    }
    if (attempt.handedOver) {
      const { request: oldest, lease } = attempt.handedOver;
      await answerGrant(store, oldest, lease, { fresh: true, arrivedMs: oldest.arrivedMs });
    }
    if (input.waitSeconds === 0) {
      await sendFailure(
        taskToken,
        errorName.timeout,
        `No slot of "${input.resourceId}" was free (waitSeconds 0)`,
      );
      return { status: 'timeout' };
    }
    const recorded = await recordWaiting(store, request, newRetryChain());
    if (recorded.kind === 'holds-primary') return { status: 'answered-elsewhere' };
    if (recorded.kind === 'granted') {
      await answerGrant(store, recorded.request, grantedLease(recorded.request), { fresh: false, arrivedMs });
      return { status: 'granted' };
    }
    // A slot may have freed between the first attempt and the record: look once more, in order.
    const pass = await grantWaiting(store, input.resourceId);
    await settlePass(store, pass);
    const stillWaiting = pass.waiting.some((waiting) => waiting.requestKey === recorded.request.requestKey);
    if (stillWaiting) await enqueueRetry(config, recorded.request, recorded.request.retryChain ?? '', 0);
    logger.info(stillWaiting ? 'waiting' : 'settled in the first pass');
    return { status: stillWaiting ? 'waiting' : 'granted' };
  } finally {
    logger.resetKeys();
  }
}

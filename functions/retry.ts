import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { advanceRetryChain } from '../core/waiting/advance-chain.js';
import { grantedLease } from '../core/waiting/first-attempt.js';
import { retryRequest } from '../core/waiting/retry-request.js';
import { withdrawRequest } from '../core/waiting/withdraw.js';
import { taskStillWaits } from './lib/answer.js';
import { lockStore } from './lib/clients.js';
import { readConfig } from './lib/config.js';
import { logger, tokenHint } from './lib/logger.js';
import { enqueueRetry, newRetryChain, retryMessage } from './lib/retry-queue.js';
import { answerGrant, settlePass } from './lib/settle.js';

const processor = new BatchProcessor(EventType.SQS);

/**
 * One turn of the retry loop for one waiting request: hand free slots to the oldest waiters,
 * answer them, and if this request still waits (and its task still exists), put it back on the
 * queue with the next back-off delay. A malformed message fails alone and ends in the DLQ.
 */
async function retryOne(record: SQSRecord, context?: Context): Promise<void> {
  const message = retryMessage.parse(JSON.parse(record.body));
  const store = lockStore(context);
  const outcome = await retryRequest(store, message);
  if (outcome.kind === 'gone' || outcome.kind === 'superseded') return;
  if (outcome.kind === 'granted-before') {
    // Granted by a call that may have died before answering: answer again, never free on failure.
    const { request } = outcome;
    await answerGrant(store, request, grantedLease(request), { fresh: false, arrivedMs: request.arrivedMs });
    return;
  }
  await settlePass(store, outcome.pass);
  if (outcome.own !== 'waiting') return;
  const { request } = outcome;
  if (!(await taskStillWaits(request.taskToken))) {
    // The execution was stopped or timed out: the request must never receive a slot. (If it was
    // granted since the pass, the withdrawal is refused and the granter has answered it.)
    if (await withdrawRequest(store, request.resourceId, request.requestKey)) {
      logger.info('withdrew a request whose task is gone', { task: tokenHint(request.taskToken) });
    }
    return;
  }
  const next = newRetryChain();
  if (await advanceRetryChain(store, request.resourceId, request.requestKey, message.retryChain, next)) {
    await enqueueRetry(readConfig(), request, next, message.attempt + 1);
  }
}

/**
 * The consumer of the retry queue (an SQS event source with `ReportBatchItemFailures`).
 *
 * @example
 * // Event source mapping: retry queue -> this function, batch size 10, ReportBatchItemFailures.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(event, (record: SQSRecord) => retryOne(record, context), processor, {
    context,
  });
}

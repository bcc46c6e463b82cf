import {
  FullBatchFailureError,
  SqsFifoShortCircuitError,
  UnexpectedBatchTypeError,
} from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { InvalidLockOptionError } from '../core/errors.js';
import { admitBatch } from './admit-batch.js';
import { isFifo } from './attempts.js';
import { InvocationClock } from './deadline.js';
import { invocationPool } from './invocation-pool.js';
import { type ConcurrencyLimitOptions, type RateLimitOptions, resolveOptions } from './options.js';
import { ParkedRunner } from './parked-runner.js';
import { QueueUrls } from './queue-url.js';
import {
  type RateLimitedRecordHandler,
  type RecordOutcome,
  runBatch,
  type ThrottledRecordHandler,
} from './run-batch.js';
import { settleThrottled } from './settle-throttled.js';
import { takeOverParked } from './take-over-parked.js';

/**
 * An SQS-triggered Lambda handler with partial batch responses; assignable to `SQSHandler`.
 * Enable `ReportBatchItemFailures` on the event source mapping.
 *
 * @example
 * export const handler: ThrottledSqsHandler = limitConcurrency(recordHandler, { key: () => 'api', concurrency: 2 });
 */
export type ThrottledSqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * Wraps a record handler into an SQS Lambda handler that lets at most `concurrency` records of
 * one key run at once, across every queue and function that uses the same key and table. In
 * place of Powertools' `processPartialResponse`, with the same conventions: each record settles
 * on its own, only failures are reported in `batchItemFailures`, and a batch where every record
 * failed throws `FullBatchFailureError`.
 *
 * A record that finds no free slot is neither run nor lost, and no Lambda waits for it:
 * - standard queue: it is sent again with a timer (full-jitter back-off, body and attributes
 *   kept, attempt counter `dlm-throttle-attempt` raised) and the original deleted, so throttling
 *   never uses up its receive count nor sends it to the dead-letter queue;
 * - FIFO queue: it and the rest of its message group in this batch are hidden for the back-off
 *   (ChangeMessageVisibility) and reported in `batchItemFailures`, unprocessed, so group order
 *   holds. On FIFO each such return counts as a receive: give the queue a generous maxReceiveCount.
 *
 * The handler's own failures take the normal path (retry after the visibility timeout, then the
 * dead-letter queue), and so do the records of a key whose recorded limit is not this throttle's
 * `concurrency` (another function recorded it first, or `dlm limit` changed it): they are not run,
 * fail with `ResourceLimitMismatchError`, and one line per key and minute is logged. Options are
 * checked here, before any request: `InvalidLockOptionError`.
 *
 * With a `rate`, at most `rate.limit` records of a key start per `rate.periodSeconds`: each
 * start is counted in the same transaction as its slot, and a record the rate holds back is
 * re-queued (FIFO: hidden) until the moment the rate allows it, which is not a failure. A rate
 * without `concurrency` takes no slot: the handler then gets no lease.
 *
 * @example
 * import { limitConcurrency } from 'dynamo-dlm/sqs';
 *
 * export const handler = limitConcurrency(
 *   async (record) => callPartner(JSON.parse(record.body)),
 *   { key: (record) => `partner:${record.messageAttributes.tenant?.stringValue}`, concurrency: 1, leaseSeconds: 30 },
 * );
 */
export function limitConcurrency(
  handler: ThrottledRecordHandler,
  options: ConcurrencyLimitOptions,
): ThrottledSqsHandler;
export function limitConcurrency(
  handler: RateLimitedRecordHandler,
  options: RateLimitOptions,
): ThrottledSqsHandler;
export function limitConcurrency(
  handler: ThrottledRecordHandler,
  options: ConcurrencyLimitOptions | RateLimitOptions,
): ThrottledSqsHandler {
  if (typeof handler !== 'function') throw new InvalidLockOptionError('handler', 'a function', handler);
  const settings = resolveOptions(options);
  const queueUrls = new QueueUrls(settings.sqs, settings.queueUrl);
  return async (event, context) => {
    if (!Array.isArray(event?.Records)) throw new UnexpectedBatchTypeError();
    const records = event.Records;
    const pool = invocationPool(settings, context);
    const { settled, lineages } = await admitBatch(records, settings, queueUrls);
    const clock = new InvocationClock(settings, context);
    const holder = `${context?.functionName ?? 'throttle'}:${context?.awsRequestId ?? process.pid}`;
    const startMs = Date.now();
    const chainEndMs = async () => {
      const queues = [...new Set(records.map((record) => record?.eventSourceARN))].filter(
        (arn): arn is string => typeof arn === 'string',
      );
      const facts = await Promise.all(queues.map((arn) => queueUrls.facts(arn)));
      const visibilityMs = Math.min(...facts.map((fact) => fact.visibilityTimeoutMs));
      return startMs + visibilityMs - 2 * settings.deadlineMarginMs;
    };
    const parked = new ParkedRunner(settings, handler, context, clock, holder, chainEndMs);
    const outcomes = await runBatch(records, handler, context, settings, pool, clock, settled, parked);
    const { notSettled, parkedKeys } = await settleThrottled(
      records,
      outcomes,
      lineages,
      settings,
      queueUrls,
    );
    await takeOverParked(parkedKeys, pool, clock, parked, settings.parallelism);
    await parked.settled();
    const failures = records.filter((record, index) => {
      const outcome = outcomes[index];
      if (outcome?.status === 'done') return false;
      // A re-queued record is a success for the mapping: its copy carries on.
      if ((outcome?.status === 'throttled' || outcome?.status === 'unstarted') && !isFifo(record))
        return notSettled.has(record.messageId);
      return true;
    });
    if (settings.throwOnFullBatchFailure && records.length > 0 && outcomes.every(isFailure)) {
      throw new FullBatchFailureError(outcomes.map(toError));
    }
    return { batchItemFailures: failures.map((record) => ({ itemIdentifier: record.messageId })) };
  };
}

/** The handler (not the throttle) failed this record, or a failure in its group skipped it. */
function isFailure(outcome: RecordOutcome): boolean {
  return outcome.status === 'failed' || outcome.status === 'skipped';
}

function toError(outcome: RecordOutcome): Error {
  if (outcome.status !== 'failed') return new SqsFifoShortCircuitError();
  return outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error));
}

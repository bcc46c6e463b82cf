import type { Context, SQSRecord } from 'aws-lambda';
import { InvalidLockOptionError } from '../core/errors.js';
import type { Lease } from '../core/lease.js';
import { rateDelaySeconds, throttleDelaySeconds } from '../core/throttle/backoff.js';
import type { SlotPool } from '../core/throttle/slot-pool.js';
import { isFifo } from './attempts.js';
import { moveToDeadLetter } from './dead-letter.js';
import { InvocationClock } from './deadline.js';
import { deferFifo } from './defer-fifo.js';
import { ConcurrencyLimitedError } from './errors.js';
import { invocationPool } from './invocation-pool.js';
import { type ConcurrencyLimitOptions, keyOf, type RateLimitOptions, resolveOptions } from './options.js';
import { QueueUrls } from './queue-url.js';
import { admit } from './receipt.js';
import { checkRecord } from './record-check.js';
import { adviseOnFifoRedrive } from './redrive-advice.js';
import { requeue } from './requeue.js';
import type { RateLimitedRecordHandler, ThrottledRecordHandler } from './run-batch.js';

/**
 * A record handler for Powertools' batch processor, as `processPartialResponse` calls it.
 *
 * @example
 * const recordHandler: PowertoolsRecordHandler = limitRecordConcurrency(handler, options);
 */
export type PowertoolsRecordHandler = (record: SQSRecord, context?: Context) => Promise<unknown>;

/**
 * The throttle for a record handler that stays inside Powertools' batch processor
 * (`processPartialResponse` with `BatchProcessor` or `SqsFifoPartialProcessorAsync`): each call
 * takes a slot for the record's key, runs the handler, and releases it.
 *
 * A record that finds no free slot: on a standard queue it is re-queued with a timer and the
 * original deleted, and the call resolves (a success for Powertools); on a FIFO queue it is
 * hidden for the back-off and the call throws `ConcurrencyLimitedError`, so the FIFO processor
 * fails the rest of the batch. Those records are not hidden with it: SQS holds their group until
 * the queue's visibility timeout. {@link limitConcurrency} defers them together, shares one slot
 * among the records of a key (fewer writes), and is the better choice where it can replace
 * Powertools. Pass `{ context }` to `processPartialResponse`: leases are sized from it.
 *
 * @example
 * import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
 * import { limitRecordConcurrency } from 'dynamo-dlm/sqs';
 *
 * const processor = new BatchProcessor(EventType.SQS);
 * const recordHandler = limitRecordConcurrency(async (record) => callPartner(record.body), {
 *   key: () => 'partner-api', concurrency: 3, leaseSeconds: 20,
 * });
 * export const handler = async (event, context) =>
 *   processPartialResponse(event, recordHandler, processor, { context });
 */
export function limitRecordConcurrency(
  handler: ThrottledRecordHandler,
  options: ConcurrencyLimitOptions,
): PowertoolsRecordHandler;
export function limitRecordConcurrency(
  handler: RateLimitedRecordHandler,
  options: RateLimitOptions,
): PowertoolsRecordHandler;
export function limitRecordConcurrency(
  handler: ThrottledRecordHandler,
  options: ConcurrencyLimitOptions | RateLimitOptions,
): PowertoolsRecordHandler {
  if (typeof handler !== 'function') throw new InvalidLockOptionError('handler', 'a function', handler);
  const settings = resolveOptions(options);
  const queueUrls = new QueueUrls(settings.sqs, settings.queueUrl);
  // One pool per invocation (Powertools passes the same context to every record of a batch), so
  // that records of one key running in parallel hand a slot over instead of re-queuing each other.
  // Also how many records of each key the rate held back in this invocation: each waits one
  // interval longer than the one before, as `limitConcurrency` spaces a batch's records.
  const invocations = new WeakMap<
    Context,
    { pool: SlotPool; clock: InvocationClock; heldBack: Map<string, number> }
  >();
  return async (record, context) => {
    if (!context) {
      throw new InvalidLockOptionError(
        'context',
        'the Lambda context: pass { context } to processPartialResponse',
        context,
      );
    }
    checkRecord(record);
    const { key, concurrency } = keyOf(settings, record);
    let invocation = invocations.get(context);
    if (!invocation) {
      invocation = {
        pool: invocationPool(settings, context),
        clock: new InvocationClock(settings, context),
        heldBack: new Map(),
      };
      invocations.set(context, invocation);
    }
    const { pool, clock, heldBack } = invocation;
    const { logger } = settings.store;
    const factsOf = () => queueUrls.facts(record.eventSourceARN);
    const admission = await admit(record, settings, factsOf);
    if (admission.verdict === 'busy') throw new Error('its parked twin is running; asks again');
    if (admission.verdict === 'duplicate') {
      logger.warn(
        'SQS throttle: dropped a copy whose twin already ran (a holder ran it parked, or a repeated send made two)',
        {
          messageId: record.messageId,
        },
      );
      return undefined;
    }
    if (admission.verdict === 'exhausted') {
      if (
        await moveToDeadLetter(settings.sqs, queueUrls, await factsOf(), record, admission.lineage, logger)
      ) {
        return undefined;
      }
      throw new Error(`maxAttempts reached for ${record.messageId}; not moved`);
    }
    const { lineage } = admission;
    let outOfTime = !clock.canStart();
    let retryAfterMs: number | undefined;
    let rateNotBeforeMs: number | undefined;
    if (!outOfTime && concurrency === undefined) {
      // A rate without slots: the start alone is counted.
      const start = await pool.startWithoutSlot(key);
      if (start.kind === 'ready')
        return await clock.timed(async () => handler(record, context, undefined as never));
      rateNotBeforeMs = start.notBeforeMs;
    } else if (!outOfTime) {
      const taken = await pool.take(key, concurrency as number, { wait: true });
      if (taken.lease) {
        let lease: Lease | undefined = taken.lease;
        try {
          // A wait for a sibling's slot may have used the time left.
          outOfTime = !clock.canStart();
          // A lease handed over by a sibling record may be too short for this one: extend it, or
          // lose it; with a rate, this record's start is counted (`startRecord`).
          if (!outOfTime) {
            const start = await pool.startRecord(lease);
            if (start.kind === 'lost') lease = undefined;
            if (start.kind === 'rate-limited') rateNotBeforeMs = start.notBeforeMs;
            if (start.kind === 'ready') {
              lease = start.lease;
              return await clock.timed(async () => handler(record, context, start.lease));
            }
          }
        } finally {
          if (lease) await pool.giveBack(lease);
        }
      } else {
        retryAfterMs = taken.retryAfterMs;
        rateNotBeforeMs = taken.rateNotBeforeMs;
      }
    }
    if (rateNotBeforeMs !== undefined && !outOfTime) {
      const turn = heldBack.get(key) ?? 0;
      heldBack.set(key, turn + 1);
      rateNotBeforeMs += (turn * (settings.rate?.cell.intervalUs ?? 0)) / 1000;
    }
    const delaySeconds = outOfTime
      ? 0
      : rateNotBeforeMs !== undefined
        ? rateDelaySeconds(rateNotBeforeMs, Date.now())
        : throttleDelaySeconds(
            isFifo(record) ? lineage.failures : lineage.requeues,
            settings.backoff,
            retryAfterMs,
          );
    const facts = await factsOf();
    if (isFifo(record)) {
      adviseOnFifoRedrive(settings, record.eventSourceARN, facts);
      await deferFifo(settings, facts.url, [{ record, visibilitySeconds: delaySeconds }]);
      throw new ConcurrencyLimitedError(key, delaySeconds);
    }
    const { notSent } = await requeue(settings, facts, [{ record, delaySeconds, lineage }]);
    if (notSent.size > 0) throw new ConcurrencyLimitedError(key, delaySeconds);
    return undefined;
  };
}

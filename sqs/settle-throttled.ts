import type { SQSRecord } from 'aws-lambda';
import { rateDelaySeconds, throttleDelaySeconds } from '../core/throttle/backoff.js';
import { emitMetric, metricName } from '../functions/lib/metrics.js';
import { isFifo, type Lineage, lineageOf } from './attempts.js';
import { type Deferral, deferFifo } from './defer-fifo.js';
import type { ThrottleSettings } from './options.js';
import { parkCopies } from './park-copies.js';
import type { QueueUrls } from './queue-url.js';
import { adviseOnFifoRedrive } from './redrive-advice.js';
import { type Requeue, requeue } from './requeue.js';
import { recordReturns } from './return-ledger.js';
import type { RecordOutcome } from './run-batch.js';

/**
 * Sends the throttled and unstarted records of a batch on their way back: standard-queue records
 * re-queued (throttled: with a back-off timer; unstarted at the deadline: at once), FIFO records
 * (and the rest of their group) hidden for the same delay. One SendMessageBatch and one
 * DeleteMessageBatch, or one ChangeMessageVisibilityBatch, per 10 records. FIFO records held
 * back behind a failed record of their group are returns too: recorded, not counted as
 * failures. Returns the ids of standard-queue records that must be reported as failures (not
 * re-queued, or hidden instead): the queue then hands them out again; and the keys whose
 * throttled copies were parked, with their concurrency.
 *
 * @example
 * const { notSettled, parkedKeys } = await settleThrottled(event.Records, outcomes, lineages, settings, queueUrls);
 */
export async function settleThrottled(
  records: SQSRecord[],
  outcomes: RecordOutcome[],
  lineages: ReadonlyMap<number, Lineage>,
  settings: ThrottleSettings,
  queueUrls: QueueUrls,
): Promise<{ notSettled: Set<string>; parkedKeys: Map<string, number> }> {
  const requeues = new Map<string, Requeue[]>();
  const deferrals = new Map<string, Deferral[]>();
  // A group's throttled record comes before the records it holds back: they share its delay.
  const groupDelay = new Map<string, number>();
  const nowMs = Date.now();
  records.forEach((record, index) => {
    const outcome = outcomes[index];
    if (outcome?.status !== 'throttled' && outcome?.status !== 'deferred' && outcome?.status !== 'unstarted')
      return;
    const queue = record.eventSourceARN;
    const lineage = lineages.get(index) ?? lineageOf(record);
    const delay =
      outcome.status === 'unstarted'
        ? 0
        : outcome.status === 'throttled' && outcome.rateNotBeforeMs !== undefined
          ? rateDelaySeconds(outcome.rateNotBeforeMs, nowMs)
          : throttleDelaySeconds(
              isFifo(record) ? lineage.failures : lineage.requeues,
              settings.backoff,
              outcome.status === 'throttled' ? outcome.retryAfterMs : undefined,
            );
    if (!isFifo(record)) {
      requeues.set(queue, [...(requeues.get(queue) ?? []), { record, delaySeconds: delay, lineage }]);
      return;
    }
    const group = `${queue} ${record.attributes.MessageGroupId ?? ''}`;
    if (outcome.status !== 'deferred') groupDelay.set(group, delay);
    const visibilitySeconds = groupDelay.get(group) ?? delay;
    deferrals.set(queue, [...(deferrals.get(queue) ?? []), { record, visibilitySeconds }]);
  });

  const throttled = outcomes.filter((outcome) => outcome?.status === 'throttled').length;
  if (throttled > 0) emitMetric(metricName.throttledRecords, throttled);
  const notSettled = new Set<string>();
  const parkedKeys = new Map<string, number>();
  const { logger } = settings.store;
  // Parked for a holder to run when a slot frees; not those the rate held back: their timers
  // are set to the rate's moment, and a holder running them sooner would only be refused.
  const slotThrottledIds = new Set(
    records
      .filter((_, index) => {
        const outcome = outcomes[index];
        return outcome?.status === 'throttled' && outcome.rateNotBeforeMs === undefined;
      })
      .map((record) => record.messageId),
  );
  const skippedFifo = records.filter(
    (record, index) => isFifo(record) && outcomes[index]?.status === 'skipped',
  );
  await Promise.all([
    recordReturns(settings.store, skippedFifo),
    ...[...requeues].map(async ([queueArn, items]) => {
      const facts = await queueUrls.facts(queueArn).catch((error: unknown) => {
        logger.warn(
          'SQS throttle: cannot read the queue (URL, size limit); throttled messages return after their visibility timeout',
          {
            queueArn,
            error: error instanceof Error ? error.message : String(error),
          },
        );
        return undefined;
      });
      if (!facts) {
        for (const item of items) notSettled.add(item.record.messageId);
        return;
      }
      const { notSent, copies } = await requeue(settings, facts, items);
      for (const id of notSent) notSettled.add(id);
      const throttled = copies.filter(({ item }) => slotThrottledIds.has(item.record.messageId));
      for (const [key, concurrency] of await parkCopies(settings, throttled))
        parkedKeys.set(key, concurrency);
    }),
    ...[...deferrals].map(async ([queueArn, items]) => {
      const facts = await queueUrls.facts(queueArn).catch(() => undefined);
      // Without a URL the records still come back, after the queue's visibility timeout.
      if (facts) {
        adviseOnFifoRedrive(settings, queueArn, facts);
        await deferFifo(settings, facts.url, items);
      } else
        logger.warn(
          'SQS throttle: cannot read the queue (URL, redrive); FIFO records return after the visibility timeout',
          { queueArn },
        );
    }),
  ]);
  return { notSettled, parkedKeys };
}

import type { SQSRecord } from 'aws-lambda';
import { throttleDelaySeconds } from '../core/throttle/backoff.js';
import { emitMetric, metricName } from '../functions/lib/metrics.js';
import { isFifo, throttleAttempts } from './attempts.js';
import { type Deferral, deferFifo } from './defer-fifo.js';
import type { ThrottleSettings } from './options.js';
import type { QueueUrls } from './queue-url.js';
import { type Requeue, requeue } from './requeue.js';
import type { RecordOutcome } from './run-batch.js';

/**
 * Sends the throttled records of a batch on their way back: standard-queue records re-queued
 * with a timer, FIFO records (and the rest of their group) hidden for the same back-off. One
 * SendMessageBatch and one DeleteMessageBatch, or one ChangeMessageVisibilityBatch, per 10
 * records. Returns the ids of standard-queue records that could not be re-queued: they must be
 * reported as failures so that the queue hands them out again.
 *
 * @example
 * const notSettled = await settleThrottled(event.Records, outcomes, settings, queueUrls);
 */
export async function settleThrottled(
  records: SQSRecord[],
  outcomes: RecordOutcome[],
  settings: ThrottleSettings,
  queueUrls: QueueUrls,
): Promise<Set<string>> {
  const requeues = new Map<string, Requeue[]>();
  const deferrals = new Map<string, Deferral[]>();
  // A group's throttled record comes before the records it holds back: they share its delay.
  const groupDelay = new Map<string, number>();
  records.forEach((record, index) => {
    const outcome = outcomes[index];
    if (outcome?.status !== 'throttled' && outcome?.status !== 'deferred') return;
    const queue = record.eventSourceARN;
    const retryAfterMs = outcome.status === 'throttled' ? outcome.retryAfterMs : undefined;
    const delay = throttleDelaySeconds(throttleAttempts(record), settings.backoff, retryAfterMs);
    if (!isFifo(record)) {
      requeues.set(queue, [...(requeues.get(queue) ?? []), { record, delaySeconds: delay }]);
      return;
    }
    const group = `${queue} ${record.attributes.MessageGroupId ?? ''}`;
    if (outcome.status === 'throttled') groupDelay.set(group, delay);
    const visibilitySeconds = groupDelay.get(group) ?? delay;
    deferrals.set(queue, [...(deferrals.get(queue) ?? []), { record, visibilitySeconds }]);
  });

  const throttled = outcomes.filter((outcome) => outcome?.status === 'throttled').length;
  if (throttled > 0) emitMetric(metricName.throttledRecords, throttled);
  const notSettled = new Set<string>();
  const { logger } = settings.store;
  await Promise.all([
    ...[...requeues].map(async ([queueArn, items]) => {
      const url = await queueUrls.of(queueArn).catch((error: unknown) => {
        logger.warn(
          'SQS throttle: cannot find the queue URL; throttled messages return after their visibility timeout',
          {
            queueArn,
            error: error instanceof Error ? error.message : String(error),
          },
        );
        return undefined;
      });
      const failed = url
        ? await requeue(settings.sqs, url, items, logger)
        : items.map((item) => item.record.messageId);
      for (const id of failed) notSettled.add(id);
    }),
    ...[...deferrals].map(async ([queueArn, items]) => {
      const url = await queueUrls.of(queueArn).catch(() => undefined);
      // Without a URL the records still come back, after the queue's visibility timeout.
      if (url) await deferFifo(settings.sqs, url, items, logger);
      else
        logger.warn(
          'SQS throttle: cannot find the queue URL; FIFO records return after the visibility timeout',
          { queueArn },
        );
    }),
  ]);
  return notSettled;
}

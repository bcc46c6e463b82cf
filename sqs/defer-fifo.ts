import { ChangeMessageVisibilityBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { ThrottleSettings } from './options.js';
import { recordReturns } from './return-ledger.js';

/**
 * A FIFO record to hide again: a throttled one, or one behind it in its message group.
 *
 * @example
 * const deferral: Deferral = { record, visibilitySeconds: 4 };
 */
export interface Deferral {
  record: SQSRecord;
  visibilitySeconds: number;
}

/**
 * Hides the throttled records of a FIFO queue (which takes no per-message timer) for their
 * back-off, with one ChangeMessageVisibilityBatch per 10 records. The records behind a throttled
 * one in its group get the same delay, so the whole group comes back together: were they left to
 * the queue's visibility timeout, SQS would keep the group locked until then.
 *
 * The records are reported in `batchItemFailures` whatever happens here: a failed change only
 * means they come back after the queue's own visibility timeout. Each return is recorded first
 * (`recordReturns`), so that it does not count toward `maxAttempts`: SQS counts it as a receive.
 *
 * @example
 * await deferFifo(settings, queueUrl, [{ record, visibilitySeconds: 4 }]);
 */
export async function deferFifo(
  { sqs, store }: Pick<ThrottleSettings, 'sqs' | 'store'>,
  queueUrl: string,
  deferrals: Deferral[],
): Promise<void> {
  const { logger } = store;
  await recordReturns(
    store,
    deferrals.map(({ record }) => record),
  );
  for (let start = 0; start < deferrals.length; start += 10) {
    const chunk = deferrals.slice(start, start + 10);
    try {
      const { Failed = [] } = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map(({ record, visibilitySeconds }, index) => ({
            Id: String(index),
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: visibilitySeconds,
          })),
        }),
      );
      if (Failed.length > 0) {
        logger.warn(
          'SQS throttle: visibility change refused; those messages return after the visibility timeout',
          {
            failed: Failed.length,
            code: Failed[0]?.Code,
          },
        );
      }
    } catch (error) {
      logger.warn(
        'SQS throttle: visibility change failed; those messages return after the visibility timeout',
        {
          messages: chunk.length,
          error: error instanceof Error ? error.message : String(error),
        },
      );
    }
  }
}

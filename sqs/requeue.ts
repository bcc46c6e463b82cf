import { DeleteMessageBatchCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { LockLogger } from '../core/store.js';
import { requeueAttributes, throttleAttempts } from './attempts.js';
import type { ThrottleSqsClient } from './options.js';

/**
 * A throttled record of a standard queue, and how long its copy stays hidden.
 *
 * @example
 * const item: Requeue = { record, delaySeconds: 3 };
 */
export interface Requeue {
  record: SQSRecord;
  delaySeconds: number;
}

/** SQS batch calls take at most 10 entries. */
const batchLimit = 10;
let warnedAboutFullAttributes = false;

/**
 * Puts throttled messages of a standard queue back with a timer, so that throttling never uses
 * up their receive count nor sends them to the dead-letter queue: each is sent again (body,
 * message attributes and trace header kept, the attempt counter raised) with `DelaySeconds`, then
 * the original is deleted. Returns the message ids that could not be sent: report those as
 * failures, so they come back through the ordinary visibility timeout instead of being lost.
 *
 * The original is deleted here rather than left to the event source mapping, so that a batch
 * that fails later as a whole (a timeout, a crash) cannot bring it back next to its copy.
 *
 * @example
 * const notSent = await requeue(sqs, queueUrl, [{ record, delaySeconds: 3 }], logger);
 */
export async function requeue(
  sqs: ThrottleSqsClient,
  queueUrl: string,
  items: Requeue[],
  logger: LockLogger,
): Promise<Set<string>> {
  const notSent = new Set<string>();
  for (let start = 0; start < items.length; start += batchLimit) {
    const chunk = items.slice(start, start + batchLimit);
    const sent = await send(sqs, queueUrl, chunk, logger);
    for (const { record } of chunk) if (!sent.includes(record)) notSent.add(record.messageId);
    if (sent.length > 0) await deleteOriginals(sqs, queueUrl, sent, logger);
  }
  return notSent;
}

async function send(
  sqs: ThrottleSqsClient,
  queueUrl: string,
  chunk: Requeue[],
  logger: LockLogger,
): Promise<SQSRecord[]> {
  const entries = chunk.map(({ record, delaySeconds }, index) => {
    const { attributes, counted } = requeueAttributes(record, throttleAttempts(record) + 1);
    if (!counted && !warnedAboutFullAttributes) {
      warnedAboutFullAttributes = true;
      logger.warn(
        'SQS throttle: a message has 10 attributes, so no attempt counter; its back-off restarts each time',
        {
          messageId: record.messageId,
        },
      );
    }
    const traceHeader = record.attributes.AWSTraceHeader;
    return {
      Id: String(index),
      MessageBody: record.body,
      DelaySeconds: delaySeconds,
      ...(Object.keys(attributes).length > 0 && { MessageAttributes: attributes }),
      ...(traceHeader && {
        MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: traceHeader } },
      }),
    };
  });
  try {
    const { Successful = [], Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
    if (Failed.length > 0) {
      logger.warn('SQS throttle: re-queue refused; those messages return after their visibility timeout', {
        failed: Failed.length,
        code: Failed[0]?.Code,
        message: Failed[0]?.Message,
      });
    }
    return Successful.map((entry) => chunk[Number(entry.Id)]?.record).filter(
      (record) => record !== undefined,
    );
  } catch (error) {
    logger.warn('SQS throttle: re-queue failed; those messages return after their visibility timeout', {
      messages: chunk.length,
      error: error instanceof Error ? error.message : String(error),
    });
    return [];
  }
}

async function deleteOriginals(
  sqs: ThrottleSqsClient,
  queueUrl: string,
  records: SQSRecord[],
  logger: LockLogger,
): Promise<void> {
  try {
    const { Failed = [] } = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: records.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
      }),
    );
    if (Failed.length === 0) return;
    logger.warn('SQS throttle: could not delete re-queued originals; the event source mapping deletes them', {
      failed: Failed.length,
      code: Failed[0]?.Code,
    });
  } catch (error) {
    // Reported as successes, they are deleted by the mapping as well; only a crash now would duplicate them.
    logger.warn('SQS throttle: could not delete re-queued originals; the event source mapping deletes them', {
      messages: records.length,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

import { DeleteMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { LockLogger } from '../core/store.js';
import { copyAttributes, type Lineage, sendableAttributes } from './attempts.js';
import type { ThrottleSqsClient } from './options.js';
import type { QueueFacts, QueueUrls } from './queue-url.js';

/**
 * Moves a message whose line failed `maxAttempts` deliveries to the queue's dead-letter queue,
 * as SQS's redrive would have done had re-queuing not renewed its receive count: body and
 * attributes kept (with the line's counts, for whoever looks at it), the original deleted.
 * Returns false when it could not: the record is then reported failed, and comes back.
 *
 * @example
 * const moved = await moveToDeadLetter(sqs, queueUrls, facts, record, lineage, logger);
 */
export async function moveToDeadLetter(
  sqs: ThrottleSqsClient,
  queueUrls: QueueUrls,
  facts: QueueFacts,
  record: SQSRecord,
  lineage: Lineage,
  logger: LockLogger,
): Promise<boolean> {
  if (!facts.deadLetterArn) {
    logger.warn(
      'SQS throttle: maxAttempts reached but the queue has no dead-letter queue; the message is kept',
      {
        messageId: record.messageId,
      },
    );
    return false;
  }
  try {
    const url = await queueUrls.of(facts.deadLetterArn);
    const attributes = copyAttributes(record, lineage) ?? sendableAttributes(record);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: record.body,
        ...(Object.keys(attributes).length > 0 && { MessageAttributes: attributes }),
        // A FIFO dead-letter queue takes the message in its group; the message id as the
        // deduplication id makes a repeated move (the delete's answer lost) one message within
        // SQS's 5 minutes.
        ...(facts.deadLetterArn.endsWith('.fifo') && {
          MessageGroupId: record.attributes.MessageGroupId,
          MessageDeduplicationId: record.messageId,
        }),
      }),
    );
    await sqs.send(new DeleteMessageCommand({ QueueUrl: facts.url, ReceiptHandle: record.receiptHandle }));
    logger.warn(
      'SQS throttle: moved a message to the dead-letter queue after maxAttempts failed deliveries',
      {
        messageId: record.messageId,
        origin: lineage.origin,
        failures: lineage.failures,
      },
    );
    return true;
  } catch (error) {
    logger.warn('SQS throttle: could not move a message to the dead-letter queue; it comes back', {
      messageId: record.messageId,
      error: error instanceof Error ? error.message : String(error),
    });
    return false;
  }
}

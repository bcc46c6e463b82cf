import {
  DeleteMessageBatchCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { LockLogger, LockStore } from '../core/store.js';
import { copyAttributes, type Lineage, messageBytes } from './attempts.js';
import { type Deferral, deferFifo } from './defer-fifo.js';
import type { ThrottleSettings, ThrottleSqsClient } from './options.js';
import { type QueueFacts, sqsMaxMessageBytes } from './queue-url.js';

/**
 * A throttled record of a standard queue, how long its copy stays hidden, and the line its copy
 * continues (from the record's admission).
 *
 * @example
 * const item: Requeue = { record, delaySeconds: 3, lineage };
 */
export interface Requeue {
  record: SQSRecord;
  delaySeconds: number;
  lineage: Lineage;
}

/** SQS batch calls take at most 10 entries. */
const batchLimit = 10;

/**
 * Puts throttled messages of a standard queue back with a timer, so that throttling never uses
 * up their receive count nor sends them to the dead-letter queue: each is sent again (body,
 * message attributes and trace header kept, and `dlm-throttle-attempt` with the line's counts
 * and identity) with `DelaySeconds`, then the original is deleted. Batches are cut at 10
 * entries and at SQS's 1 MiB per request.
 *
 * A message with no room for the attribute (10 attributes of its own, or a size within the
 * attribute's few dozen bytes of the queue's `MaximumMessageSize`) is not copied: it is hidden
 * for its delay, as on FIFO: SQS counts each such return as a receive, the throttle records it
 * as a return (`deferFifo`), so it does not count toward `maxAttempts`.
 *
 * Returns the message ids that must be reported as failures (hidden, or not sent): they come
 * back through the visibility timeout instead of being lost. A lost answer the SDK repeats may
 * leave two copies with one identity: `admit` runs only one.
 *
 * @example
 * const { notSent, copies } = await requeue(settings, facts, [{ record, delaySeconds: 3, lineage }]);
 */
export async function requeue(
  settings: Pick<ThrottleSettings, 'sqs' | 'store'>,
  facts: QueueFacts,
  items: Requeue[],
): Promise<{ notSent: Set<string>; copies: SentCopy[] }> {
  const { sqs } = settings;
  const { logger } = settings.store;
  const notSent = new Set<string>();
  const copies: SentCopy[] = [];
  const hidden: Deferral[] = [];
  const chunks: Array<Array<{ item: Requeue; entry: Entry }>> = [];
  let chunk: Array<{ item: Requeue; entry: Entry }> = [];
  let chunkBytes = 0;
  for (const item of items) {
    const entry = entryOf(item, facts);
    if (!entry) {
      hidden.push({ record: item.record, visibilitySeconds: item.delaySeconds });
      continue;
    }
    if (chunk.length === batchLimit || (chunk.length > 0 && chunkBytes + entry.bytes > sqsMaxMessageBytes)) {
      chunks.push(chunk);
      chunk = [];
      chunkBytes = 0;
    }
    chunk.push({ item, entry });
    chunkBytes += entry.bytes;
  }
  if (chunk.length > 0) chunks.push(chunk);
  for (const part of chunks) {
    const sent = await send(sqs, facts.url, part, settings.store);
    const sentRecords = sent.map(({ item }) => item.record);
    for (const { item } of part) if (!sentRecords.includes(item.record)) notSent.add(item.record.messageId);
    copies.push(...sent);
    if (sent.length > 0) await deleteOriginals(sqs, facts.url, sentRecords, logger);
  }
  if (hidden.length > 0) {
    logger.warn(
      'SQS throttle: no room for the attempt attribute; hiding the message instead (SQS counts a receive)',
      {
        messages: hidden.length,
        messageId: hidden[0]?.record.messageId,
      },
    );
    await deferFifo(settings, facts.url, hidden);
    for (const { record } of hidden) notSent.add(record.messageId);
  }
  return { notSent, copies };
}

/**
 * A copy SQS took: its message id, the attributes it carries (for parking it), and the earliest
 * moment it can be received (its delay counted from before the send: SQS may start it sooner
 * than the answer arrives).
 *
 * @example
 * const { messageId, item, visibleFromMs } = copies[0];
 */
export interface SentCopy {
  item: Requeue;
  messageId: string;
  attributes: Record<string, MessageAttributeValue>;
  visibleFromMs: number;
}

interface Entry {
  bytes: number;
  body: Record<string, unknown>;
  attributes: Record<string, MessageAttributeValue>;
}

/** The copy's SendMessageBatch entry, or undefined when the attribute does not fit. */
function entryOf({ record, delaySeconds, lineage }: Requeue, facts: QueueFacts): Entry | undefined {
  const attributes = copyAttributes(record, { ...lineage, requeues: lineage.requeues + 1 });
  if (!attributes) return undefined;
  const bytes = messageBytes(record.body, attributes);
  if (bytes > facts.maxMessageBytes) return undefined;
  const traceHeader = record.attributes.AWSTraceHeader;
  return {
    bytes,
    attributes,
    body: {
      MessageBody: record.body,
      DelaySeconds: delaySeconds,
      MessageAttributes: attributes,
      ...(traceHeader && {
        MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: traceHeader } },
      }),
    },
  };
}

async function send(
  sqs: ThrottleSqsClient,
  queueUrl: string,
  chunk: Array<{ item: Requeue; entry: Entry }>,
  store: Pick<LockStore, 'clock' | 'logger'>,
): Promise<SentCopy[]> {
  const { logger } = store;
  const sentAtMs = store.clock();
  try {
    const { Successful = [], Failed = [] } = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map(({ entry }, index) => ({ Id: String(index), ...entry.body }) as never),
      }),
    );
    if (Failed.length > 0) {
      logger.warn('SQS throttle: re-queue refused; those messages return after their visibility timeout', {
        failed: Failed.length,
        code: Failed[0]?.Code,
        message: Failed[0]?.Message,
      });
    }
    const copies: SentCopy[] = [];
    for (const entry of Successful) {
      const part = chunk[Number(entry.Id)];
      if (part)
        copies.push({
          item: part.item,
          messageId: entry.MessageId ?? '',
          attributes: part.entry.attributes,
          visibleFromMs: sentAtMs + part.item.delaySeconds * 1000,
        });
    }
    return copies;
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

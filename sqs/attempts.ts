import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

/**
 * The message attribute a re-queued copy carries: how often its message was re-queued, how many
 * of its deliveries failed before, and the id of the original message. A string
 * `<requeues>.<failures>.<origin>`; copies written by earlier releases carry a plain number of
 * re-queues (DataType Number), still read.
 *
 * @example
 * record.messageAttributes[attemptAttribute]?.stringValue; // '2.1.5f1c…' after two re-queues and one failure
 */
export const attemptAttribute = 'dlm-throttle-attempt';

/** SQS refuses a message with more message attributes than this. */
export const maxMessageAttributes = 10;

/**
 * Where a message stands across its re-queued copies: SQS counts receives per copy only, the
 * throttle counts for the whole line of copies.
 *
 * @example
 * const { requeues, failures, origin } = lineageOf(record);
 */
export interface Lineage {
  /** Times the message was re-queued (throttled, or left unstarted at the deadline). */
  requeues: number;
  /** Deliveries of the message that ended without success, this copy's earlier receives included. */
  failures: number;
  /** The message id of the first message of the line: with `requeues`, the copy's identity. */
  origin: string;
  /** Whether this record is a re-queued copy (it carries the attribute). */
  isCopy: boolean;
}

/**
 * The record's line of copies. A copy's earlier receives of itself (ApproximateReceiveCount - 1)
 * count as failures: a receive that succeeded, or was re-queued, deleted the copy.
 *
 * @example
 * lineageOf(record).failures; // 2 when the handler failed twice for this message
 */
export function lineageOf(record: SQSRecord): Lineage {
  const ownFailures = receiveCountOf(record) - 1;
  const value = record.messageAttributes?.[attemptAttribute]?.stringValue;
  if (value === undefined)
    return { requeues: 0, failures: ownFailures, origin: record.messageId, isCopy: false };
  const match = /^(\d+)\.(\d+)\.(.+)$/.exec(value);
  if (match) {
    return {
      requeues: Number(match[1]),
      failures: Number(match[2]) + ownFailures,
      origin: match[3] as string,
      isCopy: true,
    };
  }
  // A copy of an earlier release: no identity to check, no failures carried.
  const requeues = Number(value);
  return {
    requeues: Number.isInteger(requeues) && requeues > 0 ? requeues : 0,
    failures: ownFailures,
    origin: record.messageId,
    isCopy: false,
  };
}

/**
 * How many times this message was throttled before: the re-queues of its line on a standard
 * queue (each re-queue is a new message), the receive count on a FIFO queue (throttling there
 * changes the visibility of the same message). 0 for a message never throttled.
 *
 * @example
 * const handler = limitConcurrency(async (record) => {
 *   if (throttleAttempts(record) > 10) console.log('waited long for its slot', record.messageId);
 * }, { key: () => 'partner-api', concurrency: 2 });
 */
export function throttleAttempts(record: SQSRecord): number {
  if (isFifo(record)) return receiveCountOf(record) - 1;
  return lineageOf(record).requeues;
}

/**
 * The record's receive count (1 for its first delivery).
 *
 * @example
 * receiveCountOf(record); // 3 on its third delivery
 */
export function receiveCountOf(record: SQSRecord): number {
  return Math.max(1, Number(record.attributes?.ApproximateReceiveCount ?? 1) || 1);
}

/**
 * Whether the record comes from a FIFO queue (whose name ends in `.fifo`).
 *
 * @example
 * isFifo(record); // true for arn:aws:sqs:us-east-1:123456789012:orders.fifo
 */
export function isFifo(record: SQSRecord): boolean {
  return typeof record.eventSourceARN === 'string' && record.eventSourceARN.endsWith('.fifo');
}

/**
 * The record's message attributes as SendMessage takes them, with the line's attribute set for
 * the next copy; undefined when the message has 10 attributes of its own (no room for ours).
 *
 * @example
 * const attributes = copyAttributes(record, { requeues: 1, failures: 0, origin: record.messageId, isCopy: false });
 */
export function copyAttributes(
  record: SQSRecord,
  next: Pick<Lineage, 'requeues' | 'failures' | 'origin'>,
): Record<string, MessageAttributeValue> | undefined {
  const attributes = sendableAttributes(record);
  if (Object.keys(attributes).length >= maxMessageAttributes) return undefined;
  attributes[attemptAttribute] = {
    DataType: 'String',
    StringValue: `${next.requeues}.${next.failures}.${next.origin}`,
  };
  return attributes;
}

/**
 * The record's own message attributes (ours left out) as SendMessage takes them.
 *
 * @example
 * const attributes = sendableAttributes(record);
 */
export function sendableAttributes(record: SQSRecord): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    if (name === attemptAttribute) continue;
    attributes[name] = {
      DataType: value.dataType,
      ...(value.stringValue !== undefined && { StringValue: value.stringValue }),
      ...(value.binaryValue !== undefined && { BinaryValue: Buffer.from(value.binaryValue, 'base64') }),
    };
  }
  return attributes;
}

/**
 * The size SQS counts for a message: body, and each attribute's name, type and value, in bytes.
 *
 * @example
 * messageBytes('hello', {}); // 5
 */
export function messageBytes(body: string, attributes: Record<string, MessageAttributeValue>): number {
  let bytes = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8');
    if (value.StringValue !== undefined) bytes += Buffer.byteLength(value.StringValue, 'utf8');
    if (value.BinaryValue !== undefined) bytes += value.BinaryValue.byteLength;
  }
  return bytes;
}

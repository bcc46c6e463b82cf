import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

/**
 * The message attribute that counts how often a standard-queue message was throttled and re-queued.
 *
 * @example
 * record.messageAttributes[attemptAttribute]?.stringValue; // '2' after two re-queues
 */
export const attemptAttribute = 'dlm-throttle-attempt';

/** SQS refuses a message with more message attributes than this. */
const maxMessageAttributes = 10;

/**
 * How many times this message was throttled before: the `dlm-throttle-attempt` attribute on a
 * standard queue (each re-queue is a new message), the receive count on a FIFO queue (throttling
 * there changes the visibility of the same message). 0 for a message never throttled.
 *
 * @example
 * const handler = limitConcurrency(async (record) => {
 *   if (throttleAttempts(record) > 10) console.log('waited long for its slot', record.messageId);
 * }, { key: () => 'partner-api', concurrency: 2 });
 */
export function throttleAttempts(record: SQSRecord): number {
  if (isFifo(record)) return Math.max(0, Number(record.attributes.ApproximateReceiveCount ?? 1) - 1);
  const value = Number(record.messageAttributes?.[attemptAttribute]?.stringValue ?? 0);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

/**
 * Whether the record comes from a FIFO queue (whose name ends in `.fifo`).
 *
 * @example
 * isFifo(record); // true for arn:aws:sqs:us-east-1:123456789012:orders.fifo
 */
export function isFifo(record: SQSRecord): boolean {
  return record.eventSourceARN.endsWith('.fifo');
}

/**
 * The record's message attributes as SendMessage takes them, with the attempt counter set to
 * `attempt`. A message that already has 10 other attributes keeps them all and gets no counter
 * (`counted` false): its back-off then starts again from the first step each time.
 *
 * @example
 * const { attributes } = requeueAttributes(record, 1);
 */
export function requeueAttributes(
  record: SQSRecord,
  attempt: number,
): { attributes: Record<string, MessageAttributeValue>; counted: boolean } {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    if (name === attemptAttribute) continue;
    attributes[name] = {
      DataType: value.dataType,
      ...(value.stringValue !== undefined && { StringValue: value.stringValue }),
      ...(value.binaryValue !== undefined && { BinaryValue: Buffer.from(value.binaryValue, 'base64') }),
    };
  }
  if (Object.keys(attributes).length >= maxMessageAttributes) return { attributes, counted: false };
  attributes[attemptAttribute] = { DataType: 'Number', StringValue: String(attempt) };
  return { attributes, counted: true };
}

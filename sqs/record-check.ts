import type { SQSRecord } from 'aws-lambda';
import { InvalidLockOptionError } from '../core/errors.js';

/**
 * Checks that a record has what the throttle reads (its queue's ARN, id, receipt handle, body
 * and attributes; on FIFO its message group), so that a malformed one fails alone with an error
 * naming the field rather than a TypeError that fails the whole batch.
 *
 * @example
 * checkRecord(record); // InvalidLockOptionError: Expected `record.eventSourceARN` to be …
 */
export function checkRecord(record: SQSRecord): void {
  if (record === null || typeof record !== 'object') {
    throw new InvalidLockOptionError('record', 'an SQS record', record);
  }
  if (typeof record.eventSourceARN !== 'string' || !record.eventSourceARN.startsWith('arn:')) {
    throw new InvalidLockOptionError(
      'record.eventSourceARN',
      'the ARN of the SQS queue',
      record.eventSourceARN,
    );
  }
  for (const field of ['messageId', 'receiptHandle', 'body'] as const) {
    if (typeof record[field] !== 'string') {
      throw new InvalidLockOptionError(`record.${field}`, 'a string', record[field]);
    }
  }
  if (record.attributes === null || typeof record.attributes !== 'object') {
    throw new InvalidLockOptionError('record.attributes', 'the message system attributes', record.attributes);
  }
  if (record.eventSourceARN.endsWith('.fifo') && typeof record.attributes.MessageGroupId !== 'string') {
    throw new InvalidLockOptionError(
      'record.attributes.MessageGroupId',
      'the message group of a FIFO record',
      record.attributes.MessageGroupId,
    );
  }
}

import type { Message } from '@aws-sdk/client-sqs';
import type { SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';

/**
 * Turns a received SQS message into the record Lambda puts in an `SQSEvent`: lower-case keys,
 * message attributes as `{ stringValue | binaryValue (base64), stringListValues, binaryListValues,
 * dataType }`, and the queue's ARN and region.
 *
 * @example
 * const event = { Records: messages.map((m) => toSqsRecord(m, 'arn:aws:sqs:us-east-1:123456789012:q')) };
 */
export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const record: SQSRecord = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: { ...message.Attributes } as SQSRecordAttributes,
    messageAttributes: toLambdaAttributes(message),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? '',
  };
  if (message.MD5OfMessageAttributes) record.md5OfMessageAttributes = message.MD5OfMessageAttributes;
  return record;
}

function toLambdaAttributes(message: Message): SQSMessageAttributes {
  const attributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    attributes[name] = {
      ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
      ...(value.BinaryValue !== undefined && {
        binaryValue: Buffer.from(value.BinaryValue).toString('base64'),
      }),
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType ?? 'String',
    };
  }
  return attributes;
}

/**
 * How a batch ended, from the mapping's point of view.
 *
 * @example
 * const { failed } = batchOutcome(records, response, true);
 * const toDelete = records.filter((record) => !failed.has(record.messageId));
 */
export interface BatchOutcome {
  /** Message ids to leave on the queue (they come back after the visibility timeout). */
  failed: Set<string>;
  /** Why the whole batch counts as failed, when it does. */
  wholeBatchReason?: string;
}

/**
 * Reads a function's answer to an SQS batch as Lambda does with `ReportBatchItemFailures`:
 * no answer, no `batchItemFailures` or an empty list means all succeeded; listed ids failed; a
 * malformed list, or an empty or unknown `itemIdentifier`, fails the whole batch. Without
 * `ReportBatchItemFailures` the answer is ignored.
 *
 * @example
 * batchOutcome(records, { batchItemFailures: [{ itemIdentifier: records[0].messageId }] }, true).failed;
 */
export function batchOutcome(
  records: SQSRecord[],
  response: unknown,
  reportBatchItemFailures: boolean,
): BatchOutcome {
  if (!reportBatchItemFailures || response === null || typeof response !== 'object')
    return { failed: new Set() };
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return { failed: new Set() };
  const all = () => new Set(records.map((record) => record.messageId));
  if (!Array.isArray(list)) return { failed: all(), wholeBatchReason: 'batchItemFailures is not a list' };
  const ids = new Set(records.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !ids.has(id)) {
      return {
        failed: all(),
        wholeBatchReason: `itemIdentifier ${JSON.stringify(id ?? null)} is not in the batch`,
      };
    }
    failed.add(id);
  }
  return { failed };
}

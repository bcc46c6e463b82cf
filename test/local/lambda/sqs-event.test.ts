import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { batchOutcome, toSqsRecord } from '../../../local/lambda/index.js';

const records = ['m1', 'm2', 'm3'].map((id) =>
  toSqsRecord(
    { MessageId: id, ReceiptHandle: `${id}-h`, Body: id, MD5OfBody: 'x' },
    'arn:aws:sqs:eu-west-1:1:q',
  ),
);
const failed = (response: unknown, report = true) =>
  [...batchOutcome(records, response, report).failed].sort();

describe('toSqsRecord', () => {
  it('takes the region from the queue ARN and gives empty attribute maps', () => {
    expect(records[0]).toEqual<SQSRecord>({
      messageId: 'm1',
      receiptHandle: 'm1-h',
      body: 'm1',
      attributes: {} as SQSRecord['attributes'],
      messageAttributes: {},
      md5OfBody: 'x',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:1:q',
      awsRegion: 'eu-west-1',
    });
  });
});

describe('batchOutcome', () => {
  it('counts no answer, no list, a null or empty list as complete success', () => {
    for (const response of [
      undefined,
      null,
      {},
      { batchItemFailures: null },
      { batchItemFailures: [] },
      'ok',
    ]) {
      expect(failed(response)).toEqual([]);
    }
  });

  it('fails the listed messages only', () => {
    expect(failed({ batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }] })).toEqual([
      'm2',
      'm3',
    ]);
  });

  it('fails the whole batch for an unknown, empty or missing itemIdentifier, or a list that is not one', () => {
    for (const response of [
      { batchItemFailures: [{ itemIdentifier: 'other' }] },
      { batchItemFailures: [{ itemIdentifier: '' }] },
      { batchItemFailures: [{ itemIdentifier: null }] },
      { batchItemFailures: [{ id: 'm1' }] },
      { batchItemFailures: [null] },
      { batchItemFailures: 'm1' },
    ]) {
      const outcome = batchOutcome(records, response, true);
      expect([...outcome.failed].sort()).toEqual(['m1', 'm2', 'm3']);
      expect(outcome.wholeBatchReason).toBeTruthy();
    }
  });

  it('ignores the answer without ReportBatchItemFailures', () => {
    expect(failed({ batchItemFailures: [{ itemIdentifier: 'm2' }] }, false)).toEqual([]);
  });
});

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidLockOptionError } from '../../core/errors.js';
import { type ConcurrencyLimitOptions, limitConcurrency, limitRecordConcurrency } from '../../sqs/index.js';
import { freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { lambdaContext, offlineRecord } from './throttle-kit.js';

let tableName: string;

beforeAll(async () => {
  tableName = await freshLockTable('sqs_bad_records');
});

const options = (): ConcurrencyLimitOptions => ({
  key: (record) => record.body,
  concurrency: 1,
  tableName,
  logger: recordingLogger(),
  throwOnFullBatchFailure: false,
});

/** A good record, and three the throttle cannot read: each must fail alone, with its field named. */
function batch(): { good: SQSRecord; bad: Array<[SQSRecord, string]> } {
  const good = offlineRecord('good', uniqueResource('good'));
  const noArn = {
    ...offlineRecord('no-arn', uniqueResource('k')),
    eventSourceARN: undefined,
  } as unknown as SQSRecord;
  const fifoNoAttributes = {
    ...offlineRecord('fifo-bare', uniqueResource('k'), 'g'),
    attributes: undefined,
  } as unknown as SQSRecord;
  const loneSurrogate = offlineRecord('surrogate', 'tenant-\ud800');
  return {
    good,
    bad: [
      [noArn, 'record.eventSourceARN'],
      [fifoNoAttributes, 'record.attributes'],
      [loneSurrogate, 'key(record)'],
    ],
  };
}

describe('malformed records', () => {
  it('limitConcurrency fails each one alone, naming the field, and runs the rest', async () => {
    const { good, bad } = batch();
    const errors: unknown[] = [];
    const ran: string[] = [];
    const handler = limitConcurrency(async (record) => {
      ran.push(record.messageId);
    }, options());
    const response = await handler({ Records: [good, ...bad.map(([record]) => record)] }, lambdaContext());
    expect(response.batchItemFailures.map((item) => item.itemIdentifier).sort()).toEqual([
      'fifo-bare',
      'no-arn',
      'surrogate',
    ]);
    expect(ran).toEqual(['good']);
    for (const [record, field] of bad) {
      try {
        await limitRecordConcurrency(async () => {}, options())(record, lambdaContext());
        errors.push('accepted');
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidLockOptionError);
        expect((error as InvalidLockOptionError).message).toContain(`\`${field}`);
      }
    }
    expect(errors).toEqual([]);
  });

  it('inside Powertools, the malformed record fails and the good one runs', async () => {
    const { good, bad } = batch();
    const ran: string[] = [];
    const recordHandler = limitRecordConcurrency(async (record) => {
      ran.push(record.messageId);
    }, options());
    const response = await processPartialResponse(
      { Records: [good, bad[2]?.[0] as SQSRecord] },
      recordHandler,
      new BatchProcessor(EventType.SQS),
      { context: lambdaContext() },
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'surrogate' }]);
    expect(ran).toEqual(['good']);
  });
});

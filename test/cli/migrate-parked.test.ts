import type { SQSRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveOptions } from '../../sqs/options.js';
import { park, parkedRecords } from '../../sqs/parking.js';
import { offlineRecord } from '../sqs/throttle-kit.js';
import { dynamoDbClient, freshWaitingTables, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { runDlm } from './run-dlm.js';

// The SQS throttle parks throttled records in the lock table at negative sort keys far below
// -1,000,000, where the release before the request table kept waiting requests. The migration
// must move those requests and leave the parked records (live data of another feature) alone.

let tableName: string;

beforeAll(async () => {
  ({ tableName } = await freshWaitingTables('migrate_parked'));
});

describe('dlm migrate-requests next to the SQS throttle', () => {
  it('leaves parked records in place and does not count them as dropped', async () => {
    const key = uniqueResource('parked-key');
    const { store } = resolveOptions({
      key: () => key,
      concurrency: 1,
      tableName,
      dynamoDbClient: dynamoDbClient(),
      logger: recordingLogger(),
    });
    const record: SQSRecord = offlineRecord('copy-1', 'a body');
    await park(store, key, record, 'origin-1', 1, Date.now() + 120_000);
    const migrated = await runDlm('migrate-requests', '--table', tableName, '--json');
    expect(migrated.code).toBe(0);
    expect(JSON.parse(migrated.stdout)).toMatchObject({ moved: 0, dropped: 0 });
    const left = await parkedRecords(store, key, 10);
    expect(left.map((parked) => parked.record.messageId)).toEqual(['copy-1']);
  });
});

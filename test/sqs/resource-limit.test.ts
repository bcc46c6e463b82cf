import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ResourceLimitMismatchError,
  readResourceLimit,
  setResourceLimit,
} from '../../core/resource-limit.js';
import type { LockStore } from '../../core/store.js';
import { limitCacheMs, VerifiedLimits } from '../../core/throttle/verified-limits.js';
import { type ConcurrencyLimitOptions, limitConcurrency, limitRecordConcurrency } from '../../sqs/index.js';
import { countingClient } from '../support/command-counter.js';
import { freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { lambdaContext, offlineRecord } from './throttle-kit.js';

let tableName: string;

beforeAll(async () => {
  tableName = await freshLockTable('sqs_limits');
});

/** A store with its own counted client and a clock the test moves. */
function testStore() {
  const dynamo = countingClient();
  const clock = { nowMs: Date.now() };
  const logger = recordingLogger();
  const store: LockStore = { client: dynamo.client, tableName, clock: () => clock.nowMs, logger };
  return { store, clock, logger, reads: () => dynamo.counts.get('GetItem') ?? 0 };
}

const options = (concurrency: number, logger = recordingLogger()): ConcurrencyLimitOptions => ({
  key: (record) => record.body,
  concurrency,
  tableName,
  logger,
  throwOnFullBatchFailure: false,
});

describe('the resource limit, as the SQS throttle checks it', () => {
  it('records the first limit, reads it once for any number of takes, and refuses another concurrency', async () => {
    const resourceId = uniqueResource('api');
    const { store, logger, reads } = testStore();
    const limits = new VerifiedLimits();
    await Promise.all(Array.from({ length: 20 }, () => limits.verify(store, resourceId, 2)));
    expect(await readResourceLimit(testStore().store, resourceId)).toBe(2);
    const refused = await Promise.allSettled(
      Array.from({ length: 20 }, () => limits.verify(store, resourceId, 5)),
    );
    expect(refused.every((result) => result.status === 'rejected')).toBe(true);
    const [first] = refused as PromiseRejectedResult[];
    expect(first?.reason).toBeInstanceOf(ResourceLimitMismatchError);
    expect(first?.reason).toMatchObject({ resourceId, asked: 5, limit: 2 });
    expect(reads()).toBe(1);
    // One line for the twenty refusals.
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toContain(`dlm limit ${resourceId} 5`);
  });

  it(`sees a change made with dlm limit after ${limitCacheMs / 1000} s, not before`, async () => {
    const resourceId = uniqueResource('api');
    const { store, clock, reads } = testStore();
    const limits = new VerifiedLimits();
    await limits.verify(store, resourceId, 1);
    expect(await setResourceLimit(store, resourceId, 3, 'test')).toBe(1);
    clock.nowMs += limitCacheMs - 1;
    await limits.verify(store, resourceId, 1); // still the limit this process read
    await expect(limits.verify(store, resourceId, 3)).rejects.toBeInstanceOf(ResourceLimitMismatchError);
    clock.nowMs += 1;
    await limits.verify(store, resourceId, 3);
    await expect(limits.verify(store, resourceId, 1)).rejects.toBeInstanceOf(ResourceLimitMismatchError);
    expect(reads()).toBe(2);
  });

  it('forgets the least recently used resource past its bound', async () => {
    const { store } = testStore();
    const limits = new VerifiedLimits({ maxLimits: 3 });
    for (let index = 0; index < 5; index++) await limits.verify(store, uniqueResource('many'), 1);
    expect(limits.size).toBe(3);
  });

  it('fails every record of a refused key, runs none, and runs the other keys', async () => {
    const refusedKey = uniqueResource('refused');
    const freeKey = uniqueResource('free');
    await setResourceLimit(testStore().store, refusedKey, 1, 'test');
    const done: string[] = [];
    const handler = limitConcurrency(async (record) => {
      done.push(record.messageId);
    }, options(2));
    const records = [
      offlineRecord('a1', refusedKey),
      offlineRecord('b1', freeKey),
      offlineRecord('a2', refusedKey),
    ];
    const response = await handler({ Records: records }, lambdaContext());
    expect(response.batchItemFailures.map((item) => item.itemIdentifier).sort()).toEqual(['a1', 'a2']);
    expect(done).toEqual(['b1']);
  });

  it('on FIFO, fails the refused record and skips the rest of its group', async () => {
    const refusedKey = uniqueResource('refused');
    const freeKey = uniqueResource('free');
    await setResourceLimit(testStore().store, refusedKey, 1, 'test');
    const done: string[] = [];
    const handler = limitConcurrency(async (record) => {
      done.push(record.messageId);
    }, options(2));
    const records = [
      offlineRecord('g1', freeKey, 'g'),
      offlineRecord('g2', refusedKey, 'g'),
      offlineRecord('g3', freeKey, 'g'),
      offlineRecord('h1', freeKey, 'h'),
    ];
    const response = await handler({ Records: records }, lambdaContext());
    expect(response.batchItemFailures.map((item) => item.itemIdentifier)).toEqual(['g2', 'g3']);
    expect(done.sort()).toEqual(['g1', 'h1']);
  });

  it('inside Powertools, fails the refused record', async () => {
    const resourceId = uniqueResource('refused');
    await setResourceLimit(testStore().store, resourceId, 3, 'test');
    let ran = false;
    const recordHandler = limitRecordConcurrency(async () => {
      ran = true;
    }, options(1));
    const response = await processPartialResponse(
      { Records: [offlineRecord('p1', resourceId), offlineRecord('p2', uniqueResource('free'))] },
      recordHandler,
      new BatchProcessor(EventType.SQS),
      { context: lambdaContext() },
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'p1' }]);
    expect(ran).toBe(true); // the other record
  });
});

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbLock, LockStoreError } from '../../core/index.js';
import { freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';

let tableName: string;

beforeAll(async () => {
  tableName = await freshLockTable('faults');
});

type Fault = 'throttle' | 'lose-answer' | 'deny';

/**
 * A real client with a fault injected at the SDK boundary for the next matching commands:
 * throttling before the request, an answer lost after the write landed, or access denied.
 */
function faultyClient(command: string, faults: Fault[]): DynamoDBClient {
  const client = new DynamoDBClient({
    endpoint: inject('dynamodbEndpoint'),
    region: 'us-east-1',
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== `${command}Command` || faults.length === 0) return next(args);
      const fault = faults.shift();
      if (fault === 'throttle')
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      if (fault === 'deny')
        throw Object.assign(new Error('not allowed'), {
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 400 },
        });
      await next(args);
      throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
    },
    { step: 'initialize', name: 'injectFault', priority: 'high' },
  );
  return client;
}

describe('store faults', () => {
  it('backs off throttling with a warning and still grants', async () => {
    const logger = recordingLogger();
    const lock = new DynamoDbLock(uniqueResource('throttle'), {
      tableName,
      logger,
      client: faultyClient('PutItem', ['throttle', 'throttle']),
    });
    await lock.acquire();
    expect(logger.lines.filter((line) => line.includes('throttled'))).toHaveLength(2);
    expect(await lock.count()).toBe(1);
    await lock.release();
  });

  it('recognises its own acquire when the answer was lost: one slot held, not two', async () => {
    const resource = uniqueResource('lost-acquire');
    const lock = new DynamoDbLock(resource, {
      tableName,
      concurrency: 3,
      logger: recordingLogger(),
      client: faultyClient('PutItem', ['lose-answer']),
    });
    const lease = await lock.acquire();
    const holders = await lock.holders();
    expect(holders.map((holder) => holder.concurrencyId)).toEqual([lease.concurrencyId]);
    expect(await lock.release()).toBe(true);
  });

  it('recognises its own release when the answer was lost: answers true, slot free', async () => {
    const resource = uniqueResource('lost-release');
    const faults: Fault[] = [];
    const lock = new DynamoDbLock(resource, {
      tableName,
      logger: recordingLogger(),
      client: faultyClient('PutItem', faults),
    });
    await lock.acquire();
    faults.push('lose-answer');
    expect(await lock.release()).toBe(true);
    expect(await lock.count()).toBe(0);
  });

  it('wraps a fault retries cannot cure in LockStoreError with the cause, and keeps the lease to retry', async () => {
    const faults: Fault[] = [];
    const lock = new DynamoDbLock(uniqueResource('denied'), {
      tableName,
      logger: recordingLogger(),
      client: faultyClient('PutItem', faults),
    });
    await lock.acquire();
    faults.push('deny');
    const error = await lock.release().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockStoreError);
    expect((error as LockStoreError).cause).toMatchObject({ name: 'AccessDeniedException' });
    expect(lock.lease).toBeDefined();
    expect(await lock.release()).toBe(true);
  });
});

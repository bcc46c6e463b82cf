import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLock, type LockStore, newReleaseCode, releaseLease, takeSlot } from '../../core/index.js';
import { countingClient } from '../support/command-counter.js';
import { dynamoDbClient, freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';

let tableName: string;
const lockOn = (resourceId: string, options: ConstructorParameters<typeof DynamoDbLock>[1] = {}) =>
  new DynamoDbLock(resourceId, {
    tableName,
    client: dynamoDbClient(),
    logger: recordingLogger(),
    ...options,
  });

beforeAll(async () => {
  tableName = await freshLockTable('format');
});

/** What Python dynamo-dlm v2 does on acquire: put_item with its own condition, whole seconds. */
async function pythonAcquire(
  resourceId: string,
  releaseCode: string,
  durationSeconds: number,
  nowMs = Date.now(),
) {
  const now = Math.floor(nowMs / 1000);
  await dynamoDbClient().send(
    new PutItemCommand({
      TableName: tableName,
      Item: {
        resource_id: { S: resourceId },
        concurrency_id: { N: '0' },
        release_code: { S: releaseCode },
        expires: { N: String(now + durationSeconds) },
      },
      ConditionExpression: 'attribute_not_exists(resource_id) OR expires <= :now',
      ExpressionAttributeValues: { ':now': { N: String(now) } },
    }),
  );
}

/** What Python dynamo-dlm v2 does on count: every item of the resource with expires >= now. */
async function pythonCount(resourceId: string): Promise<number> {
  const output = await dynamoDbClient().send(
    new QueryCommand({
      TableName: tableName,
      Select: 'COUNT',
      KeyConditionExpression: 'resource_id = :id',
      FilterExpression: 'expires >= :now',
      ExpressionAttributeValues: {
        ':id': { S: resourceId },
        ':now': { N: String(Math.floor(Date.now() / 1000)) },
      },
    }),
  );
  return output.Count ?? 0;
}

async function storedItem(resourceId: string) {
  const output = await dynamoDbClient().send(
    new GetItemCommand({
      TableName: tableName,
      Key: { resource_id: { S: resourceId }, concurrency_id: { N: '0' } },
      ConsistentRead: true,
    }),
  );
  return output.Item;
}

describe('table format shared with Python dynamo-dlm v2', () => {
  it('writes release_code, expires rounded up, expires_ms, owner and fencing_token', async () => {
    const resource = uniqueResource('layout');
    const lock = lockOn(resource, { duration: 2.5, owner: 'host:1' });
    const lease = await lock.acquire();
    const item = await storedItem(resource);
    expect(item?.release_code?.S).toBe(lease.releaseCode);
    // The holder is told an end the clock bound earlier than the one stored for the others.
    expect(Number(item?.expires_ms?.N)).toBe(lease.expiresAtMs + lock.maxClockSkewMs);
    expect(lock.maxClockSkewMs).toBe(100);
    expect(Number(item?.expires?.N)).toBe(Math.floor((lease.expiresAtMs + lock.maxClockSkewMs) / 1000) + 1);
    expect(item?.owner?.S).toBe('host:1');
    expect(Number(item?.fencing_token?.N)).toBe(lease.fencingToken);
  });

  it('respects a lease written by Python, and takes it over by the Python rule (expires <= now)', async () => {
    const resource = uniqueResource('python-held');
    await pythonAcquire(resource, 'python-code', 3);
    const expires = Number((await storedItem(resource))?.expires?.N);
    let now = Date.now();
    const lock = lockOn(resource, { clock: () => now });
    expect(await lock.tryAcquire()).toBe(false);
    expect(await lock.count()).toBe(1);
    now = expires * 1000 - 1; // the last millisecond of second expires - 1: Python still holds it
    expect(await lock.count()).toBe(1);
    expect(await lock.tryAcquire()).toBe(false);
    now = expires * 1000; // second `expires` has begun: free for Python, so free for us
    expect(await lock.count()).toBe(0);
    expect(await lock.tryAcquire()).toBe(true);
    expect((await storedItem(resource))?.release_code?.S).toBe(lock.lease?.releaseCode);
  });

  it('is honoured by Python to its last millisecond, also when the lease ends on a whole second', async () => {
    const resource = uniqueResource('whole-second');
    const startMs = Math.floor(Date.now() / 1000) * 1000 + 1_000;
    const lock = lockOn(resource, { duration: 10, clock: () => startMs });
    await lock.acquire();
    const endMs = startMs + 10_000;
    expect((lock.lease?.expiresAtMs ?? 0) + lock.maxClockSkewMs).toBe(endMs);
    // The lease holds through its last millisecond, which starts the second endMs / 1000.
    await expect(pythonAcquire(resource, 'python-code', 3, endMs)).rejects.toBeInstanceOf(
      ConditionalCheckFailedException,
    );
    // One millisecond later the lease is over; Python, in whole seconds, may take it in the next.
    await pythonAcquire(resource, 'python-code', 3, endMs + 1_000);
  });

  it('is honoured by Python: its acquire is refused while we hold, accepted and uncounted after release', async () => {
    const resource = uniqueResource('python-sees');
    const lock = lockOn(resource);
    await lock.acquire();
    expect(await pythonCount(resource)).toBe(1);
    await expect(pythonAcquire(resource, 'python-code', 10)).rejects.toBeInstanceOf(
      ConditionalCheckFailedException,
    );
    await lock.release();
    expect(await pythonCount(resource)).toBe(0);
    await pythonAcquire(resource, 'python-code', 10);
    expect(await lock.count()).toBe(1);
  });
});

describe('fencing token', () => {
  it('grows for each successive holder of a mutex, across release, TTL deletion and a Python holder', async () => {
    const resource = uniqueResource('fencing');
    const tokens: number[] = [];
    const lock = lockOn(resource);
    for (let round = 0; round < 3; round++) {
      tokens.push((await lock.acquire()).fencingToken);
      await lock.release();
    }
    // TTL deletes the item once its lease ended: the counter must not start over.
    await dynamoDbClient().send(
      new DeleteItemCommand({
        TableName: tableName,
        Key: { resource_id: { S: resource }, concurrency_id: { N: '0' } },
      }),
    );
    tokens.push((await lock.acquire()).fencingToken);
    await lock.release();
    // Python replaces the whole item (no fencing_token); its holder ends, then ours follows.
    await pythonAcquire(resource, 'python-code', 1);
    tokens.push((await lock.acquire({ timeoutMs: 5_000 })).fencingToken);
    await lock.release();
    for (let index = 1; index < tokens.length; index++) {
      expect(tokens[index]).toBeGreaterThan(tokens[index - 1] as number);
    }
    expect(Number.isSafeInteger(tokens.at(-1))).toBe(true);
  });

  it('stays above a stored token that is ahead of the taker: a fast clock wrote it, or the same millisecond', async () => {
    const resource = uniqueResource('fencing-ahead');
    // Another process whose clock is an hour ahead (the core operations: no hint reaches this one).
    const hourAhead: LockStore = {
      client: dynamoDbClient(),
      tableName,
      clock: () => Date.now() + 3_600_000,
      logger: recordingLogger(),
    };
    const taken = await takeSlot(hourAhead, {
      resourceId: resource,
      concurrencyId: 0,
      releaseCode: newReleaseCode(),
      durationMs: 10_000,
    });
    if (!taken.granted) throw new Error('the slot should be free');
    const ahead = taken.lease;
    await releaseLease(hourAhead, ahead);
    const counter = countingClient();
    const lock = lockOn(resource, { client: counter.client });
    // The first put offers now_ms x 1000, which is refused; the refusal returns the stored token.
    const behind = await lock.acquire();
    expect(behind.fencingToken).toBe(ahead.fencingToken + 1);
    expect(counter.writes()).toBe(2);
    await lock.release();
    // The same object remembers its token there: one write, one more, even within a millisecond.
    const before = counter.writes();
    const again = await lock.acquire();
    expect(again.fencingToken).toBe(behind.fencingToken + 1);
    expect(counter.writes() - before).toBe(1);
    await lock.release();
    expect((await storedItem(resource))?.fencing_token?.N).toBe(String(again.fencingToken));
  });

  it('never moves back for a repeated take of the same request, or for a release with an older token', async () => {
    const resourceId = uniqueResource('fencing-repeat');
    const storeAt = (offsetMs: number): LockStore => ({
      client: dynamoDbClient(),
      tableName,
      clock: () => Date.now() + offsetMs,
      logger: recordingLogger(),
    });
    const request = { resourceId, concurrencyId: 0, releaseCode: newReleaseCode(), durationMs: 60_000 };
    const first = await takeSlot(storeAt(3_600_000), request);
    // The same request again (a retried workflow step), from a clock an hour behind the first.
    const repeated = await takeSlot(storeAt(0), request);
    if (!first.granted || !repeated.granted) throw new Error('both takes of one request must be granted');
    expect(repeated).toMatchObject({ fresh: false, writes: 2 });
    expect(repeated.lease.fencingToken).toBe(first.lease.fencingToken + 1);
    // Releasing with the first grant's lease frees the slot but keeps the newer token.
    expect(await releaseLease(storeAt(0), first.lease)).toBe(true);
    const item = await storedItem(resourceId);
    expect(item?.expires_ms?.N).toBe('0');
    expect(item?.fencing_token?.N).toBe(String(repeated.lease.fencingToken));
  });
});

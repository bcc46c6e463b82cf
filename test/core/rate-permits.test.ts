import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbLock, type DynamoDbLockOptions, LockTimeoutError, withLock } from '../../core/index.js';
import type { Lease } from '../../core/lease.js';
import { FakeClock } from '../safety/support/fake-clock.js';
import { countingClient } from '../support/command-counter.js';
import { dynamoDbClient, freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';

let tableName: string;
const quiet = recordingLogger();
const lockOn = (resourceId: string, options: DynamoDbLockOptions = {}) =>
  new DynamoDbLock(resourceId, { tableName, client: dynamoDbClient(), logger: quiet, ...options });

/** The moment of the grant: the stored lease end less its length (the holder is told it earlier). */
const grantedAtMs = (lock: DynamoDbLock, lease: Lease) =>
  lease.expiresAtMs + lock.maxClockSkewMs - Math.round(lock.duration * 1000);

beforeAll(async () => {
  tableName = await freshLockTable('rate');
});

describe('permits', () => {
  it('takes n slots at once, all or none, and frees all n on release', async () => {
    const resourceId = uniqueResource('permits');
    const three = lockOn(resourceId, { concurrency: 5, permits: 3 });
    const lease = await three.acquire();
    expect(lease.slots?.map((slot) => slot.concurrencyId).sort()).toHaveLength(3);
    expect(new Set(lease.slots?.map((slot) => slot.concurrencyId)).size).toBe(3);
    expect(await three.count()).toBe(3);
    // Two slots left: another three are refused whole, leaving nothing behind.
    const otherThree = lockOn(resourceId, { concurrency: 5, permits: 3 });
    expect(await otherThree.tryAcquire()).toBe(false);
    expect(await three.count()).toBe(3);
    const two = lockOn(resourceId, { concurrency: 5, permits: 2 });
    expect(await two.tryAcquire()).toBe(true);
    expect(await three.count()).toBe(5);
    expect(await three.release()).toBe(true);
    expect(await three.count()).toBe(2);
    expect(await otherThree.tryAcquire()).toBe(true);
    await otherThree.release();
    await two.release();
    expect(await three.count()).toBe(0);
  });

  it('extends every slot of the lease', async () => {
    const resourceId = uniqueResource('permits-extend');
    const lock = lockOn(resourceId, { concurrency: 4, permits: 2, duration: 2 });
    await lock.acquire();
    const extended = await lock.extend(60);
    const holders = await lock.holders();
    expect(holders).toHaveLength(2);
    for (const holder of holders) expect(holder.expiresAtMs).toBeGreaterThanOrEqual(extended.expiresAtMs);
    await lock.release();
  });

  it('waits for n slots to be free together', async () => {
    const resourceId = uniqueResource('permits-wait');
    const one = lockOn(resourceId, { concurrency: 3 });
    await one.acquire();
    const three = lockOn(resourceId, { concurrency: 3, permits: 3 });
    const waiting = three.acquire({ timeoutMs: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await one.count()).toBe(1);
    await one.release();
    const lease = await waiting;
    expect(lease.slots).toHaveLength(3);
    await three.release();
  });
});

describe('rate', () => {
  it('lets burst start at once, then one per interval, on the clock of the taker', async () => {
    const clock = new FakeClock(Date.now());
    const resourceId = uniqueResource('rate-burst');
    const rate = { limit: 5, periodSeconds: 1, burst: 2 };
    const locks = Array.from({ length: 4 }, () =>
      lockOn(resourceId, { concurrency: 10, rate, clock: clock.now }),
    );
    const [first, second, third] = locks as [DynamoDbLock, DynamoDbLock, DynamoDbLock];
    const startMs = clock.now();
    expect(await first.tryAcquire()).toBe(true);
    expect(await second.tryAcquire()).toBe(true);
    // Two started at once: the next may start one interval (200 ms) after the burst's tolerance.
    expect(await third.tryAcquire()).toBe(false);
    expect(await third.nextStartAtMs()).toBe(startMs + 200);
    clock.advanceBy(199);
    expect(await third.tryAcquire()).toBe(false);
    clock.advanceBy(1);
    expect(await third.tryAcquire()).toBe(true);
    // Releases give no start back: the rate counts grants, not holders.
    await first.release();
    await second.release();
    expect(await first.tryAcquire()).toBe(false);
    clock.advanceBy(200);
    expect(await first.tryAcquire()).toBe(true);
    await first.release();
    await third.release();
  });

  it('makes acquire sleep until the moment the rate allows, and no earlier', async () => {
    const resourceId = uniqueResource('rate-wait');
    const { client, counts } = countingClient();
    const lock = new DynamoDbLock(resourceId, {
      tableName,
      client,
      concurrency: 5,
      rate: { limit: 10, periodSeconds: 1 },
    });
    const starts: number[] = [];
    const grants = 6;
    for (let grant = 0; grant < grants; grant++) {
      const lease = await lock.acquire({ timeoutMs: 5_000 });
      starts.push(grantedAtMs(lock, lease));
      await lock.release();
    }
    const gaps = starts.slice(1).map((start, index) => start - (starts[index] as number));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(100);
    // Woken by the moment the refusal named, not by polling: at most the refused try, a form
    // put right, and the grant per acquire, whatever the machine's speed.
    expect(counts.get('TransactWriteItems') ?? 0).toBeLessThanOrEqual(1 + (grants - 1) * 3);
  });

  it('gives up at once when the rate allows no start before the deadline', async () => {
    const resourceId = uniqueResource('rate-deadline');
    const rate = { limit: 1, periodSeconds: 60 };
    const first = lockOn(resourceId, { rate });
    await first.acquire();
    await first.release();
    const begun = Date.now();
    await expect(lockOn(resourceId, { rate }).acquire({ timeoutMs: 10_000 })).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
    expect(Date.now() - begun).toBeLessThan(2_000);
  });

  it('costs one transaction per grant and one write per release; without a rate, one put', async () => {
    const { client, counts } = countingClient();
    const limited = new DynamoDbLock(uniqueResource('rate-cost'), {
      tableName,
      client,
      rate: { limit: 100, periodSeconds: 1 },
    });
    await limited.acquire();
    await limited.release();
    expect(Object.fromEntries(counts)).toEqual({ TransactWriteItems: 1, PutItem: 1 });
    counts.clear();
    const plain = new DynamoDbLock(uniqueResource('plain-cost'), { tableName, client });
    await plain.acquire();
    await plain.release();
    expect(Object.fromEntries(counts)).toEqual({ PutItem: 2 });
  });

  it('runs withLock under the rate with several permits', async () => {
    const resourceId = uniqueResource('rate-with-lock');
    const options = {
      tableName,
      client: dynamoDbClient(),
      concurrency: 4,
      permits: 2,
      rate: { limit: 20, periodSeconds: 1 },
    };
    const seen = await withLock(resourceId, options, async (lease) => lease.slots?.length);
    expect(seen).toBe(2);
    expect(await lockOn(resourceId, { concurrency: 4 }).count()).toBe(0);
  });

  it('applies a transaction whose answer was lost once: its retry neither counts a second start nor strands its slots', async () => {
    // A real client whose first transaction lands and then loses its answer (a reset connection).
    const client = new DynamoDBClient({
      endpoint: inject('dynamodbEndpoint'),
      region: 'us-east-1',
      maxAttempts: 1,
    });
    let lose = 1;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'TransactWriteItemsCommand' || lose === 0) return next(args);
        lose--;
        await next(args);
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
      },
      { step: 'initialize', name: 'loseAnswer', priority: 'high' },
    );
    const clock = new FakeClock(Date.now());
    const resourceId = uniqueResource('rate-lost-answer');
    const options = { tableName, logger: quiet, clock: clock.now, concurrency: 4, permits: 2 };
    const rate = { limit: 1, periodSeconds: 60, burst: 2 };
    const first = new DynamoDbLock(resourceId, { ...options, client, rate });
    expect(await first.tryAcquire()).toBe(true);
    expect(lose).toBe(0);
    expect(await first.count()).toBe(2);
    // The burst of 2 has one start left: the lost answer's retry did not count a second.
    const second = lockOn(resourceId, { ...options, rate });
    expect(await second.tryAcquire()).toBe(true);
    expect(await lockOn(resourceId, { ...options, rate }).tryAcquire()).toBe(false);
    await first.release();
    await second.release();
    expect(await first.count()).toBe(0);
  });
});

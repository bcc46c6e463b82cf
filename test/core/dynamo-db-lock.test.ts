import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { maxOverlap } from '../../bench/stats.js';
import { hintCount, maxHints, recallHint, rememberHint } from '../../core/contention-hints.js';
import {
  DynamoDbLock,
  defaults,
  InvalidLockOptionError,
  LockAlreadyHeldError,
  LockLostError,
  LockTimeoutError,
  withLock,
} from '../../core/index.js';
import type { Lease } from '../../core/lease.js';
import { countingClient } from '../support/command-counter.js';
import { dynamoDbClient, freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';

let tableName: string;
const quiet = recordingLogger();
const lockOn = (resourceId: string, options: ConstructorParameters<typeof DynamoDbLock>[1] = {}) =>
  new DynamoDbLock(resourceId, { tableName, client: dynamoDbClient(), logger: quiet, ...options });

/** Where a lease ends for everyone else: its holder is told `maxClockSkewMs` earlier. */
const storedEnd = (lock: DynamoDbLock, lease: Lease) => lease.expiresAtMs + lock.maxClockSkewMs;

beforeAll(async () => {
  tableName = await freshLockTable();
});

describe('acquire and release', () => {
  it('grants a free lock with one write and no read, and releases with one write', async () => {
    const { client, counts, writes } = countingClient();
    const lock = new DynamoDbLock(uniqueResource('cost'), { tableName, client });
    const lease = await lock.acquire();
    expect(writes()).toBe(1);
    expect(counts.get('Query') ?? 0).toBe(0);
    expect(lease.releaseCode).toMatch(/^[0-9a-f]{32}$/);
    expect(await lock.release()).toBe(true);
    expect(writes()).toBe(2);
    expect(counts.get('Query') ?? 0).toBe(0);
  });

  it('holds at most `concurrency` leases and reports them in count and holders', async () => {
    const resource = uniqueResource('count');
    const locks = [0, 1, 2].map((index) => lockOn(resource, { concurrency: 2, owner: `worker-${index}` }));
    expect(await locks[0]?.tryAcquire()).toBe(true);
    expect(await locks[1]?.tryAcquire()).toBe(true);
    expect(await locks[2]?.tryAcquire()).toBe(false);
    expect(await locks[2]?.count()).toBe(2);
    const holders = await locks[2]?.holders();
    expect(holders?.map((holder) => holder.owner).sort()).toEqual(['worker-0', 'worker-1']);
    expect(new Set(holders?.map((holder) => holder.concurrencyId))).toEqual(new Set([0, 1]));
    await locks[0]?.release();
    expect(await locks[2]?.tryAcquire()).toBe(true);
    await Promise.all(locks.map((lock) => lock.release()));
    expect(await locks[0]?.count()).toBe(0);
  });

  it('refuses a second acquire on the same object and answers false to a release of nothing', async () => {
    const lock = lockOn(uniqueResource('twice'));
    expect(await lock.release()).toBe(false);
    await lock.acquire();
    await expect(lock.acquire()).rejects.toBeInstanceOf(LockAlreadyHeldError);
    expect(await lock.release()).toBe(true);
    expect(await lock.release()).toBe(false);
  });

  it('times out with LockTimeoutError and stops on an aborted signal', async () => {
    const resource = uniqueResource('timeout');
    const holder = lockOn(resource);
    await holder.acquire();
    const waiter = lockOn(resource);
    const started = Date.now();
    const error = await waiter.acquire({ timeoutMs: 300 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopped by test')), 100);
    await expect(waiter.acquire({ signal: controller.signal })).rejects.toThrow('stopped by test');
    expect(waiter.lease).toBeUndefined();
    await holder.release();
  });

  it('waits for a held lock and gets it once the holder releases', async () => {
    const resource = uniqueResource('wait');
    const holder = lockOn(resource);
    await holder.acquire();
    setTimeout(() => void holder.release(), 200);
    const waiter = lockOn(resource);
    const lease = await waiter.acquire({ timeoutMs: 5_000 });
    expect(lease.concurrencyId).toBe(0);
    await waiter.release();
  });

  it('releases on `await using` scope exit and in withLock, also when the work throws', async () => {
    const resource = uniqueResource('scope');
    {
      await using lock = lockOn(resource);
      await lock.acquire();
      expect(await lock.count()).toBe(1);
    }
    expect(await lockOn(resource).count()).toBe(0);
    await expect(
      withLock(resource, { tableName, client: dynamoDbClient() }, async (lease) => {
        expect(lease.resourceId).toBe(resource);
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(await lockOn(resource).count()).toBe(0);
    expect(await withLock(resource, { tableName, client: dynamoDbClient() }, async () => 42)).toBe(42);
  });
});

describe('mutual exclusion', () => {
  it('never lets more than 3 of 40 concurrent clients hold a concurrency-3 lock', async () => {
    const resource = uniqueResource('exclusion');
    const intervals: Array<{ startMs: number; endMs: number }> = [];
    // At least 4 s and at least 60 grants: a count of grants, not a rate (a loaded machine gave
    // 40 in 4 s, on this code and the one before).
    const until = Date.now() + 4_000;
    const client = async () => {
      const lock = lockOn(resource, { concurrency: 3, duration: 30, backoff: { baseMs: 10, capMs: 200 } });
      while (Date.now() < until || intervals.length < 60) {
        await lock.acquire();
        const start = performance.now();
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
        intervals.push({ startMs: start, endMs: performance.now() });
        await lock.release();
      }
    };
    await Promise.all(Array.from({ length: 40 }, client));
    expect(intervals.length).toBeGreaterThan(50);
    expect(maxOverlap(intervals)).toBeLessThanOrEqual(3);
    expect(maxOverlap(intervals)).toBe(3);
  });
});

describe('leases that end', () => {
  it('lets another client take over an expired lease; the late release answers false and warns', async () => {
    const resource = uniqueResource('takeover');
    let now = Date.now();
    const clock = () => now;
    const logger = recordingLogger();
    const first = lockOn(resource, { duration: 1, clock, logger });
    const second = lockOn(resource, { duration: 1, clock, logger });
    const firstLease = await first.acquire();
    expect(await second.tryAcquire()).toBe(false);
    now = storedEnd(first, firstLease) + 1;
    expect(await second.tryAcquire()).toBe(true);
    expect(await first.release()).toBe(false);
    expect(logger.lines.some((line) => line.includes('taken by another holder'))).toBe(true);
    expect(await second.count()).toBe(1);
    expect(await second.release()).toBe(true);
  });

  it('counts a holder up to and including its last millisecond, and not after', async () => {
    const resource = uniqueResource('boundary');
    let now = Date.now();
    const lock = lockOn(resource, { duration: 2, clock: () => now });
    const lease = await lock.acquire();
    now = storedEnd(lock, lease);
    expect(await lock.count()).toBe(1);
    expect(await lockOn(resource, { clock: () => now }).tryAcquire()).toBe(false);
    now = storedEnd(lock, lease) + 1;
    expect(await lock.count()).toBe(0);
  });

  it('extends a held lease and raises LockLostError once another holder took it', async () => {
    const resource = uniqueResource('extend');
    let now = Date.now();
    const clock = () => now;
    const lock = lockOn(resource, { duration: 1, clock });
    const lease = await lock.acquire();
    const extended = await lock.extend(5);
    expect(storedEnd(lock, extended)).toBe(now + 5_000);
    now = storedEnd(lock, lease) + 1;
    expect(await lockOn(resource, { clock }).tryAcquire()).toBe(false);
    now = storedEnd(lock, extended) + 1;
    expect(await lockOn(resource, { clock }).tryAcquire()).toBe(true);
    await expect(lock.extend(5)).rejects.toBeInstanceOf(LockLostError);
    expect(lock.lease).toBeUndefined();
  });
});

describe('a late duplicate of a take', () => {
  it('does not bring back a lease that was released since (the network delivered the PutItem twice)', async () => {
    const resource = uniqueResource('late-duplicate');
    const client = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1' });
    const takes: PutItemCommandInput[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutItemCommand')
          takes.push(structuredClone((args as { input: PutItemCommandInput }).input));
        return next(args);
      },
      { step: 'initialize', name: 'recordTakes' },
    );
    const lock = new DynamoDbLock(resource, { tableName, client, logger: quiet, duration: 600 });
    await lock.acquire();
    await lock.release();
    const [take] = takes;
    if (!take) throw new Error('the take should have been a PutItem');
    // The first delivery's twin arrives now: it must not land on the released slot.
    await expect(dynamoDbClient().send(new PutItemCommand(take))).rejects.toBeInstanceOf(
      ConditionalCheckFailedException,
    );
    expect(await lockOn(resource).tryAcquire()).toBe(true);
  });
});

describe('one object used twice at once', () => {
  it('takes one slot, refuses the second acquire with LockAlreadyHeldError, and leaves nothing held after release', async () => {
    const resource = uniqueResource('twice');
    const lock = lockOn(resource, { concurrency: 3, duration: 600 });
    const [first, second] = await Promise.allSettled([lock.acquire(), lock.acquire()]);
    expect(first.status).toBe('fulfilled');
    expect(second.status).toBe('rejected');
    expect((second as PromiseRejectedResult).reason).toBeInstanceOf(LockAlreadyHeldError);
    expect(await lock.tryAcquire()).toBe(false);
    expect(await lock.count()).toBe(1);
    await lock.release();
    expect(await lockOn(resource, { concurrency: 3 }).count()).toBe(0);
  });
});

describe('errors that name what happened', () => {
  it("withLock keeps the function's own error when the release fails too", async () => {
    const client = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1' });
    let puts = 0;
    // The release's PutItem refused as malformed: a fault DynamoDB Local will not produce on cue.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutItemCommand' && ++puts === 2)
          throw Object.assign(new Error('release refused'), {
            name: 'ValidationException',
            $metadata: { httpStatusCode: 400 },
          });
        return next(args);
      },
      { step: 'initialize', name: 'failRelease' },
    );
    const failure = new Error('the work failed');
    const outcome = await withLock(
      uniqueResource('with-lock'),
      { tableName, client, logger: quiet },
      async () => {
        throw failure;
      },
    ).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(AggregateError);
    expect((outcome as AggregateError).errors[0]).toBe(failure);
    expect(puts).toBe(2);
  });

  it('extend without a lease says so, without a slot number from the reserved range', async () => {
    const error = await lockOn(uniqueResource('no-lease'))
      .extend()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).concurrencyId).toBeUndefined();
    expect((error as LockLostError).message).toMatch(/No lease on/);
  });
});

describe('under throttling', () => {
  /** A client that DynamoDB throttles on every call (it cannot be made to throttle on cue). */
  function throttledClient() {
    let calls = 0;
    const client = {
      send: async () => {
        calls++;
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
          name: 'ThrottlingException',
          $metadata: { httpStatusCode: 400 },
        });
      },
    };
    return { client: client as unknown as DynamoDBClient, calls: () => calls };
  }

  it('tryAcquire answers false at once instead of retrying for 20 s, and acquire keeps its timeoutMs', async () => {
    const throttled = throttledClient();
    const lock = new DynamoDbLock(uniqueResource('throttled'), {
      tableName,
      client: throttled.client,
      logger: quiet,
    });
    expect(await lock.tryAcquire()).toBe(false);
    // The take, refused; before, the store retried it for 20 s (dozens of calls).
    expect(throttled.calls()).toBeLessThanOrEqual(2);
    await expect(lock.acquire({ timeoutMs: 300 })).rejects.toBeInstanceOf(LockTimeoutError);
    expect(throttled.calls()).toBeLessThan(40);
  });
});

describe('fresh objects under contention', () => {
  it('learn from the process: after a contended acquire of the resource, a new object reads before it writes', async () => {
    const resource = uniqueResource('fresh');
    const holder = lockOn(resource, { duration: 0.3 });
    await holder.acquire();
    // A first object finds the slot busy: a refused write, then it waits for the lease end.
    await lockOn(resource).acquire();
    // A new object for the next acquire, as a Lambda handler writes it.
    const { client, counts } = countingClient();
    const fresh = new DynamoDbLock(resource, { tableName, client, logger: quiet, duration: 1 });
    await expect(fresh.acquire({ timeoutMs: 100 })).rejects.toBeInstanceOf(LockTimeoutError);
    // It read first, so it wasted no blind write on the busy slot.
    expect(counts.get('PutItem') ?? 0).toBe(0);
    expect(counts.get('Query') ?? 0).toBeGreaterThan(0);
  });

  it('do not blind-write the slot another object of the process still holds: the process is contended', async () => {
    const resource = uniqueResource('held-here');
    // The first object's uncontended grant leaves the hint "not contended, last slot s".
    await lockOn(resource, { concurrency: 2 }).acquire();
    const { client, counts } = countingClient();
    const second = new DynamoDbLock(resource, { tableName, client, logger: quiet, concurrency: 2 });
    await second.acquire();
    // Before: a blind write to s, refused (its holder is right here), then a read and a write.
    expect(counts.get('PutItem') ?? 0).toBe(1);
    expect(counts.get('Query') ?? 0).toBe(1);
    await second.release();
  });

  it('leave a slot that two of them read free at once to the first that writes it', async () => {
    const resource = uniqueResource('neighbours');
    const holder = lockOn(resource, { concurrency: 2 });
    await holder.acquire();
    const { client, counts } = countingClient();
    // Both waiters' reads are answered together, after both were sent: they see the same one
    // free slot. Before: both wrote it and one was refused.
    const pendingReads: Array<() => void> = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'QueryCommand' && pendingReads.length < 2) {
          await new Promise<void>((resolve) => {
            pendingReads.push(resolve);
            if (pendingReads.length === 2) for (const answer of pendingReads) answer();
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'answerReadsTogether' },
    );
    const waiters = [0, 1].map(
      () =>
        new DynamoDbLock(resource, {
          tableName,
          client,
          logger: quiet,
          concurrency: 2,
          backoff: { baseMs: 20, capMs: 40 },
        }),
    );
    // Read first, as a contended process does: both reads go out before either writes.
    const contended = { contended: true, lastSlot: { concurrencyId: 0, fencingToken: 0 } };
    rememberHint(tableName, resource, contended);
    // Either may win: the two answers come back over the network in either order.
    const outcomes = await Promise.allSettled(waiters.map((waiter) => waiter.acquire({ timeoutMs: 1_000 })));
    const winners = waiters.filter((_, index) => outcomes[index]?.status === 'fulfilled');
    const refusals = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    expect(winners).toHaveLength(1);
    expect(refusals).toEqual([expect.any(LockTimeoutError)]);
    expect(pendingReads).toHaveLength(2);
    // One write for one free slot; the other waiter only read until its deadline.
    expect(counts.get('PutItem')).toBe(1);
    await winners[0]?.release();
    await holder.release();
  });

  it('started together on a free resource, blind-write slots no other object of the process is writing', async () => {
    const resource = uniqueResource('storm');
    const { client, counts } = countingClient();
    // Twice as many fresh objects as slots, all at once, as the first invocations of a warm
    // container would: no hint yet. Before: each wrote a random slot, and on 8 slots 8 random
    // picks are all distinct 0.24 % of the time: refused writes, then reads.
    const locks = Array.from(
      { length: 16 },
      () => new DynamoDbLock(resource, { tableName, client, logger: quiet, concurrency: 8 }),
    );
    const outcomes = await Promise.allSettled(locks.map((lock) => lock.acquire({ timeoutMs: 300 })));
    const holders = locks.filter((_, index) => outcomes[index]?.status === 'fulfilled');
    expect(holders).toHaveLength(8);
    // One write per slot, none refused; the 8 left over saw every slot taken here and read instead.
    expect(counts.get('PutItem')).toBe(8);
    await Promise.all(holders.map((lock) => lock.release()));
  });

  it('keeps the hints bounded, the least recently used forgotten first', () => {
    for (let index = 0; index < maxHints + 50; index++)
      rememberHint('bounded', `r-${index}`, {
        contended: true,
        lastSlot: { concurrencyId: 0, fencingToken: 1 },
      });
    expect(hintCount()).toBe(maxHints);
    expect(recallHint('bounded', 'r-0')).toBeUndefined();
    expect(recallHint('bounded', `r-${maxHints + 49}`)?.contended).toBe(true);
  });
});

describe('the clock bound', () => {
  it('tells the holder an end the bound before the stored one; a short lease gets a tenth of itself', async () => {
    const lock = lockOn(uniqueResource('bound'), { duration: 2 });
    const lease = await lock.acquire();
    const [holder] = await lock.holders();
    expect(lock.maxClockSkewMs).toBe(100);
    expect(holder?.expiresAtMs).toBe(lease.expiresAtMs + 100);
    expect(lock.lease?.expiresAtMs).toBe(lease.expiresAtMs);
    await lock.release();
    expect(lockOn(uniqueResource('short'), { duration: 0.4 }).maxClockSkewMs).toBe(40);
    expect(lockOn(uniqueResource('own'), { duration: 0.4, maxClockSkewMs: 100 }).maxClockSkewMs).toBe(100);
  });

  it('refuses a bound that is not below the lease, a broken module default, and an extension within the bound', async () => {
    expect(() => lockOn('r', { duration: 1, maxClockSkewMs: 1_000 })).toThrow(InvalidLockOptionError);
    expect(() => lockOn('r', { maxClockSkewMs: -1 })).toThrow('`maxClockSkewMs`');
    const saved = defaults.maxClockSkewMs;
    defaults.maxClockSkewMs = -50;
    try {
      expect(() => lockOn('r')).toThrow('`defaults.maxClockSkewMs`');
    } finally {
      defaults.maxClockSkewMs = saved;
    }
    const lock = lockOn(uniqueResource('extend-bound'), { duration: 10 });
    await lock.acquire();
    // Before, extend(0.05) answered a lease that had ended 50 ms ago (found by review).
    await expect(lock.extend(0.05)).rejects.toThrow('`seconds`');
    expect(lock.lease).toBeDefined();
    await lock.release();
  });
});

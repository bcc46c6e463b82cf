import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { forceReleaseSlot } from '../../cli/force-release.js';
import {
  DynamoDbLock,
  InvalidLockOptionError,
  LeaseEndingError,
  type LockClient,
  LockLostError,
  withLock,
} from '../../core/index.js';
import { countingClient } from '../support/command-counter.js';
import { dynamoDbClient, freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';

let tableName: string;
const quiet = recordingLogger();
const common = () => ({ tableName, client: dynamoDbClient(), logger: quiet });
const lockOn = (resourceId: string) => new DynamoDbLock(resourceId, common());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `signal` to abort, or gives up after `ms` so a missing abort fails the test instead of hanging it. */
function abortedWithin(
  signal: AbortSignal | undefined,
  ms: number,
): Promise<{ reason: unknown; atMs: number }> {
  return new Promise((resolve, reject) => {
    if (!(signal instanceof AbortSignal)) return reject(new Error('fn received no AbortSignal'));
    const timer = setTimeout(() => reject(new Error(`the signal did not abort within ${ms} ms`)), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve({ reason: signal.reason, atMs: Date.now() });
    });
  });
}

/** An error DynamoDB answers at once and the store does not retry. */
const refusal = (message: string) =>
  Object.assign(new Error(message), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } });

/**
 * A client of its own whose `commandName` calls go through `intercept`, which sends them with
 * `send()` or not: for faults DynamoDB Local will not produce on cue (a refusal, a slow answer).
 */
function clientIntercepting(
  commandName: string,
  intercept: (call: number, send: () => Promise<unknown>) => Promise<unknown>,
): DynamoDBClient {
  const client = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1' });
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) =>
      context.commandName === commandName
        ? ((await intercept(++calls, () => next(args))) as Awaited<ReturnType<typeof next>>)
        : next(args),
    { step: 'initialize', name: 'intercept' },
  );
  return client;
}

beforeAll(async () => {
  tableName = await freshLockTable('with_lock');
});

describe('withLock without refresh', () => {
  it("aborts the function's signal before the lease ends, by the margin", async () => {
    const { reason, atMs, expiresAtMs } = await withLock(
      uniqueResource('ending'),
      { ...common(), duration: 1 },
      async (lease, signal) => ({ ...(await abortedWithin(signal, 3_000)), expiresAtMs: lease.expiresAtMs }),
    );
    expect(reason).toBeInstanceOf(LeaseEndingError);
    expect((reason as LeaseEndingError).expiresAtMs).toBe(expiresAtMs);
    // A 1 s lease ends 100 ms early: the margin is max(100 ms, 10 % of the duration).
    expect(atMs).toBeLessThan(expiresAtMs);
    expect(atMs).toBeGreaterThanOrEqual(expiresAtMs - 100 - 5);
  });
});

describe('withLock with refreshMs', () => {
  it('keeps the lock for three lease durations, and the signal stays quiet', async () => {
    const resource = uniqueResource('refresh');
    const rival = lockOn(resource);
    const seen = await withLock(
      resource,
      { ...common(), duration: 1, refreshMs: 250 },
      async (lease, signal) => {
        const firstEnd = lease.expiresAtMs;
        const rivalGot: boolean[] = [];
        const counts: number[] = [];
        for (let elapsed = 0; elapsed < 3_000; elapsed += 250) {
          await sleep(250);
          rivalGot.push(await rival.tryAcquire());
          counts.push(await rival.count());
        }
        return { rivalGot, counts, aborted: signal?.aborted, firstEnd, lastEnd: lease.expiresAtMs };
      },
    );
    expect(seen.aborted).toBe(false);
    expect(seen.rivalGot.every((got) => !got)).toBe(true);
    expect(new Set(seen.counts)).toEqual(new Set([1]));
    // The lease handed to the function follows the refreshes.
    expect(seen.lastEnd).toBeGreaterThan(seen.firstEnd + 2_000);
    expect(await rival.count()).toBe(0);
  });

  it('aborts with LockLostError when another party took the slot and the next refresh fails', async () => {
    const resource = uniqueResource('taken');
    const intruder = lockOn(resource);
    const store = { ...common(), clock: Date.now };
    const { reason } = await withLock(
      resource,
      { ...common(), duration: 1, refreshMs: 200 },
      async (lease, signal) => {
        // What `dlm release` does to a stuck holder; then someone else takes the slot.
        const forced = await forceReleaseSlot(store, resource, lease.concurrencyId, 'test-operator');
        expect(forced.kind).toBe('released');
        expect(await intruder.tryAcquire()).toBe(true);
        return abortedWithin(signal, 2_000);
      },
    );
    expect(reason).toBeInstanceOf(LockLostError);
    // The release found nothing of ours to free: the intruder keeps the slot.
    expect((await intruder.holders()).length).toBe(1);
    expect(await intruder.release()).toBe(true);
  });

  it('turns any other refresh failure into a LeaseEndingError whose cause is that failure', async () => {
    const client = clientIntercepting('UpdateItemCommand', async () => {
      throw refusal('refresh refused');
    });
    const { reason } = await withLock(
      uniqueResource('refresh-fails'),
      { tableName, client, logger: quiet, duration: 1, refreshMs: 200 },
      async (_lease, signal) => abortedWithin(signal, 2_000),
    );
    expect(reason).toBeInstanceOf(LeaseEndingError);
    expect(((reason as LeaseEndingError).cause as Error).message).toMatch(/refresh refused/);
  });
});

describe('withLock with a slow refresh', () => {
  it('aborts with LeaseEndingError when a refresh is still pending at the margin', async () => {
    const client = clientIntercepting('UpdateItemCommand', async (_call, send) => {
      await sleep(1_500);
      return send();
    });
    const { reason, atMs, expiresAtMs } = await withLock(
      uniqueResource('slow-refresh'),
      { tableName, client, logger: quiet, duration: 1, refreshMs: 200 },
      async (lease, signal) => ({ ...(await abortedWithin(signal, 2_000)), expiresAtMs: lease.expiresAtMs }),
    );
    expect(reason).toBeInstanceOf(LeaseEndingError);
    expect((reason as LeaseEndingError).cause).toBeUndefined();
    expect(atMs).toBeLessThan(expiresAtMs);
  });

  it('releases only after a refresh on the wire has answered', async () => {
    const events: string[] = [];
    const client = clientIntercepting('UpdateItemCommand', async (_call, send) => {
      events.push('refresh sent');
      await sleep(300);
      const output = await send();
      events.push('refresh answered');
      return output;
    });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutItemCommand') events.push('put sent');
        return next(args);
      },
      { step: 'initialize', name: 'recordPuts' },
    );
    const resource = uniqueResource('in-flight');
    await withLock(resource, { tableName, client, logger: quiet, duration: 2, refreshMs: 100 }, async () => {
      await sleep(200); // returns while the first refresh waits on the wire
    });
    // The acquire, the refresh, then the release: no extend races the release.
    expect(events).toEqual(['put sent', 'refresh sent', 'refresh answered', 'put sent']);
    expect(await lockOn(resource).count()).toBe(0);
  });
});

describe("withLock and the caller's signal", () => {
  it("aborts the function's signal with the caller's reason", async () => {
    const controller = new AbortController();
    const stop = new Error('the caller stopped');
    const { reason } = await withLock(
      uniqueResource('caller'),
      { ...common(), signal: controller.signal },
      async (_lease, signal) => {
        setTimeout(() => controller.abort(stop), 50);
        return abortedWithin(signal, 2_000);
      },
    );
    expect(reason).toBe(stop);
  });

  it("keeps refreshing after the caller's abort while the function winds down", async () => {
    const resource = uniqueResource('wind-down');
    const rival = lockOn(resource);
    const controller = new AbortController();
    const rivalGot = await withLock(
      resource,
      { ...common(), duration: 1, refreshMs: 250, signal: controller.signal },
      async () => {
        controller.abort(new Error('the caller stopped'));
        await sleep(1_500); // longer than the lease: only the refreshes keep it
        return rival.tryAcquire();
      },
    );
    expect(rivalGot).toBe(false);
    expect(await rival.count()).toBe(0);
  });
});

describe('withLock after the function settled', () => {
  it('sends no refresh and never aborts the signal afterwards', async () => {
    const { client, counts } = countingClient();
    let signal: AbortSignal | undefined;
    await withLock(
      uniqueResource('settled'),
      { tableName, client, logger: quiet, duration: 1, refreshMs: 150 },
      async (_lease, given) => {
        signal = given;
        await sleep(200);
      },
    );
    expect(signal).toBeInstanceOf(AbortSignal);
    const updates = counts.get('UpdateItem') ?? 0;
    expect(updates).toBeGreaterThanOrEqual(1);
    // Past the next refresh and past the lease's end.
    await sleep(1_100);
    expect(counts.get('UpdateItem') ?? 0).toBe(updates);
    expect(signal?.aborted).toBe(false);
  });

  it('leaves no timer behind', async () => {
    // Real timers, watched: fake ones also capture the timers that the local AWS of this worker
    // (shared by every test file) arms meanwhile (a full run counted 4 here, not 2), and those
    // never fire after the real ones are back: a back-off of a function in flight never ends.
    const { armed, restore } = watchTimersFrom('lease-watch');
    try {
      let armedDuring = 0;
      await withLock(uniqueResource('timers'), { ...common(), refreshMs: 1_000 }, async (_lease, signal) => {
        armedDuring = armed.size;
        return signal;
      });
      // The end-of-lease watch and the next refresh were armed, and are cleared.
      expect(armedDuring).toBe(2);
      expect(armed.size).toBe(0);
    } finally {
      restore();
    }
  });
});

/** The timers armed from a file whose path contains `fileHint`, pending: neither fired nor cleared. */
function watchTimersFrom(fileHint: string) {
  const armed = new Set<unknown>();
  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  const set = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
    callback: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ) => {
    const timer = realSetTimeout(() => {
      armed.delete(timer);
      callback(...args);
    }, ms);
    if (new Error().stack?.includes(fileHint)) armed.add(timer);
    return timer;
  }) as typeof setTimeout);
  const clear = vi.spyOn(globalThis, 'clearTimeout').mockImplementation((timer) => {
    armed.delete(timer);
    realClearTimeout(timer);
  });
  return {
    armed,
    restore: () => {
      set.mockRestore();
      clear.mockRestore();
    },
  };
}

describe('withLock errors', () => {
  it("keeps the function's own error first when the release fails too", async () => {
    const releaseFailure = refusal('release refused');
    // The second PutItem is the release.
    const client = clientIntercepting('PutItemCommand', async (call, send) => {
      if (call === 2) throw releaseFailure;
      return send();
    });
    const failure = new Error('the work failed');
    let signal: AbortSignal | undefined;
    const outcome = await withLock(
      uniqueResource('aggregate'),
      { tableName, client, logger: quiet, duration: 1, refreshMs: 300 },
      async (_lease, given) => {
        signal = given;
        throw failure;
      },
    ).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(AggregateError);
    expect((outcome as AggregateError).errors[0]).toBe(failure);
    expect((outcome as AggregateError).errors[1]).toBeInstanceOf(Error);
    expect(((outcome as AggregateError).errors[1] as Error).message).toMatch(/release refused/);
    expect(signal?.aborted).toBe(false);
  });

  const refreshRange = /above 0 and below 8900/;
  it.each([
    ['refreshMs', { refreshMs: 0 }, refreshRange],
    ['refreshMs', { refreshMs: -5 }, refreshRange],
    ['refreshMs', { refreshMs: Number.NaN }, refreshRange],
    ['refreshMs', { refreshMs: '500' }, refreshRange],
    // 10 s lease, 1 s margin: a refresh at 9.5 s would come after the signal told fn to stop.
    ['refreshMs', { refreshMs: 9_500 }, refreshRange],
    ['refreshMs', { refreshMs: 10_000 }, refreshRange],
    // The told lease is 100 ms shorter (the clock bound): 8.95 s lost to its own end signal (found by review).
    ['refreshMs', { refreshMs: 8_950 }, refreshRange],
    // A misspelt option is refused, and the message lists withLock's own options too.
    ['refreshMS', { refreshMS: 500 }, /timeoutMs, signal, refreshMs/],
    ['timeoutMs', { timeoutMs: -1 }, /milliseconds >= 0/],
  ])('refuses a bad `%s` (%o) before any request', async (field, bad, message) => {
    const sent: string[] = [];
    const tripwire: LockClient = {
      send: (async (command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        throw new Error('a request was sent');
      }) as LockClient['send'],
    };
    let ran = false;
    const options = { tableName, client: tripwire, duration: 10, ...bad } as Parameters<typeof withLock>[1];
    const error = await withLock(uniqueResource('bad'), options, async () => {
      ran = true;
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidLockOptionError);
    expect((error as InvalidLockOptionError).field).toBe(field);
    expect((error as InvalidLockOptionError).message).toMatch(message);
    expect(sent).toEqual([]);
    expect(ran).toBe(false);
  });
});

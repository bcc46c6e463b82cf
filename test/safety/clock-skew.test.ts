import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxOverlap, timeAbove } from '../../bench/stats.js';
import { defaults } from '../../core/defaults.js';
import { DynamoDbLock } from '../../core/dynamo-db-lock.js';
import { dynamoDbClient, freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { countFigure, figureLines } from './support/chaos-settings.js';

/*
 * Issue 16, item 1: each taker judges a lease by its own clock. Clients whose clocks run ahead
 * of the holder's took a mutex before its holder stopped. A holder is now told a lease that ends
 * `maxClockSkewMs` before the stored end, so a taker up to that much ahead never finds the slot
 * free while its holder still works. The storm: rounds of 400 ms leases on K slots, half the
 * clients ahead of the others (`storm` below).
 */

const leaseMs = 400;
const rounds = 3;
let tableName: string;

beforeAll(async () => {
  tableName = await freshLockTable('skew');
});

afterAll(() => {
  console.log(`clock-skew storms:\n  ${figureLines('skew.').join('\n  ')}`);
});

/** One client: its clock `offsetMs` ahead of this machine's. */
function client(resourceId: string, concurrency: number, offsetMs: number, maxClockSkewMs: number) {
  return new DynamoDbLock(resourceId, {
    tableName,
    client: dynamoDbClient(),
    concurrency,
    duration: leaseMs / 1000,
    clock: () => Date.now() + offsetMs,
    maxClockSkewMs,
    backoff: { baseMs: 2, capMs: 10 },
    logger: recordingLogger(),
  });
}

/**
 * Rounds of K holders whose clocks are right, with K takers ahead by `aheadMs` already waiting,
 * then the other way round. Every holder works to the very end it was told (no release: the
 * worst case for the next taker); its work is recorded on this machine's clock.
 */
async function storm(concurrency: number, aheadMs: number, maxClockSkewMs = defaults.maxClockSkewMs) {
  const work: Array<{ startMs: number; endMs: number }> = [];
  const holdToTheEnd = async (lock: DynamoDbLock, offsetMs: number) => {
    const lease = await lock.acquire({ timeoutMs: 5_000 });
    const startMs = Date.now();
    // The holder works until its own clock reaches the end it was told.
    const endMs = Math.max(startMs, lease.expiresAtMs - offsetMs);
    work.push({ startMs, endMs });
    await new Promise((resolve) => setTimeout(resolve, endMs - Date.now()));
  };
  for (let round = 0; round < rounds; round++) {
    for (const [holderOffset, takerOffset] of [
      [0, aheadMs],
      [aheadMs, 0],
    ] as const) {
      const resourceId = uniqueResource(`skew-k${concurrency}`);
      const holders = Array.from({ length: concurrency }, () =>
        client(resourceId, concurrency, holderOffset, maxClockSkewMs),
      );
      await Promise.all(holders.map((lock) => lock.acquire()));
      const holding = holders.map(async (lock) => {
        const lease = lock.lease as NonNullable<typeof lock.lease>;
        const startMs = Date.now();
        const endMs = lease.expiresAtMs - holderOffset;
        work.push({ startMs, endMs });
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, endMs - Date.now())));
      });
      const taking = Array.from({ length: concurrency }, () =>
        holdToTheEnd(client(resourceId, concurrency, takerOffset, maxClockSkewMs), takerOffset),
      );
      await Promise.all([...holding, ...taking]);
    }
  }
  const figures = {
    leases: work.length,
    mostAtOnce: maxOverlap(work),
    msAboveK: timeAbove(work, concurrency),
  };
  const label = `skew.k${concurrency}.ahead${aheadMs}.bound${maxClockSkewMs}`;
  for (const [name, value] of Object.entries(figures)) countFigure(`${label}.${name}`, value);
  return figures;
}

describe('clients whose clocks disagree', () => {
  it.each([1, 3])(
    'never hold more than K = %i at once while ahead by the bound (100 ms, the default for leases of 1 s and more)',
    async (k) => {
      const { leases, mostAtOnce, msAboveK } = await storm(k, 100);
      expect(leases).toBe(rounds * 4 * k);
      expect(mostAtOnce).toBeLessThanOrEqual(k);
      expect(msAboveK).toBe(0);
    },
    20_000,
  );

  it('held K + 1 without the bound (the behaviour before it): a taker 100 ms ahead came in early', async () => {
    const { mostAtOnce, msAboveK } = await storm(1, 100, 0);
    expect(mostAtOnce).toBe(2);
    expect(msAboveK).toBeGreaterThan(0);
  }, 20_000);

  it.each([1, 3])(
    'beyond the bound (300 ms ahead, K = %i) overlaps: the README says so',
    async (k) => {
      const { mostAtOnce, msAboveK } = await storm(k, 300);
      expect(mostAtOnce).toBeGreaterThan(k);
      expect(msAboveK).toBeGreaterThan(0);
    },
    20_000,
  );
});

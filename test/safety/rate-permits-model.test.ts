import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLock } from '../../core/dynamo-db-lock.js';
import type { Lease } from '../../core/lease.js';
import { dynamoDbClient, freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { chaosSettings } from './support/chaos-settings.js';
import { FakeClock } from './support/fake-clock.js';

/*
 * Weighted permits and the start rate against their model, on DynamoDB Local with one shared fake
 * clock: clients with 1..3 permits try at once (their transactions race), release, and the clock
 * jumps. After every step, no more than K permits are held (in the table, and as the clients
 * believe); at the end, no window of one period holds more starts than GCRA allows:
 * limit + burst - 1 in any half-open window [s, s + period), within the limit + burst.
 */

const settings = chaosSettings();
const quiet = recordingLogger();
let tableName: string;

beforeAll(async () => {
  tableName = await freshLockTable('rate_model');
});

type Step =
  | { kind: 'try'; clients: number[] }
  | { kind: 'release'; client: number }
  | { kind: 'advance'; ms: number };

const clientCount = 5;

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .uniqueArray(fc.integer({ min: 0, max: clientCount - 1 }), { minLength: 1, maxLength: 4 })
      .map((clients) => ({ kind: 'try' as const, clients })),
  },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: 0, max: clientCount - 1 })
      .map((client) => ({ kind: 'release' as const, client })),
  },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 700 }).map((ms) => ({ kind: 'advance' as const, ms })) },
);

const scenario = fc.record({
  concurrency: fc.constantFrom(2, 3, 5),
  limit: fc.constantFrom(1, 2, 3),
  periodSeconds: fc.constantFrom(0.5, 1, 1.5),
  burst: fc.constantFrom(1, 2, 3),
  durationMs: fc.constantFrom(800, 2_000),
  permits: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: clientCount, maxLength: clientCount }),
  steps: fc.array(step, { minLength: 5, maxLength: settings.modelCommands }),
});

/** The most starts of `starts` (ms) in any half-open window of `windowMs`. */
function busiestWindow(starts: number[], windowMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let first = 0, last = 0; first < sorted.length; first++) {
    while (last < sorted.length && (sorted[last] as number) < (sorted[first] as number) + windowMs) last++;
    most = Math.max(most, last - first);
  }
  return most;
}

describe('permits and the rate against their model', () => {
  it(
    'never holds more than K permits, and never starts more than limit + burst - 1 in a period',
    async () => {
      let runs = 0;
      const property = fc.asyncProperty(scenario, async (run) => {
        runs++;
        const clock = new FakeClock(Date.now());
        const resourceId = uniqueResource('rate-model');
        const rate = { limit: run.limit, periodSeconds: run.periodSeconds, burst: run.burst };
        const locks = run.permits.map(
          (permits) =>
            new DynamoDbLock(resourceId, {
              tableName,
              client: dynamoDbClient(),
              logger: quiet,
              clock: clock.now,
              concurrency: run.concurrency,
              permits: Math.min(permits, run.concurrency),
              rate,
              duration: run.durationMs / 1000,
              maxClockSkewMs: 0,
            }),
        );
        const leases: Array<Lease | undefined> = locks.map(() => undefined);
        const starts: number[] = [];
        const observer = locks[0] as DynamoDbLock;
        for (const action of run.steps) {
          if (action.kind === 'advance') clock.advanceBy(action.ms);
          if (action.kind === 'release') {
            await locks[action.client]?.release();
            leases[action.client] = undefined;
          }
          if (action.kind === 'try') {
            await Promise.all(
              action.clients.map(async (client) => {
                const lock = locks[client] as DynamoDbLock;
                if (leases[client] && (leases[client] as Lease).expiresAtMs >= clock.now()) return;
                // A holder whose lease ended lets it go before it tries again (one object, one lease).
                if (leases[client]) await lock.release();
                leases[client] = undefined;
                if (await lock.tryAcquire()) {
                  const lease = lock.lease as Lease;
                  leases[client] = lease;
                  starts.push(lease.expiresAtMs - run.durationMs);
                }
              }),
            );
          }
          const nowMs = clock.now();
          const believed = leases.reduce(
            (sum, lease, client) =>
              sum + (lease && lease.expiresAtMs >= nowMs ? (locks[client] as DynamoDbLock).permits : 0),
            0,
          );
          expect(believed, 'permits the clients believe they hold').toBeLessThanOrEqual(run.concurrency);
          expect(await observer.count(), 'permits held in the table').toBeLessThanOrEqual(run.concurrency);
        }
        const periodMs = run.periodSeconds * 1000;
        expect(busiestWindow(starts, periodMs), `starts ${starts.join(', ')}`).toBeLessThanOrEqual(
          run.limit + run.burst - 1,
        );
        await Promise.all(locks.map((lock) => lock.release()));
      });
      await fc.assert(property, {
        seed: settings.seed,
        numRuns: settings.modelRuns,
        interruptAfterTimeLimit: settings.modelSeconds * 1000,
        markInterruptAsFailure: false,
      });
      expect(runs).toBeGreaterThanOrEqual(Math.min(5, settings.modelRuns));
    },
    (settings.modelSeconds + 60) * 1000,
  );
});

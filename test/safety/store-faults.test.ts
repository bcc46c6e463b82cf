import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbLock } from '../../core/dynamo-db-lock.js';
import { LockTimeoutError } from '../../core/errors.js';
import { freshLockTable, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { chaosSettings, countFigure, figureLines, seededRandom } from './support/chaos-settings.js';
import { type Fault, FaultInjector } from './support/fault-injector.js';

const settings = chaosSettings();
let tableName: string;
const injectors: FaultInjector[] = [];

beforeAll(async () => {
  tableName = await freshLockTable('store_faults');
});

afterAll(() => {
  for (const injector of injectors) {
    for (const [fault, count] of injector.injected) countFigure(`faults.library.dynamodb.${fault}`, count);
  }
  console.log(`store-faults figures so far:\n  ${figureLines('faults.').join('\n  ')}`);
});

const storeFaults: Fault[] = ['throttle', 'server-error', 'lose-answer', 'lost-request', 'duplicate'];

/** A lock whose every DynamoDB call may meet a fault, drawn from a seeded generator. */
function faultyLock(resourceId: string, concurrency: number, seed: number, rate: number) {
  const faults = new FaultInjector().chaos({
    commands: ['PutItem', 'UpdateItem', 'Query'],
    faults: storeFaults,
    rate,
    random: seededRandom(seed),
  });
  injectors.push(faults);
  // SDK retries off: the library's own retry meets every fault.
  const client = faults.attach(
    new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1', maxAttempts: 1 }),
    'dynamodb',
  );
  const lock = new DynamoDbLock(resourceId, {
    tableName,
    client,
    concurrency,
    duration: 30,
    logger: recordingLogger(),
    backoff: { baseMs: 5, capMs: 50 },
  });
  return { lock, faults };
}

describe('the library under store faults', () => {
  it('never doubles a slot, ends every acquire granted or timed out, and leaks nothing', async () => {
    const resources = [
      { resourceId: uniqueResource('faults-mutex'), concurrency: 1 },
      { resourceId: uniqueResource('faults-three'), concurrency: 3 },
    ];
    const rounds = settings.faultRounds;
    const outcomes = { granted: 0, timedOut: 0 };
    const violations: string[] = [];
    const workers = resources.flatMap(({ resourceId, concurrency }, resourceIndex) => {
      const holding = new Map<number, string>();
      return Array.from({ length: 6 }, async (_, workerIndex) => {
        const name = `${resourceIndex}/${workerIndex}`;
        const { lock, faults } = faultyLock(
          resourceId,
          concurrency,
          settings.seed + resourceIndex * 10 + workerIndex,
          0.25,
        );
        for (let round = 0; round < rounds / 6; round++) {
          const lease = await lock.acquire({ timeoutMs: 5_000 }).catch((error: unknown) => {
            if (error instanceof LockTimeoutError) return undefined;
            violations.push(`acquire of ${name} ended with ${String(error)}`);
            return undefined;
          });
          countFigure('faults.library.acquires');
          if (!lease) {
            outcomes.timedOut++;
            continue;
          }
          outcomes.granted++;
          const other = holding.get(lease.concurrencyId);
          if (other)
            violations.push(`slot ${lease.concurrencyId} of ${resourceId} held by ${other} and ${name}`);
          if (holding.size >= concurrency) violations.push(`${holding.size + 1} holders of ${resourceId}`);
          holding.set(lease.concurrencyId, name);
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
          holding.delete(lease.concurrencyId);
          // Nobody could take the lease (30 s) unless it was released: false only when this very
          // release landed, lost its answer, and a waiter took the slot before the retry.
          const faultsBefore = faults.total;
          const released = await lock.release();
          if (!released && faults.total === faultsBefore)
            violations.push(`release of ${name} answered false`);
          if (!released) countFigure('faults.library.release-false-after-lost-answer');
        }
      });
    });
    await Promise.all(workers);
    expect(violations).toEqual([]);
    expect(outcomes.granted).toBeGreaterThan(0);
    for (const { resourceId, concurrency } of resources) {
      const observer = new DynamoDbLock(resourceId, {
        tableName,
        concurrency,
        client: new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1' }),
      });
      expect(await observer.count()).toBe(0);
    }
    expect(injectors.reduce((sum, injector) => sum + injector.total, 0)).toBeGreaterThan(rounds / 2);
  }, 120_000);

  it('frees the slot of an acquire that gave up while its write may have landed', async () => {
    const resourceId = uniqueResource('gave-up');
    const faults = new FaultInjector();
    injectors.push(faults);
    const client = faults.attach(
      new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1', maxAttempts: 1 }),
      'dynamodb',
    );
    let nowMs = Date.now();
    const lock = new DynamoDbLock(resourceId, {
      tableName,
      client,
      logger: recordingLogger(),
      // The store's retry budget is 20 s of this clock: each lost answer moves it 6 s on.
      clock: () => nowMs,
    });
    const sixSecondsLater = () => {
      nowMs += 6_000;
      return true;
    };
    faults.arm({ command: 'PutItem', fault: 'lose-answer', times: 5, when: sixSecondsLater });
    await expect(lock.acquire({ timeoutMs: 60_000 })).rejects.toMatchObject({ name: 'LockStoreError' });
    expect(faults.injected.get('lose-answer')).toBeGreaterThanOrEqual(3);
    // Read on the real clock, where an unreleased lease (it ends after the fake now) would still count.
    const observer = new DynamoDbLock(resourceId, {
      tableName,
      client: new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1' }),
    });
    expect(await observer.count()).toBe(0);
  });
});

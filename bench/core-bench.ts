import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createLockTable } from '../core/create-tables.js';
import { DynamoDbLock } from '../core/dynamo-db-lock.js';
import { countingDynamoDbClient, runLoops } from './measure.js';

/** One line of the bench table. */
export interface BenchRow {
  case: string;
  value: number;
  unit: string;
  note?: string;
}

const quiet = { warn: () => {} };

/**
 * Uncontended cycles against the bare conditional put+delete ceiling, then a contention sweep.
 * Rounds alternate between the lock and the ceiling so that machine noise hits both alike.
 */
const warmRoundMs = 1_000;
const warmMinMs = 15_000;
const warmMaxMs = 60_000;
const steadyGain = 0.05;

/**
 * DynamoDB Local is a JVM that keeps compiling its hot paths for tens of seconds, and until it
 * has, a write with a richer expression runs several times slower than a plain one: measured
 * cold, the ratio says more about the JIT than about the lock. So both cycles run in turns until
 * neither rate rises any more (the last two rounds of each gain under 5% on the two before),
 * and the measurement starts from that steady state. Answers how long that took.
 */
async function warmUntilSteady(clients: number, cycles: Array<(client: number) => Promise<void>>) {
  const started = performance.now();
  const rates: number[][] = cycles.map(() => []);
  const meanOf = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const stillRising = (history: number[]) =>
    history.length < 4 || meanOf(history.slice(-2)) > meanOf(history.slice(-4, -2)) * (1 + steadyGain);
  for (;;) {
    for (const [index, cycle] of cycles.entries()) {
      rates[index]?.push((await runLoops(clients, warmRoundMs, cycle)).perSecond);
    }
    const elapsed = performance.now() - started;
    if (elapsed >= warmMaxMs || (elapsed >= warmMinMs && !rates.some(stillRising))) return elapsed;
  }
}

export async function runCoreBench(
  endpoint: string,
  seconds: number,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const { client, writes: countWrites, reads: countReads } = countingDynamoDbClient(endpoint);
  const tableName = `bench_${Date.now()}`;
  await createLockTable(client, tableName);
  const rows: BenchRow[] = [];
  const durationMs = seconds * 1000;

  for (const clients of [1, 20]) {
    const locks = Array.from(
      { length: clients },
      (_, index) => new DynamoDbLock(`uncontended-${clients}-${index}`, { tableName, client, logger: quiet }),
    );
    const lockCycle = async (index: number) => {
      const lock = locks[index] as DynamoDbLock;
      await lock.acquire();
      await lock.release();
    };
    const bareCycle = async (index: number) => {
      const Key = { resource_id: { S: `bare-${clients}-${index}` }, concurrency_id: { N: '0' } };
      const now = Date.now();
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            ...Key,
            release_code: { S: 'x'.repeat(32) },
            expires: { N: String(Math.ceil(now / 1000) + 10) },
          },
          ConditionExpression: 'attribute_not_exists(resource_id) OR expires <= :now',
          ExpressionAttributeValues: { ':now': { N: String(Math.floor(now / 1000)) } },
        }),
      );
      await client.send(
        new DeleteItemCommand({
          TableName: tableName,
          Key,
          ConditionExpression: 'release_code = :code',
          ExpressionAttributeValues: { ':code': { S: 'x'.repeat(32) } },
        }),
      );
    };
    const warmedMs = await warmUntilSteady(clients, [bareCycle, lockCycle]);
    log(`uncontended, ${clients} client(s): DynamoDB Local warm after ${(warmedMs / 1000).toFixed(0)} s`);
    // Alternate lock and ceiling in ABBA order so that drift in machine load falls on both alike;
    // sixteen rounds a side, because one round on this shared machine swings by 10 to 30%.
    let lockCycles = 0;
    let bareCycles = 0;
    let lockMs = 0;
    let bareMs = 0;
    const roundMs = durationMs / 4;
    const rounds: string[] = [];
    for (const side of Array.from({ length: 8 }, () => ['bare', 'lock', 'lock', 'bare']).flat()) {
      const result = await runLoops(clients, roundMs, side === 'lock' ? lockCycle : bareCycle);
      rounds.push(`${side} ${result.perSecond.toFixed(0)}`);
      if (side === 'lock') {
        lockCycles += result.cycles;
        lockMs += result.elapsedMs;
      } else {
        bareCycles += result.cycles;
        bareMs += result.elapsedMs;
      }
    }
    log(`uncontended, ${clients} client(s), cycles/s by round: ${rounds.join(', ')}`);
    const lockRate = (lockCycles * 1000) / lockMs;
    const bareRate = (bareCycles * 1000) / bareMs;
    log(`uncontended, ${clients} client(s): lock ${lockRate.toFixed(0)}/s, bare ${bareRate.toFixed(0)}/s`);
    rows.push({
      case: `uncontended cycles/s, ${clients} client(s): lock`,
      value: lockRate,
      unit: 'cycles/s',
    });
    rows.push({
      case: `uncontended cycles/s, ${clients} client(s): bare put+delete`,
      value: bareRate,
      unit: 'cycles/s',
    });
    rows.push({
      case: `uncontended lock / bare ceiling, ${clients} client(s)`,
      value: lockRate / bareRate,
      unit: 'ratio',
      note: 'target >= 0.90',
    });
  }

  // Each client reuses one object, then (as a Lambda handler is written) makes a new one per
  // acquire, which learns only from the process's hints.
  for (const [concurrency, fresh] of [1, 5, 50].flatMap((k) => [[k, false] as const, [k, true] as const])) {
    const clients = concurrency * 2;
    const resourceId = `contended-${concurrency}${fresh ? '-fresh' : ''}`;
    const objectFor = () => new DynamoDbLock(resourceId, { tableName, client, concurrency, logger: quiet });
    const locks = Array.from({ length: clients }, objectFor);
    const writesBefore = countWrites();
    const readsBefore = countReads();
    const result = await runLoops(clients, durationMs, async (index) => {
      const lock = fresh ? objectFor() : (locks[index] as DynamoDbLock);
      await lock.acquire();
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
      await lock.release();
    });
    const writes = (countWrites() - writesBefore) / result.cycles;
    const reads = (countReads() - readsBefore) / result.cycles;
    const label = `K=${concurrency}, ${clients} clients${fresh ? ', a new object per acquire' : ''}`;
    log(`contended, ${label}: ${result.perSecond.toFixed(0)} grants/s, ${writes.toFixed(2)} writes/grant`);
    rows.push({
      case: `contended ${label}: grants/s`,
      value: result.perSecond,
      unit: 'grants/s',
    });
    rows.push({
      case: `contended ${label}: write requests/grant`,
      value: writes,
      unit: 'writes',
      note: fresh && concurrency > 1 ? 'target <= 2.5' : 'target <= 3 (acquire writes + the release)',
    });
    rows.push({
      case: `contended ${label}: read requests/grant`,
      value: reads,
      unit: 'reads',
    });
  }
  client.destroy();
  return rows;
}

import { createLockTable } from '../core/create-tables.js';
import { DynamoDbLock, type DynamoDbLockOptions } from '../core/dynamo-db-lock.js';
import type { BenchRow } from './core-bench.js';
import { countingDynamoDbClient, runLoops } from './measure.js';

const quiet = { warn: () => {} };

/**
 * What a start rate and several permits cost per grant, in write requests (each transaction is
 * one request; on AWS each of its items costs two write units) and read requests, uncontended
 * (one client, a rate far above its pace) and rate-bound (ten clients against 20 starts a second).
 */
export async function runRateBench(
  endpoint: string,
  seconds: number,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const { client, writes, reads, count } = countingDynamoDbClient(endpoint);
  const tableName = `bench_rate_${Date.now()}`;
  await createLockTable(client, tableName);
  const rows: BenchRow[] = [];
  const cases: Array<[string, number, DynamoDbLockOptions]> = [
    ['no rate, 1 permit', 1, {}],
    ['rate, 1 permit', 1, { rate: { limit: 100_000, periodSeconds: 1, burst: 1000 } }],
    [
      'rate, 3 of 5 permits',
      1,
      { concurrency: 5, permits: 3, rate: { limit: 100_000, periodSeconds: 1, burst: 1000 } },
    ],
    [
      'rate 20/s burst 1, 10 clients',
      10,
      { concurrency: 10, rate: { limit: 20, periodSeconds: 1, burst: 1 } },
    ],
  ];
  for (const [label, clients, options] of cases) {
    const resourceId = `rate-bench-${label.replace(/\W+/g, '-')}`;
    const locks = Array.from(
      { length: clients },
      () => new DynamoDbLock(resourceId, { tableName, client, logger: quiet, ...options }),
    );
    const before = { writes: writes(), reads: reads(), transactions: count('TransactWriteItems') };
    const result = await runLoops(clients, seconds * 1000, async (index) => {
      const lock = locks[index] as DynamoDbLock;
      await lock.acquire();
      await lock.release();
    });
    const perGrant = (value: number) => value / result.cycles;
    const writeRequests = perGrant(writes() - before.writes);
    const transactions = perGrant(count('TransactWriteItems') - before.transactions);
    const readRequests = perGrant(reads() - before.reads);
    log(
      `${label}: ${result.perSecond.toFixed(1)} grants/s, ${writeRequests.toFixed(2)} write requests/grant (${transactions.toFixed(2)} transactions), ${readRequests.toFixed(2)} reads/grant`,
    );
    rows.push({ case: `${label}: grants/s`, value: result.perSecond, unit: 'grants/s' });
    rows.push({
      case: `${label}: write requests/grant (acquire + release)`,
      value: writeRequests,
      unit: 'writes',
      ...(label === 'no rate, 1 permit' ? { note: 'target 2' } : {}),
    });
    rows.push({ case: `${label}: transactions/grant`, value: transactions, unit: 'transactions' });
    rows.push({ case: `${label}: read requests/grant`, value: readRequests, unit: 'reads' });
  }
  client.destroy();
  return rows;
}

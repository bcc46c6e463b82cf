import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createLockTable, createRequestTable } from '../core/create-tables.js';
import type { Lease } from '../core/lease.js';
import { releaseAndHandOff } from '../core/waiting/release-and-hand-off.js';
import type { WaitingStore } from '../core/waiting/waiting-store.js';
import { countItemTraffic, type ItemTraffic } from '../local/count-requests.js';
import type { BenchRow } from './core-bench.js';
import { queueBehindHolder } from './queue-fill.js';

/** Queue lengths measured, and the hand-overs measured at each. */
const queueLengths = [10, 100, 1_000, 5_000];
const grantsPerLength = 10;

/**
 * What one grant costs as the queue grows: a mutex with W requests queued behind its holder, then
 * `grantsPerLength` hand-overs (a release passing the slot to the oldest waiter, as the release
 * step does), counting items read and written, Query pages and the capacity units DynamoDB Local
 * reports. The waiting requests are recorded as the acquire step records them (made-up tokens of
 * 2,048 characters, the largest Step Functions issues).
 */
export async function runQueueBench(endpoint: string, log: (line: string) => void): Promise<BenchRow[]> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const traffic = countItemTraffic(client);
  const tableName = `bench_queue_${Date.now()}`;
  const store: WaitingStore = {
    client,
    tableName,
    requestTableName: `${tableName}_requests`,
    clock: Date.now,
    logger: { warn() {} },
  };
  await createLockTable(client, store.tableName);
  await createRequestTable(client, store.requestTableName);
  const rows: BenchRow[] = [];
  const perGrant = new Map<number, ItemTraffic>();
  for (const waiters of queueLengths) {
    const resourceId = `queue-${waiters}`;
    const filling = performance.now();
    const unfilled = traffic.snapshot();
    let holder: Lease = await queueBehindHolder(store, resourceId, waiters, 2_048);
    const filled = traffic.snapshot();
    log(`queue of ${waiters} recorded in ${Math.round(performance.now() - filling)} ms`);
    rows.push({
      case: `per recorded request, W = ${waiters}: write units`,
      value: (filled.writeUnits - unfilled.writeUnits) / waiters,
      unit: 'WCU',
      note: 'the record transaction, token of 2,048 characters',
    });
    const before = traffic.snapshot();
    for (let grant = 0; grant < grantsPerLength; grant++) {
      const next = (await releaseAndHandOff(store, holder)).pass?.grants[0];
      if (!next) throw new Error(`no waiter of ${resourceId} got the slot at grant ${grant}`);
      holder = next.lease;
    }
    const after = traffic.snapshot();
    const per = (key: keyof ItemTraffic) => (after[key] - before[key]) / grantsPerLength;
    perGrant.set(waiters, {
      itemsRead: per('itemsRead'),
      itemsWritten: per('itemsWritten'),
      queryPages: per('queryPages'),
      readUnits: per('readUnits'),
      writeUnits: per('writeUnits'),
    });
    const cost = perGrant.get(waiters) as ItemTraffic;
    log(`W = ${waiters}: per grant ${JSON.stringify(cost)}`);
    rows.push(
      { case: `per grant, W = ${waiters}: items read`, value: cost.itemsRead, unit: 'items' },
      { case: `per grant, W = ${waiters}: items written`, value: cost.itemsWritten, unit: 'items' },
      { case: `per grant, W = ${waiters}: Query pages`, value: cost.queryPages, unit: 'pages' },
      { case: `per grant, W = ${waiters}: read units`, value: cost.readUnits, unit: 'RCU' },
      { case: `per grant, W = ${waiters}: write units`, value: cost.writeUnits, unit: 'WCU' },
    );
  }
  const smallest = perGrant.get(queueLengths[0] as number) as ItemTraffic;
  const largest = perGrant.get(queueLengths.at(-1) as number) as ItemTraffic;
  rows.push({
    case: `read units per grant, W = ${queueLengths.at(-1)} over W = ${queueLengths[0]}`,
    value: largest.readUnits / smallest.readUnits,
    unit: 'ratio',
    note: 'target 1 (flat)',
  });
  client.destroy();
  return rows;
}

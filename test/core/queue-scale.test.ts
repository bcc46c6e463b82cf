import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { queueBehindHolder as fillQueue } from '../../bench/queue-fill.js';
import type { Lease } from '../../core/lease.js';
import type { LockStore } from '../../core/store.js';
import { grantWaiting } from '../../core/waiting/grant-waiting.js';
import { readResource } from '../../core/waiting/read-resource.js';
import { releaseAndHandOff } from '../../core/waiting/release-and-hand-off.js';
import { countItemTraffic, type ItemTraffic } from '../../local/count-requests.js';
import { freshLockTable, uniqueResource } from '../support/dynamodb.js';

/*
 * The cost of a grant must not grow with the queue: a pass reads the slots and the head of the
 * queue, never every waiting request. Measured in items read and Query pages on DynamoDB Local,
 * with the same resource shape at two queue lengths.
 */

let tableName: string;
let store: LockStore;
let traffic: { snapshot(): ItemTraffic };

beforeAll(async () => {
  tableName = await freshLockTable('scale');
  const client = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1' });
  traffic = countItemTraffic(client);
  store = { client, tableName, clock: Date.now, logger: { warn() {} } };
});

/** A mutex held with a long lease and `waiters` requests queued behind it. */
async function queueBehindHolder(waiters: number): Promise<{ resourceId: string; holder: Lease }> {
  const resourceId = uniqueResource('queue');
  return { resourceId, holder: await fillQueue(store, resourceId, waiters) };
}

/** What `action` read and wrote. */
async function measured(action: () => Promise<unknown>): Promise<ItemTraffic> {
  const before = traffic.snapshot();
  await action();
  const after = traffic.snapshot();
  const delta = (key: keyof ItemTraffic) => after[key] - before[key];
  return {
    itemsRead: delta('itemsRead'),
    itemsWritten: delta('itemsWritten'),
    queryPages: delta('queryPages'),
    readUnits: delta('readUnits'),
    writeUnits: delta('writeUnits'),
  };
}

describe('the queue of waiting requests', () => {
  it('lets a pass read the same few items with 30 or 600 waiters', async () => {
    const short = await queueBehindHolder(30);
    const long = await queueBehindHolder(600);
    const passShort = await measured(() => grantWaiting(store, short.resourceId));
    const passLong = await measured(() => grantWaiting(store, long.resourceId));
    expect(passLong).toEqual(passShort);
    // The head of the queue (a window of 20 entries) and the one slot: nothing per waiter.
    expect(passLong.itemsRead).toBeLessThanOrEqual(21);
    expect(passLong.queryPages).toBe(2);
  }, 120_000);

  it('hands a released slot to the oldest waiter at the same cost with 30 or 600 waiters', async () => {
    const short = await queueBehindHolder(30);
    const long = await queueBehindHolder(600);
    const handShort = await measured(() => releaseAndHandOff(store, short.holder));
    const handLong = await measured(() => releaseAndHandOff(store, long.holder));
    expect(handLong).toEqual(handShort);
    expect(handLong.itemsRead).toBeLessThanOrEqual(22);
  }, 120_000);

  it('grants in arrival order, each hand-over at the cost of the first', async () => {
    const waiters = 60;
    const { resourceId, holder } = await queueBehindHolder(waiters);
    const arrival = (await readResource(store, resourceId)).requests.map((request) => request.taskToken);
    let current = holder;
    const granted: string[] = [];
    const costs: ItemTraffic[] = [];
    for (let turn = 0; turn < waiters; turn++) {
      let grant: Awaited<ReturnType<typeof releaseAndHandOff>>['pass'];
      costs.push(await measured(async () => (grant = (await releaseAndHandOff(store, current)).pass)));
      const [next] = grant?.grants ?? [];
      if (!next) throw new Error(`turn ${turn}: nobody got the slot`);
      granted.push(next.request.taskToken);
      current = next.lease;
    }
    expect(granted).toEqual(arrival);
    const reads = costs.map((cost) => cost.itemsRead);
    // The window shrinks only in the last 20 turns; before that every hand-over reads the same.
    expect(new Set(reads.slice(0, waiters - 20)).size).toBe(1);
    expect(Math.max(...reads)).toBeLessThanOrEqual(22);
  }, 120_000);
});

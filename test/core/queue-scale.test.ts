import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { queueBehindHolder as fillQueue } from '../../bench/queue-fill.js';
import type { Lease } from '../../core/lease.js';
import { extendSlot } from '../../core/operations/extend-slot.js';
import { releaseSlot } from '../../core/operations/release-slot.js';
import { takeSlot } from '../../core/operations/take-slot.js';
import { grantWaiting } from '../../core/waiting/grant-waiting.js';
import { handOver } from '../../core/waiting/hand-over.js';
import { extendGrant, regrant } from '../../core/waiting/lifecycle.js';
import { queueKeyOf, readQueueHead, readQueueWindow } from '../../core/waiting/queue.js';
import { readResource } from '../../core/waiting/read-resource.js';
import { recordWaiting } from '../../core/waiting/record-waiting.js';
import { releaseAndHandOff } from '../../core/waiting/release-and-hand-off.js';
import { releaseCodeOf } from '../../core/waiting/request.js';
import type { WaitingStore } from '../../core/waiting/waiting-store.js';
import { countItemTraffic, type ItemTraffic } from '../../local/count-requests.js';
import { freshWaitingTables, uniqueResource } from '../support/dynamodb.js';

/*
 * The cost of a grant must not grow with the queue: a pass reads the slots and the head of the
 * queue, never every waiting request. Measured in items read and Query pages on DynamoDB Local,
 * with the same resource shape at two queue lengths.
 */

let store: WaitingStore;
let traffic: { snapshot(): ItemTraffic };

beforeAll(async () => {
  const tables = await freshWaitingTables('scale');
  const client = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1' });
  traffic = countItemTraffic(client);
  store = { client, ...tables, clock: Date.now, logger: { warn() {} } };
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

describe('a regranted request back in the queue', () => {
  it('never puts its entry over the entry of a request that took its old place meanwhile', async () => {
    const resourceId = uniqueResource('regrant-place');
    const arrivedMs = Date.now();
    let nowMs = arrivedMs;
    const at: WaitingStore = { ...store, clock: () => nowMs };
    const request = (token: string) => ({
      resourceId,
      concurrency: 1,
      leaseMs: 1_000,
      waitUntilMs: Number.POSITIVE_INFINITY,
      taskToken: token,
    });
    // R waits, then is granted the free slot: its entry is deleted.
    const holder = await fillQueue(at, resourceId, 0);
    const r = await recordWaiting(at, request('token-r'), { retryChain: 'r', dueMs: arrivedMs + 60_000 });
    if (r.kind !== 'recorded') throw new Error('R should be recorded');
    await releaseSlot(at, holder);
    const [grant] = (await grantWaiting(at, resourceId)).grants;
    if (!grant) throw new Error('R should be granted');
    // Q arrives in the same millisecond with the same three digits: R's old place is free, Q takes it.
    const sameDigits = (token: string) => queueKeyOf(arrivedMs, releaseCodeOf(token)) === r.request.queueKey;
    let index = 0;
    while (!sameDigits(`token-q-${index}`)) index++;
    const q = await recordWaiting(at, request(`token-q-${index}`), {
      retryChain: 'q',
      dueMs: arrivedMs + 60_000,
    });
    if (q.kind !== 'recorded') throw new Error('Q should be recorded');
    expect(q.request.queueKey).toBe(r.request.queueKey);
    // R's grant lapses unanswered: it queues again, at a free place of its millisecond.
    nowMs = grant.lease.expiresAtMs + 1;
    expect(await regrant(at, { ...grant.request, state: 'granted' }, grant.lease)).toBe(true);
    const { entries } = await readQueueHead(at, resourceId, 20);
    expect(entries.map((entry) => entry.requestKey).sort()).toEqual(
      [r.request.requestKey, q.request.requestKey].sort(),
    );
  });
});

describe('an answer that extends a grant first', () => {
  it('never shortens a lease that its workflow has extended meanwhile', async () => {
    const resourceId = uniqueResource('extended');
    const holder = await fillQueue(store, resourceId, 0);
    const recorded = await recordWaiting(
      store,
      {
        resourceId,
        concurrency: 1,
        leaseMs: 2_000,
        waitUntilMs: Number.POSITIVE_INFINITY,
        taskToken: 'token-ext',
      },
      { retryChain: 'c', dueMs: Date.now() + 60_000 },
    );
    if (recorded.kind !== 'recorded') throw new Error('the request should be recorded');
    await releaseSlot(store, holder);
    const [grant] = (await grantWaiting(store, resourceId)).grants;
    if (!grant) throw new Error('the request should be granted');
    // The grant reached the workflow, which extended its lease by ten minutes with the extend
    // step; the record never heard of either (the granter died before marking it answered).
    const { expiresAtMs: workflowEndMs } = await extendSlot(store, grant.lease, 600_000);
    // Another answerer (the sweeper) finds the recorded lease near its end and extends it first.
    const { concurrencyId, expiresAtMs, fencingToken } = grant.lease;
    const extended = await extendGrant(
      store,
      { ...grant.request, state: 'granted' },
      { concurrencyId, expiresAtMs, fencingToken },
      Date.now() + 2_000,
    );
    expect(extended?.expiresAtMs).toBeGreaterThanOrEqual(workflowEndMs);
    const slot = (await readResource(store, resourceId)).slots.get(concurrencyId);
    expect(Number(slot?.expires_ms?.N)).toBe(workflowEndMs);
  });
});

describe('a pass whose window is stale', () => {
  /** Items a grant transaction writes: the slot, the record, the primary-slot check, the entry. */
  const grantItems = 4;

  /**
   * Four slots held and six requests waiting behind them; the window is read, then three of the
   * holders hand their slots to the three oldest: the window still shows them waiting.
   */
  async function staleAfterThreeHandOvers(freeFirst: boolean) {
    const resourceId = uniqueResource('stale');
    const holders: Lease[] = [];
    for (let slot = 0; slot < 4; slot++) {
      const taken = await takeSlot(store, {
        resourceId,
        concurrencyId: slot,
        releaseCode: String(slot).repeat(32),
        durationMs: 3_600_000,
      });
      if (!taken.granted) throw new Error(`slot ${slot} should be free`);
      holders.push(taken.lease);
    }
    const tokens: string[] = [];
    for (let index = 0; index < 6; index++) {
      const taskToken = `token-${resourceId}-${index}`;
      tokens.push(taskToken);
      await recordWaiting(
        store,
        { resourceId, concurrency: 4, leaseMs: 3_600_000, waitUntilMs: Number.POSITIVE_INFINITY, taskToken },
        { retryChain: 'chain', dueMs: Date.now() + 3_600_000 },
      );
    }
    const [first, ...others] = holders as [Lease, ...Lease[]];
    if (freeFirst) await releaseSlot(store, first);
    const window = await readQueueWindow(store, resourceId);
    for (const holder of others) {
      const { pass } = await releaseAndHandOff(store, holder);
      expect(pass?.grants.map((grant) => grant.request.taskToken)).toEqual([tokens[others.indexOf(holder)]]);
    }
    return { resourceId, first, window, tokens };
  }

  // Walking on paid a read and a write for each entry let in meanwhile: 20 entries a window and
  // five rounds made 26 s releases among 200 rate-limited executions on the local AWS.
  it('steps back at the first request let in by another granter, and the fresh look grants the next in line', async () => {
    const { resourceId, window, tokens } = await staleAfterThreeHandOvers(true);
    let pass: Awaited<ReturnType<typeof grantWaiting>> | undefined;
    const cost = await measured(async () => (pass = await grantWaiting(store, resourceId, window)));
    expect(pass?.grants.map((grant) => grant.request.taskToken)).toEqual([tokens[3]]);
    // One stale entry read and dropped (a delete and its condition check), then the grant.
    expect(cost.itemsWritten).toBeLessThanOrEqual(2 + grantItems);
  });

  it('ends a hand-over at the first request let in by another granter', async () => {
    const { first, window } = await staleAfterThreeHandOvers(false);
    const cost = await measured(() => handOver(store, first, window));
    expect(cost.itemsWritten).toBeLessThanOrEqual(2);
  });
});

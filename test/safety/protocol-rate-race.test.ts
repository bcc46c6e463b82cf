import { beforeAll, describe, expect, it } from 'vitest';
import { isHeld } from '../../core/item.js';
import { takeSlot } from '../../core/operations/take-slot.js';
import { rateCell, readRateState } from '../../core/rate.js';
import { firstAttempt } from '../../core/waiting/first-attempt.js';
import { grantWaiting } from '../../core/waiting/grant-waiting.js';
import { handOver } from '../../core/waiting/hand-over.js';
import { readQueueWindow, readRequest, readSlots } from '../../core/waiting/queue.js';
import { recordWaiting } from '../../core/waiting/record-waiting.js';
import { releaseAndHandOff } from '../../core/waiting/release-and-hand-off.js';
import type { StoredRequest } from '../../core/waiting/request.js';
import type { WaitingStore } from '../../core/waiting/waiting-store.js';
import { dynamoDbClient, freshWaitingTables, uniqueResource } from '../support/dynamodb.js';
import { FakeClock } from './support/fake-clock.js';

/*
 * A rate-limited request has two granters that may act on it at once: a release's hand-over
 * (the slot passes from its holder) and a retry turn's pass (a free slot). Both must check and
 * advance the rate in the grant's own transaction, so that whichever lands first counts the one
 * start the rate allows and the other is refused by the rate item, not by what it read before.
 */

let tables: { tableName: string; requestTableName: string };

beforeAll(async () => {
  tables = await freshWaitingTables('rate-race');
});

function storeAt(clock: () => number): WaitingStore {
  return { client: dynamoDbClient(), ...tables, clock, logger: { warn() {} } };
}

// One start a minute, no burst: after one grant the rate is closed for the rest of the test.
const oneAMinute = rateCell({ limit: 1, periodSeconds: 60, burst: 1 });

/** Slot 0 held (by a holder who will release it), slot 1 free, two rate-limited requests waiting. */
async function setUp(store: WaitingStore, resourceId: string, tick: () => void = () => {}) {
  const holder = await takeSlot(store, {
    resourceId,
    concurrencyId: 0,
    releaseCode: 'e'.repeat(32),
    durationMs: 30_000,
  });
  if (!holder.granted) throw new Error('slot 0 should be free');
  const requests: StoredRequest[] = [];
  for (const index of [1, 2]) {
    // One millisecond apart: arrival order is the queue's order.
    tick();
    const recorded = await recordWaiting(
      store,
      {
        resourceId,
        concurrency: 2,
        leaseMs: 30_000,
        waitUntilMs: store.clock() + 120_000,
        taskToken: `token-${resourceId}-${index}-`.padEnd(60, 'x'),
        rate: oneAMinute,
      },
      { retryChain: `chain-${index}`, dueMs: store.clock() + 60_000 },
    );
    if (recorded.kind !== 'recorded')
      throw new Error(`request ${index} should be recorded (${recorded.kind})`);
    requests.push(recorded.request);
  }
  return { holder: holder.lease, requests };
}

async function heldSlots(store: WaitingStore, resourceId: string): Promise<number> {
  const { slots } = await readSlots(store, resourceId, 2);
  return [...slots.values()].filter((item) => isHeld(item, Date.now())).length;
}

async function states(store: WaitingStore, requests: StoredRequest[]) {
  return Promise.all(
    requests.map(
      async (request) => (await readRequest(store, request.resourceId, request.requestKey))?.state,
    ),
  );
}

describe('a hand-over and a retry turn on a rate-limited request', () => {
  it('racing at once: one grant, one start counted, the second request refused by the rate (20 rounds)', async () => {
    const store = storeAt(Date.now);
    for (let round = 0; round < 20; round++) {
      const resourceId = uniqueResource('rate-race');
      const { holder, requests } = await setUp(store, resourceId);
      const [release, pass] = await Promise.all([
        releaseAndHandOff(store, holder),
        grantWaiting(store, resourceId),
      ]);
      const grants = [...(release.pass?.grants ?? []), ...pass.grants];
      // The oldest got the one start; the next one waits for the rate, though a slot is free.
      expect(grants.map((grant) => grant.request.requestKey)).toEqual([requests[0]?.requestKey]);
      expect(await states(store, requests)).toEqual(['granted', 'waiting']);
      expect(release.released).toBe(true);
      expect(await heldSlots(store, resourceId)).toBe(1);
      // Counted once: the next start is one emission interval after the grant's own start.
      const grant = grants[0];
      const rate = await readRateState(store, resourceId);
      expect(rate?.nextStartAtMs).toBe((grant?.lease.expiresAtMs ?? 0) - 30_000 + 60_000);
      // Whoever left the second waiting said when it may start.
      const refusedBy = [release.pass, pass].find((seen) => seen?.rateNotBeforeMs !== undefined);
      expect(refusedBy?.rateNotBeforeMs).toBe(rate?.nextStartAtMs);
    }
  }, 60_000);

  it('a hand-over that read the rate open before a pass used it is refused by the rate item, and keeps its slot', async () => {
    const clock = new FakeClock(Date.now());
    const store = storeAt(clock.now);
    const resourceId = uniqueResource('rate-stale');
    const { holder, requests } = await setUp(store, resourceId, () => clock.advanceBy(1));
    // The release reads the head of the queue (the rate item still idle), then stalls.
    const staleWindow = await readQueueWindow(store, resourceId);
    // Meanwhile a retry turn's pass grants the oldest on the free slot, counting the start.
    clock.advanceBy(100);
    const pass = await grantWaiting(store, resourceId);
    expect(pass.grants.map((grant) => grant.request.requestKey)).toEqual([requests[0]?.requestKey]);
    // The hand-over goes on with what it read: the first is granted already, the second is next.
    clock.advanceBy(100);
    const handed = await handOver(store, holder, staleWindow);
    expect(handed).toBeUndefined();
    expect(await states(store, requests)).toEqual(['granted', 'waiting']);
    // Nothing changed hands: the holder still holds slot 0 (its release frees it next).
    const slot0 = (await readSlots(store, resourceId, 1)).slots.get(0);
    expect(slot0 && isHeld(slot0, clock.now())).toBe(true);
    expect((await readRateState(store, resourceId))?.nextStartAtMs).toBe(clock.now() - 100 + 60_000);
  });

  it('a release whose head may not start yet frees the slot and says when the head may start', async () => {
    const clock = new FakeClock(Date.now());
    const store = storeAt(clock.now);
    const resourceId = uniqueResource('rate-closed');
    const { holder, requests } = await setUp(store, resourceId, () => clock.advanceBy(1));
    const first = await grantWaiting(store, resourceId);
    expect(first.grants.map((grant) => grant.request.requestKey)).toEqual([requests[0]?.requestKey]);
    clock.advanceBy(5_000);
    const { released, pass } = await releaseAndHandOff(store, holder);
    expect(released).toBe(true);
    expect(pass?.grants).toEqual([]);
    expect(pass?.waiting.map((entry) => entry.requestKey)).toEqual([requests[1]?.requestKey]);
    expect(pass?.rateNotBeforeMs).toBe(clock.now() - 5_000 + 60_000);
    // Slot 0 is free (not kept for the head), slot 1 is the first grant's.
    expect(await heldSlots(store, resourceId)).toBe(1);
    // At that moment the head starts, on either slot.
    clock.advanceTo((pass?.rateNotBeforeMs ?? 0) + 1);
    const later = await grantWaiting(store, resourceId);
    expect(later.grants.map((grant) => grant.request.requestKey)).toEqual([requests[1]?.requestKey]);
  });
});

describe('a repeated first attempt on a rate-limited resource', () => {
  it('finds the slot its earlier delivery took (its answer lost) though others queued since, and is answered with that lease', async () => {
    const store = storeAt(Date.now);
    const resourceId = uniqueResource('rate-repeat');
    const request = {
      resourceId,
      concurrency: 2,
      leaseMs: 30_000,
      waitUntilMs: Date.now() + 60_000,
      taskToken: `token-${resourceId}-repeat-`.padEnd(60, 'x'),
      rate: oneAMinute,
    };
    // The first delivery takes its slot and the rate's one start; its invocation ends before it answers.
    const first = await firstAttempt(store, request);
    expect(first.kind).toBe('granted');
    // Another request arrives and queues: the rate is closed for a minute.
    const other = await recordWaiting(
      store,
      { ...request, taskToken: `token-${resourceId}-other-`.padEnd(60, 'x') },
      { retryChain: 'chain-other', dueMs: Date.now() + 60_000 },
    );
    expect(other.kind).toBe('recorded');
    // The redelivery must recognise the lease it holds, not queue behind the other (nobody would answer it).
    const repeat = await firstAttempt(store, request);
    expect(repeat.kind).toBe('granted');
    if (repeat.kind !== 'granted' || first.kind !== 'granted') return;
    expect(repeat.fresh).toBe(false);
    expect(repeat.lease.fencingToken).toBe(first.lease.fencingToken);
    expect(repeat.lease.concurrencyId).toBe(first.lease.concurrencyId);
    expect(await heldSlots(store, resourceId)).toBe(1);
  });
});

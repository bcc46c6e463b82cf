import { beforeAll, describe, expect, it } from 'vitest';
import { leaseEndMs } from '../../core/item.js';
import { releaseSlot } from '../../core/operations/release-slot.js';
import { takeSlot } from '../../core/operations/take-slot.js';
import { grantSlot } from '../../core/waiting/grant-transaction.js';
import { grantWaiting } from '../../core/waiting/grant-waiting.js';
import { readQueueWindow, readRequest, readSlots } from '../../core/waiting/queue.js';
import { recordWaiting } from '../../core/waiting/record-waiting.js';
import type { WaitingStore } from '../../core/waiting/waiting-store.js';
import { dynamoDbClient, freshWaitingTables, uniqueResource } from '../support/dynamodb.js';
import { FakeClock } from './support/fake-clock.js';

/*
 * Chaos seed 96198478 (CHAOS=long, no sweeper): two grant passes for one waiting request, a
 * retry turn and a cleanup's pass, read the freed slot with the same fencing token; the one
 * whose clock read was later landed first (#65) and was answered (#67, a lease to 13582 ms);
 * the other, built 1.3 s earlier, landed next (#66). Both computed the same token (the slot's
 * token plus one) with the same release code, so the second took the first's result for its
 * own and wrote its own, shorter lease end (12283 ms) onto the slot and the record. A library
 * client then took the slot at 12732 ms, as the table allowed, while the workflow held it.
 * Replayed here on DynamoDB Local, in that order, with one clock per pass.
 */

let tables: { tableName: string; requestTableName: string };

beforeAll(async () => {
  tables = await freshWaitingTables('two-granters');
});

function storeAt(clock: FakeClock): WaitingStore {
  return { client: dynamoDbClient(), ...tables, clock: clock.now, logger: { warn() {} } };
}

async function slotItem(store: WaitingStore, resourceId: string) {
  return (await readSlots(store, resourceId, 1)).slots.get(0);
}

describe('two grant passes for one request', () => {
  it('never lets the later-landing pass shorten the lease the first one granted and answered', async () => {
    const resourceId = uniqueResource('two-granters');
    const start = Date.now();
    const late = new FakeClock(start);
    const early = new FakeClock(start);
    const store = storeAt(early);
    // A holder, one request queued behind it (lease 5 s, as in the scenario), then the release.
    const holder = await takeSlot(store, {
      resourceId,
      concurrencyId: 0,
      releaseCode: 'f'.repeat(32),
      durationMs: 5_000,
    });
    if (!holder.granted) throw new Error('slot 0 should be free');
    const recorded = await recordWaiting(
      store,
      {
        resourceId,
        concurrency: 1,
        leaseMs: 5_000,
        waitUntilMs: start + 60_000,
        taskToken: `token-${resourceId}-3-`.padEnd(60, 'x'),
      },
      { retryChain: 'chain', dueMs: start + 60_000 },
    );
    if (recorded.kind !== 'recorded') throw new Error(`the request should be recorded (${recorded.kind})`);
    await releaseSlot(store, holder.lease);

    // The early pass reads the head and the request, then stalls before its grant transaction.
    early.advanceBy(1_000);
    const earlyWindow = await readQueueWindow(store, resourceId);
    const earlyRequest = await readRequest(store, resourceId, recorded.request.requestKey);
    if (!earlyRequest) throw new Error('the request should be stored');

    // The late pass, 1.3 s on, grants the slot; its lease is what the workflow is answered.
    late.advanceTo(early.now() + 1_300);
    const latePass = await grantWaiting(storeAt(late), resourceId);
    expect(latePass.grants).toHaveLength(1);
    const answered = latePass.grants[0]?.lease;
    if (!answered) throw new Error('the late pass should grant');

    // The early pass's transaction lands now, with its own clock read.
    const outcome = await grantSlot(store, earlyRequest, 0, earlyWindow.slots.get(0));

    // It must not count as a grant (it would be answered a shorter lease), and the slot and the
    // record must keep the lease that was granted first.
    expect(outcome.kind).not.toBe('granted');
    const slot = await slotItem(store, resourceId);
    expect(slot && leaseEndMs(slot)).toBe(answered.expiresAtMs);
    const stored = await readRequest(store, resourceId, recorded.request.requestKey);
    expect(stored?.granted?.expiresAtMs).toBe(answered.expiresAtMs);
    expect(stored?.granted?.fencingToken).toBe(answered.fencingToken);
  });
});

import type { Context, EventBridgeEvent } from 'aws-lambda';
import { findOwned } from '../core/waiting/find-owned.js';
import { withdrawEnded } from '../core/waiting/lifecycle.js';
import type { ReleasedLease } from '../core/waiting/release-and-hand-off.js';
import { firstRequestKey, slotsOf } from '../core/waiting/request.js';
import { lockStore } from './lib/clients.js';
import { executionEnded } from './lib/execution.js';
import { logger } from './lib/logger.js';
import { emitMetric, metricName } from './lib/metrics.js';
import { passAfterLeaving, releaseAndSettle } from './lib/settle.js';
import { foreignEventReason } from './lib/status-event-origin.js';

/** The part of "Step Functions Execution Status Change" this handler reads. */
type StatusChangeDetail = { executionArn: string; stateMachineArn?: string; status: string };

const endedBadly = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * Frees what a failed, timed-out or aborted execution holds, and withdraws what it waits for,
 * so a dead execution never keeps a slot until its lease ends, nor receives one. Slots are
 * handed on to the next waiters at once. The event alone is no evidence: one that Step Functions
 * cannot have sent here (another source or account, a state machine that is not a caller) is
 * ignored, and Step Functions itself must say the execution is no longer running
 * (`DescribeExecution`) before anything is freed. Duplicate or late events find nothing of
 * theirs left.
 *
 * @example
 * // EventBridge rule: source aws.states, detail-type "Step Functions Execution Status Change",
 * // detail.status FAILED | TIMED_OUT | ABORTED -> this function.
 */
export async function handler(
  event: EventBridgeEvent<'Step Functions Execution Status Change', StatusChangeDetail>,
  context?: Context,
): Promise<{ released: number; withdrawn: number }> {
  const { executionArn, status } = event.detail ?? {};
  if (typeof executionArn !== 'string' || !endedBadly.has(status)) return { released: 0, withdrawn: 0 };
  const foreign = foreignEventReason(event, context?.invokedFunctionArn);
  if (foreign) {
    logger.warn('ignored a status event that Step Functions cannot have sent here', {
      executionArn,
      foreign,
    });
    return { released: 0, withdrawn: 0 };
  }
  if (!(await executionEnded(executionArn))) {
    logger.warn('ignored a status event of an execution that is still running', { executionArn, status });
    return { released: 0, withdrawn: 0 };
  }
  const store = lockStore(context);
  let released = 0;
  let withdrawn = 0;
  const owned = await findOwned(store, executionArn);
  // Requests first, granted ones too: a slot freed below must not be handed to this dead execution.
  const slots: ReleasedLease[] = owned.filter((owned) => owned.concurrencyId >= 0);
  const leftQueues = new Set<string>();
  for (const item of owned.filter((owned) => owned.concurrencyId <= firstRequestKey)) {
    const request = await withdrawEnded(store, {
      resourceId: item.resourceId,
      requestKey: item.concurrencyId,
    });
    if (request && request.state !== 'withdrawn') withdrawn++;
    if (request?.state === 'waiting') leftQueues.add(request.resourceId);
    // Its grant may have landed after the owner's slots were looked up: free those slots too
    // (all of them, for a grant of several permits: the record lists them).
    for (const { concurrencyId } of request?.granted ? slotsOf(request.granted) : [])
      slots.push({ resourceId: item.resourceId, concurrencyId, releaseCode: request?.releaseCode ?? '' });
  }
  for (const lease of byLease(slots)) {
    if ((await releaseAndSettle(store, lease)).released) released += lease.slots?.length ?? 1;
  }
  // A waiter that left may have been the head: the next one must be woken.
  for (const resourceId of leftQueues) await passAfterLeaving(store, resourceId);
  if (released > 0) emitMetric(metricName.slotsFreedByCleanup, released);
  logger.info('cleaned up after an execution', { executionArn, status, released, withdrawn });
  return { released, withdrawn };
}

/**
 * The slots found, one lease each: the slots of a lease of several permits (one release code on
 * one resource) are released together, and one pass then grants from all of them, so the oldest
 * waiter may get as many as it needs (a hand-over of each alone would give none to a head that
 * needs several). Each slot is named once, whether the owner index or a grant record found it.
 */
function byLease(slots: ReleasedLease[]): ReleasedLease[] {
  const leases = new Map<string, ReleasedLease & { slots: { concurrencyId: number }[] }>();
  for (const slot of slots) {
    const key = JSON.stringify([slot.resourceId, slot.releaseCode]);
    const lease = leases.get(key) ?? { ...slot, slots: [] };
    if (!lease.slots.some((seen) => seen.concurrencyId === slot.concurrencyId))
      lease.slots.push({ concurrencyId: slot.concurrencyId });
    leases.set(key, lease);
  }
  return [...leases.values()].map(({ slots: held, ...lease }) =>
    held.length > 1 ? { ...lease, slots: held } : lease,
  );
}

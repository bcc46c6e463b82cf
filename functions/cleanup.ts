import type { Context, EventBridgeEvent } from 'aws-lambda';
import { findOwned } from '../core/waiting/find-owned.js';
import { releaseAndHandOff } from '../core/waiting/release-and-hand-off.js';
import { firstRequestKey } from '../core/waiting/request.js';
import { withdrawRequest } from '../core/waiting/withdraw.js';
import { lockStore } from './lib/clients.js';
import { logger } from './lib/logger.js';
import { settlePass } from './lib/settle.js';

/** The part of "Step Functions Execution Status Change" this handler reads. */
type StatusChangeDetail = { executionArn: string; status: string };

const endedBadly = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * Frees what a failed, timed-out or aborted execution holds, and withdraws what it waits for,
 * so a dead execution never keeps a slot until its lease ends, nor receives one. Slots are
 * handed on to the next waiters at once. Duplicate or late events find nothing of theirs left:
 * a release with a code that no longer holds a slot changes nothing.
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
  const store = lockStore(context);
  let released = 0;
  let withdrawn = 0;
  const owned = await findOwned(store, executionArn);
  // Waiting requests first: a slot freed below must not be handed to this dead execution.
  for (const item of owned.filter((owned) => owned.concurrencyId <= firstRequestKey)) {
    if (await withdrawRequest(store, item.resourceId, item.concurrencyId)) withdrawn++;
  }
  for (const item of owned.filter((owned) => owned.concurrencyId >= 0)) {
    const outcome = await releaseAndHandOff(store, item);
    if (outcome.released) released++;
    if (outcome.pass) await settlePass(store, outcome.pass);
  }
  logger.info('cleaned up after an execution', { executionArn, status, released, withdrawn });
  return { released, withdrawn };
}

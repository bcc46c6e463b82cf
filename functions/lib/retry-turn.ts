import { grantWaiting, leftWaiting } from '../../core/waiting/grant-waiting.js';
import { queueOldRequest, timeOut, withdraw } from '../../core/waiting/lifecycle.js';
import { readRequest } from '../../core/waiting/queue.js';
import type { WaitingStore } from '../../core/waiting/waiting-store.js';
import { taskStillWaits } from './answer.js';
import type { FunctionConfig } from './config.js';
import { logger, tokenHint } from './logger.js';
import type { RetryMessage } from './retry-queue.js';
import { driveSettled, passAfterLeaving, settlePass, tellTimeout } from './settle.js';
import { scheduleTurn } from './turn-schedule.js';

/** What a turn did with its request. */
export type TurnOutcome = 'gone' | 'superseded' | 'settled' | 'withdrawn' | 'requeued';

/**
 * One turn of the retry loop for one request, from its message (a retry message, or the
 * sweeper's re-drive of an overdue request):
 * - the request moved on (granted, timed out...): do what its record calls for;
 * - it waits under another chain: another turn carries it, drop this one (its own chain, or
 *   the chain its sender was moving it from, are this turn's to carry on);
 * - past its deadline: time it out (and let the next head know);
 * - otherwise hand free slots to the oldest waiters, answer them and wake the new head; if this
 *   request still waits and its task still exists, schedule its next turn by its place in the
 *   queue (`turn-schedule.ts`: the head's at the next lease end, none behind it), then move the
 *   chain to it. The order matters: a turn whose send fails has not moved the chain, so its
 *   message comes back and carries on; a turn whose chain write was retried after a lost answer
 *   accepts its own result.
 *
 * @example
 * await retryTurn(store, config, message);
 */
export async function retryTurn(
  store: WaitingStore,
  config: FunctionConfig,
  message: RetryMessage,
): Promise<TurnOutcome> {
  const request = await readRequest(store, message.resourceId, message.requestKey);
  if (!request) return 'gone';
  if (request.state !== 'waiting') {
    await driveSettled(store, request);
    return 'settled';
  }
  // Its own chain, or the one it moves on from while that move is still in flight.
  const carried = [message.retryChain, message.previousChain].filter((chain) => chain !== undefined);
  if (!request.retryChain || !carried.includes(request.retryChain)) return 'superseded';
  // Past its deadline and beyond the head that passes look at: it times out itself.
  if (request.waitUntilMs < store.clock()) {
    if (await timeOut(store, request)) {
      await tellTimeout(store, { ...request, state: 'timed-out' });
      await passAfterLeaving(store, request.resourceId);
    }
    return 'settled';
  }
  // Recorded before the queue existed: it joins the queue, or no pass would see it.
  if (request.queueKey === undefined) await queueOldRequest(store, request);
  const pass = await grantWaiting(store, message.resourceId);
  await settlePass(store, pass, { except: request.requestKey });
  if (!leftWaiting(pass, request.requestKey)) return 'settled';
  if (!(await taskStillWaits(request.taskToken))) {
    // Nobody answered it (it still waits), so its task ended on its own: stopped or timed out.
    // If it was granted since the pass, the withdrawal is refused and the granter answers it.
    if (await withdraw(store, request)) {
      logger.info('withdrew a request whose task is gone', { task: tokenHint(request.taskToken) });
      await passAfterLeaving(store, request.resourceId);
    }
    return 'withdrawn';
  }
  await scheduleTurn(store, config, request, pass, {
    attempt: message.attempt + 1,
    from: [request.retryChain, message.retryChain],
  });
  return 'requeued';
}

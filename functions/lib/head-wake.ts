import { dropQueueEntry, readRequest } from '../../core/waiting/queue.js';
import type { WaitingStore } from '../../core/waiting/waiting-store.js';
import { now } from './clients.js';
import type { FunctionConfig } from './config.js';
import { dueBy, headWaitSeconds, type PassView, scheduleTurn } from './turn-schedule.js';

/**
 * After a pass that left requests waiting: the head of the queue (the first of them that still
 * waits) must look again by the earliest lease end the pass saw, since nobody else will tell it
 * when a holder dies without releasing. Gives it a turn then, unless its next turn comes that
 * soon already (then this costs one read). Stale entries met on the way are dropped. `except`
 * is the caller's own request, which the caller schedules itself.
 *
 * @example
 * await keepHeadAwake(store, config, pass, ownRequestKey);
 */
export async function keepHeadAwake(
  store: WaitingStore,
  config: FunctionConfig,
  pass: PassView,
  except?: number,
): Promise<void> {
  for (const entry of pass.waiting) {
    if (entry.requestKey === except) return;
    const head = await readRequest(store, entry.resourceId, entry.requestKey);
    if (head?.state !== 'waiting') {
      await dropQueueEntry(store, entry);
      continue;
    }
    const nowMs = now();
    // The longest the head may wait (no jitter) from here.
    const wakeByMs =
      nowMs + headWaitSeconds(pass.nextLeaseEndMs, 0, config, nowMs, 1, pass.rateNotBeforeMs) * 1000;
    if (!dueBy(head, wakeByMs))
      await scheduleTurn(store, config, head, pass, {
        attempt: 0,
        from: head.retryChain ? [head.retryChain] : [],
        place: 'head',
      });
    return;
  }
}

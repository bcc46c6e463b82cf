import {
  freeSlots,
  grantWaiting,
  leftWaiting,
  nextLeaseEnd,
  rateClosedUntil,
} from '../../core/waiting/grant-waiting.js';
import { readQueueWindow } from '../../core/waiting/queue.js';
import { recordWaiting } from '../../core/waiting/record-waiting.js';
import { releaseCodeOf, requestKeyOf, type SlotRequest } from '../../core/waiting/request.js';
import type { WaitingStore } from '../../core/waiting/waiting-store.js';
import { now } from './clients.js';
import type { FunctionConfig } from './config.js';
import { enqueueRetry, newRetryChain } from './retry-queue.js';
import { driveSettled, settlePass } from './settle.js';
import { parkedBackstopMs, placeAfter, scheduleTurn, turnDelaySeconds } from './turn-schedule.js';

/** What joining the queue came to: waiting, granted in its first pass, or settled by another delivery. */
export type JoinOutcome = 'waiting' | 'granted' | 'answered-elsewhere';

/**
 * Puts a request that found its slot busy in the queue, at the least cost for the common case (a
 * newcomer behind others, nothing due for it soon: one record, two small reads):
 * - its turn for its deadline or heartbeat, when within SQS's 900 s, goes out before the record,
 *   so the record carries it (otherwise the record is due for the sweeper's backstop);
 * - then one look at the head of the queue and its slots: a slot that freed since the first
 *   attempt gets a full pass, in order; a request at the head gets the head's turn;
 * - with a start rate that the rate item (read with the slots) shows closed, no pass: nobody may
 *   start before that moment, so a pass per arrival would only be refused (and, many at once,
 *   would cancel each other's transactions); the head's turn is set for that moment. Open, a
 *   pass only when this request is the head: an older head's own turn comes at the rate's
 *   moment, and a pass per arrival behind it (each rate opening lets one start) was a herd
 *   that timed out 50 of 60 acquires arriving at once on the local AWS.
 *
 * @example
 * const outcome = await joinQueue(store, config, request);
 */
export async function joinQueue(
  store: WaitingStore,
  config: FunctionConfig,
  request: SlotRequest,
): Promise<JoinOutcome> {
  const requestKey = requestKeyOf(releaseCodeOf(request.taskToken));
  const chain = newRetryChain();
  const nowMs = now();
  const behindDelay = turnDelaySeconds('behind', request, 0, nowMs);
  const dueMs =
    behindDelay === undefined
      ? nowMs + parkedBackstopMs
      : await enqueueRetry(config, { resourceId: request.resourceId, requestKey }, chain, {
          attempt: 0,
          delaySeconds: behindDelay,
        });
  const recorded = await recordWaiting(store, request, { retryChain: chain, dueMs });
  if (recorded.kind === 'holds-primary') return 'answered-elsewhere';
  if (recorded.kind === 'settled') {
    await driveSettled(store, recorded.request);
    return 'answered-elsewhere';
  }
  const head = await readQueueWindow(store, request.resourceId, { limit: 1 });
  const lookedMs = store.clock();
  const rateNotBeforeMs = request.rate && rateClosedUntil(head.rateItem, request.rate, lookedMs);
  const passMayGrant = !request.rate || head.entries[0]?.requestKey === requestKey;
  if (!rateNotBeforeMs && passMayGrant && freeSlots(head, lookedMs).size > 0) {
    // A slot freed between the first attempt and the record: a pass, in arrival order.
    const pass = await grantWaiting(store, request.resourceId);
    await settlePass(store, pass, { except: requestKey });
    if (!leftWaiting(pass, requestKey)) return 'granted';
    await scheduleTurn(store, config, recorded.request, pass, { attempt: 0, from: [chain] });
    return 'waiting';
  }
  const view = {
    waiting: head.entries,
    ...nextLeaseEnd(head.slots, head.entries, lookedMs),
    ...(rateNotBeforeMs ? { rateNotBeforeMs } : {}),
  };
  if (placeAfter(view, requestKey) === 'head')
    await scheduleTurn(store, config, recorded.request, view, { attempt: 0, from: [chain], place: 'head' });
  return 'waiting';
}

import { backoffCeiling } from '../../core/backoff.js';
import type { GrantPass } from '../../core/waiting/grant-waiting.js';
import { rechain } from '../../core/waiting/lifecycle.js';
import type { StoredRequest } from '../../core/waiting/request.js';
import type { WaitingStore } from '../../core/waiting/waiting-store.js';
import { now } from './clients.js';
import { type FunctionConfig, maxDelaySeconds } from './config.js';
import { enqueueRetry, newRetryChain, turnGraceMs } from './retry-queue.js';

/*
 * When a waiting request looks again. Only the head of the queue has anything to look for
 * without being told: a slot that frees without a release (a holder that died, whose lease
 * ends) or a release that handed nothing on (the library's, Python's). Everyone behind it is
 * granted by the hand-over of a release or by the pass of the head before it, which also wakes
 * the next head (`keepHeadAwake`). So:
 *
 * | where           | next turn                                                             |
 * |-----------------|-----------------------------------------------------------------------|
 * | head            | a retry message at the earliest lease end it saw, at most the back-off cap later; the back-off when it saw none held |
 * | head, held back by the rate | a retry message at the moment the rate lets it start (past the cap: that moment is known, an earlier look is polling); beyond SQS's 900 s, a chain of 900 s links |
 * | behind the head | a retry message only for its deadline or its task's heartbeat, when within SQS's 900 s; otherwise none: the sweeper re-drives it after `parkedBackstopMs` |
 */

/** Where a request stands after a pass. */
export type QueuePlace = 'head' | 'behind';

/** A request behind the head with nothing due sooner is looked at by the sweeper after this long. */
export const parkedBackstopMs = 15 * 60_000;

/** What a schedule needs of the last pass over the request's resource. */
export type PassView = Pick<GrantPass, 'waiting' | 'nextLeaseEndMs' | 'rateNotBeforeMs'>;

/** The head: the first waiting entry the pass left (or, when it saw none, the request itself). */
export function placeAfter(pass: PassView, requestKey: number): QueuePlace {
  const [head] = pass.waiting;
  return head === undefined || head.requestKey === requestKey ? 'head' : 'behind';
}

/**
 * The head's wait before it looks again: until just after the earliest lease end it saw, within
 * the back-off cap (a release that hands nothing on is found that late at worst); the back-off of
 * `attempt` (full jitter) when it saw no lease to wait for. A head the rate holds back waits for
 * the rate's moment (`rateNotBeforeMs`), rounded up to SQS's whole seconds, at most 900 s (the
 * turn then finds the rate still closed and sets the next link of the chain).
 */
export function headWaitSeconds(
  nextLeaseEndMs: number | undefined,
  attempt: number,
  config: FunctionConfig,
  nowMs: number,
  jitter = Math.random(),
  rateNotBeforeMs?: number,
): number {
  if (rateNotBeforeMs !== undefined)
    return Math.max(1, Math.min(Math.ceil((rateNotBeforeMs - nowMs) / 1000), maxDelaySeconds));
  if (nextLeaseEndMs === undefined) {
    const ceiling = backoffCeiling(attempt, config.retryBaseSeconds, config.retryCapSeconds);
    return Math.max(1, Math.round(jitter * ceiling));
  }
  // A lease is held through its last millisecond: look in the second after it.
  const untilEnd = Math.ceil((nextLeaseEndMs + 1 - nowMs) / 1000);
  return Math.max(1, Math.min(untilEnd, config.retryCapSeconds));
}

/**
 * The delay of a request's next retry message, or undefined when it needs none (behind the head,
 * nothing due within SQS's 900 s): never past its deadline (so a time-out fires on time) nor half
 * its task's heartbeat.
 */
export function turnDelaySeconds(
  place: QueuePlace,
  request: Pick<StoredRequest, 'waitUntilMs' | 'heartbeatSeconds'>,
  headWait: number,
  nowMs: number,
): number | undefined {
  const untilDeadline = Math.max(0, Math.ceil((request.waitUntilMs - nowMs) / 1000));
  const beat = request.heartbeatSeconds ? Math.max(1, Math.floor(request.heartbeatSeconds / 2)) : Infinity;
  const delay = Math.min(place === 'head' ? headWait : Number.POSITIVE_INFINITY, untilDeadline, beat);
  return delay <= maxDelaySeconds ? delay : undefined;
}

/**
 * Schedules a waiting request's next turn from where the pass left it, and moves its chain to
 * that turn (from `from`, the chains the caller may carry on). The message goes out before the
 * chain moves: a send that fails leaves the chain, and the caller's own turn, as they were.
 * Answers when the next turn is due at the latest (what the sweeper watches).
 *
 * @example
 * await scheduleTurn(store, config, request, pass, { attempt: 0, from: [request.retryChain] });
 */
export async function scheduleTurn(
  store: WaitingStore,
  config: FunctionConfig,
  request: StoredRequest,
  pass: PassView,
  {
    attempt,
    from,
    place = placeAfter(pass, request.requestKey),
  }: { attempt: number; from: string[]; place?: QueuePlace },
): Promise<{ dueMs: number; moved: boolean }> {
  const nowMs = now();
  const next = newRetryChain();
  const delay = turnDelaySeconds(
    place,
    request,
    headWaitSeconds(pass.nextLeaseEndMs, attempt, config, nowMs, Math.random(), pass.rateNotBeforeMs),
    nowMs,
  );
  const dueMs =
    delay === undefined
      ? nowMs + parkedBackstopMs
      : await enqueueRetry(config, request, next, {
          attempt,
          delaySeconds: delay,
          previousChain: request.retryChain,
        });
  const moved = await rechain(store, request, { from, to: next, dueMs });
  return { dueMs, moved };
}

/** True when a request's next turn (its `due_ms`) comes within a grace of `byMs`. */
export function dueBy(request: Pick<StoredRequest, 'dueMs'>, byMs: number): boolean {
  return request.dueMs !== undefined && request.dueMs <= byMs + turnGraceMs;
}

import { LockLostError } from '../../core/errors.js';
import type { Lease } from '../../core/lease.js';
import { extendSlot } from '../../core/operations/extend-slot.js';
import { type GrantPass, grantWaiting, leftWaiting } from '../../core/waiting/grant-waiting.js';
import {
  answerMarginMs,
  extendGrant,
  forget,
  markAnswered,
  markTimeoutTold,
  regrant,
  withdrawEnded,
} from '../../core/waiting/lifecycle.js';
import { type ReleasedLease, releaseAndHandOff } from '../../core/waiting/release-and-hand-off.js';
import { leaseOf, type RequestGrant, type StoredRequest } from '../../core/waiting/request.js';
import type { WaitingStore } from '../../core/waiting/waiting-store.js';
import { acquireOutput, sendFailure, sendGrant } from './answer.js';
import { readConfig } from './config.js';
import { errorName } from './errors.js';
import { executionEnded, isExecutionArn } from './execution.js';
import { keepHeadAwake } from './head-wake.js';
import { logger, tokenHint } from './logger.js';
import { emitMetric, emitMilliseconds, metricName } from './metrics.js';
import { type PassView, scheduleTurn } from './turn-schedule.js';

/**
 * Answers a grant that has no request record (a first attempt that found the slot free): this
 * call and repeated deliveries of the same request are its only answerers. As every grant, it is
 * answered only with `answerMarginMs` of its lease left: a lease closer to its end (the first
 * attempt was slow) is extended first. When the task takes no answer, the slot is freed only if
 * Step Functions says the owner's execution has ended. Answers false, having answered nothing,
 * when the lease lapsed and the slot went to someone else before the extension: the request is
 * then no different from one that found the slot busy.
 *
 * @example
 * if (!(await answerUnrecorded(store, request, lease, arrivedMs))) await waitLikeBusy();
 */
export async function answerUnrecorded(
  store: WaitingStore,
  request: Pick<StoredRequest, 'taskToken' | 'leaseMs' | 'owner'>,
  granted: Lease,
  arrivedMs: number,
): Promise<boolean> {
  let lease = granted;
  if (lease.expiresAtMs - store.clock() < answerMarginMs(request.leaseMs)) {
    try {
      lease = { ...lease, ...(await extendSlot(store, lease, request.leaseMs)) };
    } catch (error) {
      if (error instanceof LockLostError) return false;
      throw error;
    }
  }
  const grantedAtMs = granted.expiresAtMs - request.leaseMs;
  if (await sendGrant(request.taskToken, acquireOutput(lease, grantedAtMs - arrivedMs)))
    logGranted(request, lease, grantedAtMs - arrivedMs);
  else await freeIfOwnerEnded(store, request, lease);
  return true;
}

/**
 * "Task gone" is no evidence that nobody uses the slot (another answerer may have delivered the
 * grant); the owner's execution having ended is. Frees the slot then, as the cleanup would,
 * without waiting for its status event. Answers whether it did.
 */
async function freeIfOwnerEnded(
  store: WaitingStore,
  request: Pick<StoredRequest, 'owner'> & Partial<Pick<StoredRequest, 'resourceId' | 'requestKey'>>,
  lease: Lease,
): Promise<boolean> {
  if (!isExecutionArn(request.owner) || !(await executionEnded(request.owner))) return false;
  if (request.resourceId !== undefined && request.requestKey !== undefined)
    await withdrawEnded(store, { resourceId: request.resourceId, requestKey: request.requestKey });
  await releaseAndSettle(store, lease);
  logger.info('freed a slot whose execution ended before its grant was answered', {
    slot: lease.concurrencyId,
  });
  return true;
}

/**
 * The answer transition of a `granted` request, by any of its answerers (the granter, its retry
 * turn, the sweeper), any number of times at once. The grant is answered only while its lease
 * keeps `answerMarginMs`; otherwise it is extended first, or, when its lease ended unanswered,
 * the request queues again and is granted afresh. After SendTaskSuccess the request is marked
 * `answered` whatever Step Functions said: "task gone" may mean another answerer delivered it.
 *
 * @example
 * await answerGranted(store, request, request.granted);
 */
export async function answerGranted(
  store: WaitingStore,
  request: StoredRequest,
  grant: RequestGrant,
): Promise<void> {
  let current = grant;
  if (current.expiresAtMs - store.clock() < answerMarginMs(request.leaseMs)) {
    const extended = await extendGrant(store, request, current, store.clock() + request.leaseMs);
    if (!extended) {
      // The slot no longer holds the grant (its lease ended), or the record moved on already.
      if (await regrant(store, request, current)) {
        logger.info('grant lapsed unanswered; granting afresh', { task: tokenHint(request.taskToken) });
        const pass = await grantWaiting(store, request.resourceId);
        await settlePass(store, pass, { except: request.requestKey });
        // Still waiting: its loop may be lost with the grant's answer, so it gets a turn of its own.
        if (leftWaiting(pass, request.requestKey))
          await scheduleTurn(store, readConfig(), request, pass, {
            attempt: 0,
            from: request.retryChain ? [request.retryChain] : [],
          });
      }
      return;
    }
    current = extended;
  }
  const lease = leaseOf(request, current);
  const grantedAtMs = current.expiresAtMs - request.leaseMs;
  if (await sendGrant(request.taskToken, acquireOutput(lease, grantedAtMs - request.arrivedMs)))
    logGranted(request, lease, grantedAtMs - request.arrivedMs);
  else if (await freeIfOwnerEnded(store, request, lease)) return;
  await markAnswered(store, request, current);
}

/** The time-out's answer: Lock.Timeout to a `timed-out` request's task, then the request ends. */
export async function tellTimeout(store: WaitingStore, request: StoredRequest): Promise<void> {
  if (await sendFailure(request.taskToken, errorName.timeout, timeoutCause(request, store.clock())))
    emitMetric(metricName.timeouts, 1, { resourceId: request.resourceId });
  await markTimeoutTold(store, request);
}

/**
 * Does what a request that no longer waits calls for, from its record: answer a grant, tell a
 * time-out, forget an answered request whose lease is over. Used by retry turns, repeated
 * deliveries and the sweeper, which may all see the same record at once.
 *
 * @example
 * if (request.state !== 'waiting') await driveSettled(store, request);
 */
export async function driveSettled(store: WaitingStore, request: StoredRequest): Promise<void> {
  if (request.state === 'granted' && request.granted) await answerGranted(store, request, request.granted);
  else if (request.state === 'timed-out' && request.taskToken) await tellTimeout(store, request);
  else if (request.state === 'answered' && request.granted && request.granted.expiresAtMs < store.clock())
    await forget(store, request, request.granted);
}

/**
 * Answers everything a grant pass decided: the grants, and `Lock.Timeout` for the requests whose
 * own deadline passed. A failure stops here and fails the caller's invocation; each decision is
 * on its record already, so the request's retry turn or the sweeper answers it later.
 *
 * @example
 * await settlePass(store, await grantWaiting(store, resourceId));
 */
export async function settlePass(
  store: WaitingStore,
  pass: Pick<GrantPass, 'grants' | 'expired'> & Partial<PassView>,
  { except }: { except?: number } = {},
): Promise<void> {
  // Whoever is now at the head looks again by the next lease end (a dead holder frees nothing
  // sooner), or at the rate's moment.
  const wakeHead = async () => {
    if (!pass.waiting?.length) return;
    const view: PassView = {
      waiting: pass.waiting,
      ...(pass.nextLeaseEndMs === undefined ? {} : { nextLeaseEndMs: pass.nextLeaseEndMs }),
      ...(pass.rateNotBeforeMs === undefined ? {} : { rateNotBeforeMs: pass.rateNotBeforeMs }),
    };
    await keepHeadAwake(store, readConfig(), view, except);
  };
  // Held back by the rate, the head's timer goes first: SQS counts its whole seconds from the
  // send, and every millisecond spent answering before it is lost to the rate on each round.
  // (The grants are on their records: should this invocation stop here, the sweeper answers them.)
  const rateHeld = pass.rateNotBeforeMs !== undefined;
  if (rateHeld) await wakeHead();
  for (const grant of pass.grants) {
    const { concurrencyId, expiresAtMs, fencingToken, slots } = grant.lease;
    const granted = { concurrencyId, expiresAtMs, fencingToken, ...(slots ? { slots } : {}) };
    await answerGranted(store, { ...grant.request, state: 'granted', granted }, granted);
  }
  for (const request of pass.expired) await tellTimeout(store, request);
  if (!rateHeld) await wakeHead();
}

function logGranted(request: Pick<StoredRequest, 'taskToken'>, lease: Lease, waitedMs: number): void {
  emitMetric(metricName.grants, 1, { resourceId: lease.resourceId });
  emitMilliseconds(metricName.waitTime, Math.max(0, waitedMs), lease.resourceId);
  logger.info('granted', {
    resourceId: lease.resourceId,
    slot: lease.concurrencyId,
    task: tokenHint(request.taskToken),
  });
}

/** The cause of a `Lock.Timeout`. */
function timeoutCause(request: Pick<StoredRequest, 'resourceId' | 'arrivedMs'>, nowMs: number): string {
  return `No slot of "${request.resourceId}" was free within waitSeconds (waited ${nowMs - request.arrivedMs} ms)`;
}

/**
 * A request left the queue without a pass (it timed out, or its task or execution is gone): if
 * it was the head, the next one must be woken, so look at the head again. Also grants a slot
 * that is free.
 *
 * @example
 * if (await withdraw(store, request)) await passAfterLeaving(store, request.resourceId);
 */
export async function passAfterLeaving(store: WaitingStore, resourceId: string): Promise<void> {
  await settlePass(store, await grantWaiting(store, resourceId));
}

/**
 * Releases a slot, hands it to the oldest waiter and answers what that pass decided: the one
 * way the release step, the cleanup and an ended owner's grant free a slot.
 *
 * @example
 * const { released } = await releaseAndSettle(store, lease);
 */
export async function releaseAndSettle(
  store: WaitingStore,
  lease: ReleasedLease,
  options?: { handOff?: boolean },
): Promise<{ released: boolean }> {
  const releasedAtMs = store.clock();
  const { released, pass, takenAtMs } = await releaseAndHandOff(store, lease, options);
  // Hold: from the lease's take or grant to this release (the cleanup's too: a dead holder's).
  if (takenAtMs !== undefined)
    emitMilliseconds(metricName.holdTime, releasedAtMs - takenAtMs, lease.resourceId);
  // Hand-over: from the release to the grant's write (its lease start), for each waiter it let in.
  for (const grant of pass?.grants ?? [])
    emitMilliseconds(
      metricName.handOverTime,
      grant.lease.expiresAtMs - grant.request.leaseMs - releasedAtMs,
      lease.resourceId,
    );
  if (pass) await settlePass(store, pass);
  return { released };
}

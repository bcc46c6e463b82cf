import type { Lease } from '../../core/lease.js';
import type { LockStore } from '../../core/store.js';
import type { GrantPass } from '../../core/waiting/grant-waiting.js';
import { releaseAndHandOff } from '../../core/waiting/release-and-hand-off.js';
import type { StoredRequest } from '../../core/waiting/request.js';
import { withdrawRequest } from '../../core/waiting/withdraw.js';
import { acquireOutput, sendFailure, sendGrant } from './answer.js';
import { errorName } from './errors.js';
import { logger, tokenHint } from './logger.js';

/**
 * Answers a granted request. When the grant was this call's own doing (`fresh`) and the task is
 * gone, the slot is released at once and handed on; a repeated answer never frees the slot,
 * because an earlier answer may have gone through and the workflow may be using it.
 *
 * @example
 * await answerGrant(store, request, lease, { fresh: true, arrivedMs });
 */
export async function answerGrant(
  store: LockStore,
  request: Pick<StoredRequest, 'taskToken' | 'resourceId' | 'leaseMs'> & { requestKey?: number },
  lease: Lease,
  { fresh, arrivedMs }: { fresh: boolean; arrivedMs: number },
): Promise<void> {
  // Waited from arrival to the grant itself (the lease starts at the grant), not to the answer.
  const grantedAtMs = lease.expiresAtMs - request.leaseMs;
  if (await sendGrant(request.taskToken, acquireOutput(lease, grantedAtMs - arrivedMs))) {
    logger.info('granted', {
      resourceId: lease.resourceId,
      slot: lease.concurrencyId,
      task: tokenHint(request.taskToken),
    });
    return;
  }
  if (!fresh) return;
  const { pass } = await releaseAndHandOff(store, lease);
  if (request.requestKey !== undefined) {
    await withdrawRequest(store, request.resourceId, request.requestKey, { evenIfGranted: true });
  }
  if (pass) await settlePass(store, pass);
}

/**
 * Answers everything a grant pass decided: the grants, and `Lock.Timeout` for the requests
 * whose own deadline passed.
 *
 * @example
 * await settlePass(store, await grantWaiting(store, resourceId));
 */
export async function settlePass(store: LockStore, pass: GrantPass): Promise<void> {
  for (const grant of pass.grants) {
    await answerGrant(store, grant.request, grant.lease, { fresh: true, arrivedMs: grant.request.arrivedMs });
  }
  for (const request of pass.expired) {
    await sendFailure(request.taskToken, errorName.timeout, timeoutCause(request));
  }
}

/** The cause of a `Lock.Timeout`. */
function timeoutCause(request: Pick<StoredRequest, 'resourceId' | 'arrivedMs'>): string {
  return `No slot of "${request.resourceId}" was free within waitSeconds (waited ${Date.now() - request.arrivedMs} ms)`;
}

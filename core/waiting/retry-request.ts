import type { LockStore } from '../store.js';
import { type GrantPass, grantWaiting } from './grant-waiting.js';
import { readResource } from './read-resource.js';
import type { StoredRequest } from './request.js';

/** What one retry of a waiting request found. */
export type RetryOutcome =
  /** The request's item is gone (answered and cleaned up): drop the message. */
  | { kind: 'gone' }
  /** A newer retry chain carries this request: drop the message. */
  | { kind: 'superseded' }
  /** Granted before (its answer may have been lost): answer it again, never free the slot on failure. */
  | { kind: 'granted-before'; request: StoredRequest }
  /** A pass ran: answer its grants and expiries; `own` says where this request stands. */
  | { kind: 'pass'; pass: GrantPass; own: 'granted' | 'expired' | 'waiting'; request: StoredRequest };

/**
 * One turn of the retry loop for a waiting request: read the resource once, check the request
 * still waits under this chain, then hand free slots to the oldest waiters (which may or may
 * not be this one: grants follow arrival order).
 *
 * @example
 * const outcome = await retryRequest(store, { resourceId, requestKey, retryChain });
 */
export async function retryRequest(
  store: LockStore,
  message: { resourceId: string; requestKey: number; retryChain: string },
): Promise<RetryOutcome> {
  const state = await readResource(store, message.resourceId);
  const request = state.requests.find((stored) => stored.requestKey === message.requestKey);
  if (!request) return { kind: 'gone' };
  if (request.granted) return { kind: 'granted-before', request };
  if (request.retryChain !== message.retryChain) return { kind: 'superseded' };
  const pass = await grantWaiting(store, message.resourceId, state);
  const own = pass.grants.some((grant) => grant.request.requestKey === request.requestKey)
    ? 'granted'
    : pass.expired.some((expired) => expired.requestKey === request.requestKey)
      ? 'expired'
      : 'waiting';
  return { kind: 'pass', pass, own, request };
}

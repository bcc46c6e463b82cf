import { createHash } from 'node:crypto';
import type { Lease, SlotHold } from '../lease.js';
import type { RateCell } from '../rate.js';
import { dueShardCount } from '../table.js';

/**
 * A request for a slot made by a workflow: who asks, for how long, and how to answer it.
 * The release code is derived from the task token, so every delivery of the same request
 * (SQS redelivery, a Step Functions retry) is recognised as the same request.
 */
export interface SlotRequest {
  resourceId: string;
  concurrency: number;
  leaseMs: number;
  /** Epoch ms after which the request fails with a timeout; Infinity: the task's own timeout decides. */
  waitUntilMs: number;
  taskToken: string;
  owner?: string;
  /** The waiting task's `HeartbeatSeconds`, when it has one: its turns heartbeat it in time. */
  heartbeatSeconds?: number;
  /** The `waitSeconds` it asked for (`waitUntilMs` counts from its arrival): part of its identity. */
  waitSeconds?: number;
  /**
   * The resource's start rate it asked for, in the transaction's terms: whoever grants it counts
   * one start in the grant's own transaction (`core/rate.ts`). Absent: no rate.
   */
  rate?: RateCell;
  /**
   * The slots it needs at once (1 .. `concurrency`), all granted in one transaction; absent: one.
   * The queue stays first come, first served: nobody behind it is granted while it waits.
   */
  permits?: number;
}

/** A request's place in its lifecycle (`core/waiting/lifecycle.ts` has the transitions). */
export type RequestState = 'waiting' | 'granted' | 'answered' | 'timed-out' | 'withdrawn';

/** The slot and lease a request was granted. */
export interface RequestGrant {
  concurrencyId: number;
  expiresAtMs: number;
  fencingToken: number;
  /** Every slot of a grant of several permits (the first is `concurrencyId`); absent for one. */
  slots?: SlotHold[];
}

/** The slots a request asks for at once. */
export function permitsOf(request: Pick<SlotRequest, 'permits'>): number {
  return request.permits ?? 1;
}

/** Every slot a grant holds, with its token: one, or all of a grant of several permits. */
export function slotsOf(grant: Pick<RequestGrant, 'concurrencyId' | 'fencingToken' | 'slots'>): SlotHold[] {
  return grant.slots ?? [{ concurrencyId: grant.concurrencyId, fencingToken: grant.fencingToken }];
}

/** A request as stored in the table. */
export interface StoredRequest extends SlotRequest {
  requestKey: number;
  releaseCode: string;
  arrivedMs: number;
  state: RequestState;
  /** Its queue entry's key (`core/waiting/queue.ts`); absent on items written before the queue. */
  queueKey?: number;
  retryChain?: string;
  /** Epoch ms by which its next step (retry turn, answer, forgetting) is due; absent once it ended. */
  dueMs?: number;
  /** Set in `granted` and `answered` (and kept in `withdrawn` after a grant). */
  granted?: RequestGrant;
}

/** The lease a request holds once granted `grant`. */
export function leaseOf(request: StoredRequest, grant: RequestGrant): Lease {
  return {
    resourceId: request.resourceId,
    concurrencyId: grant.concurrencyId,
    releaseCode: request.releaseCode,
    expiresAtMs: grant.expiresAtMs,
    fencingToken: grant.fencingToken,
    ...(request.owner === undefined ? {} : { owner: request.owner }),
    ...(grant.slots === undefined ? {} : { slots: grant.slots }),
  };
}

/** Still waiting at `nowMs`: not granted yet, and not past its own deadline. */
export function isWaiting(request: StoredRequest, nowMs: number): boolean {
  return request.state === 'waiting' && request.waitUntilMs >= nowMs;
}

/** Sort keys below this are waiting requests; -1 .. -(this - 1) stay free for per-resource state. */
export const firstRequestKey = -1_000_000;

/**
 * The release code of a request: 128 bits of SHA-256 of its task token. The token is already a
 * secret with far more entropy, so the code is as unguessable, and the same for every delivery.
 *
 * @example
 * const releaseCode = releaseCodeOf(taskToken);
 */
export function releaseCodeOf(taskToken: string): string {
  return createHash('sha256').update(taskToken).digest('hex').slice(0, 32);
}

/**
 * Where a request's item lives: a negative sort key derived from its release code (48 bits),
 * so that a repeated delivery finds the same item without a read.
 */
export function requestKeyOf(releaseCode: string): number {
  return firstRequestKey - Number.parseInt(releaseCode.slice(0, 12), 16);
}

/**
 * The slot a request tries first. Fixed per request, so that a repeated first attempt writes to
 * the same slot and recognises its own earlier grant instead of taking a second one.
 */
export function primarySlotOf(releaseCode: string, concurrency: number): number {
  return Number.parseInt(releaseCode.slice(12, 20), 16) % concurrency;
}

/** The shard of the due index a request lives in (fixed per request). */
export function dueShardOf(releaseCode: string): string {
  return String(Number.parseInt(releaseCode.slice(20, 24), 16) % dueShardCount);
}

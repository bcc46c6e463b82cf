/**
 * Attribute names of the lock table, shared with Python dynamo-dlm v2. Renaming any of them
 * breaks compatibility with tables that already exist.
 */
export const attribute = {
  resourceId: 'resource_id',
  concurrencyId: 'concurrency_id',
  releaseCode: 'release_code',
  expires: 'expires',
  expiresMs: 'expires_ms',
  owner: 'owner',
  fencingToken: 'fencing_token',
  /**
   * When the current lease began (ms since the epoch), for its hold time: written by every take
   * and grant of this package, left alone by extends. Python dynamo-dlm neither writes nor
   * reads it: a Python holder's item has none.
   */
  takenMs: 'taken_ms',
} as const;

/**
 * Attributes of a waiting request's item (in the request table, at a negative `concurrency_id`). `expires` is written
 * only when the request ends, a second in the past: Python dynamo-dlm counts every item of a
 * resource with `expires >= now`, and TTL removes items whose `expires` has passed.
 */
export const requestAttribute = {
  releaseCode: 'release_code',
  state: 'request_state',
  taskToken: 'task_token',
  expires: 'expires',
  dueShard: 'due_shard',
  dueMs: 'due_ms',
  arrivedMs: 'arrived_ms',
  waitUntilMs: 'wait_until_ms',
  leaseMs: 'lease_ms',
  concurrency: 'concurrency',
  owner: 'owner',
  retryChain: 'retry_chain',
  grantedSlot: 'granted_slot',
  grantedUntilMs: 'granted_until_ms',
  grantedFencingToken: 'granted_fencing_token',
  /**
   * Every slot of a grant of several permits, with its fencing token (a list of `{ slot, token }`
   * maps; the first is `granted_slot`). Absent for a grant of one slot.
   */
  grantedSlots: 'granted_slots',
  /** The slots it asks for at once (`permits`); absent: one. */
  permits: 'permits',
  heartbeatSeconds: 'heartbeat_seconds',
  /** Where its queue entry lives (`core/waiting/queue.ts`) while it waits. */
  queueKey: 'queue_key',
  /** The start rate it asked for (`core/rate.ts`): emission interval and burst tolerance, µs. */
  rateIntervalUs: 'rate_interval_us',
  rateToleranceUs: 'rate_tolerance_us',
} as const;

/** Attributes of a queue entry (`core/waiting/queue.ts`): just what a pass needs to pick a request. */
export const queueAttribute = {
  requestKey: 'request_key',
  concurrency: 'concurrency',
  waitUntilMs: 'wait_until_ms',
  /** The slots the request needs at once; absent: one. */
  permits: 'permits',
} as const;

/**
 * The index by `owner` (sparse: only items with an owner), used to free the slots and withdraw
 * the waiting requests of a failed execution. Optional for the library; needed by the cleanup step.
 */
export const ownerIndexName = 'owner-index';

/**
 * The index of requests by when something must happen to them next (sparse: only requests that
 * have not ended carry `due_ms`), read by the sweeper to re-drive a request whose retry turn or
 * answer is overdue. Its partition key is one of `dueShardCount` shards, so that no single index
 * partition takes every request write.
 */
export const dueIndexName = 'due-index';

/** How many `due_shard` values requests spread over; the sweeper queries each. */
export const dueShardCount = 4;

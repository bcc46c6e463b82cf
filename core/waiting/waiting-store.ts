import type { LockStore } from '../store.js';

/**
 * The store of the waiting protocol: the shared lock table (slots, which Python dynamo-dlm and
 * library users read and write) and the request table, which only the service's functions may
 * read and write. Requests keep task tokens, their state and their grants, and the queue keeps
 * their order: a reader of the lock table must learn none of it, nor be able to change it,
 * or it could answer a waiting workflow (issue 15). Transactions span both tables.
 */
export interface WaitingStore extends LockStore {
  /** The table of waiting requests and queue entries (same key schema as the lock table). */
  requestTableName: string;
  /**
   * The request table may not exist: a lock table used by the library alone, as `dlm` may see
   * it. Then nobody waits. Off for the functions, for which a missing table is a misconfiguration.
   */
  requestTableMayBeMissing?: boolean;
}

/**
 * The request table's default name, next to its lock table's.
 *
 * @example
 * requestTableNameFor('dynamo_dlm_locks'); // 'dynamo_dlm_locks_requests'
 */
export function requestTableNameFor(lockTableName: string): string {
  return `${lockTableName}_requests`;
}

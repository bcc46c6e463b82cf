import { ConditionalCheckFailedException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Lease } from '../lease.js';
import { sendWithRetry } from '../send.js';
import type { LockStore } from '../store.js';
import { markGrantedWrite } from './request-writes.js';

/**
 * Marks a waiting request as granted the lease it already holds (its first attempt got the
 * primary slot while its item existed). False when it was granted elsewhere or withdrawn first.
 *
 * @example
 * if (!(await markGranted(store, requestKey, lease))) await releaseSlot(store, lease);
 */
export async function markGranted(store: LockStore, requestKey: number, lease: Lease): Promise<boolean> {
  try {
    await sendWithRetry(store, new UpdateItemCommand(markGrantedWrite(store.tableName, requestKey, lease)));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

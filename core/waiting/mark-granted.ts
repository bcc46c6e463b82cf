import { ConditionalCheckFailedException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Lease } from '../lease.js';
import { sendWithRetry } from '../send.js';
import { dropEntryOf, grantWrite } from './lifecycle.js';
import type { StoredRequest } from './request.js';
import { fromRequestItem } from './request-item.js';
import type { WaitingStore } from './waiting-store.js';

/**
 * Marks a waiting request as granted the lease it already holds (its first attempt got the
 * primary slot while its item existed). When it was granted elsewhere or withdrawn first, the
 * refusal carries the request as it stands (absent: withdrawn), at no extra read.
 *
 * @example
 * const marked = await markGranted(store, ownRequest, lease);
 * if (!marked.marked && !marked.current?.granted) await releaseSlot(store, lease);
 */
export async function markGranted(
  store: WaitingStore,
  request: Pick<StoredRequest, 'resourceId' | 'requestKey' | 'queueKey'>,
  lease: Lease,
): Promise<{ marked: true } | { marked: false; current?: StoredRequest }> {
  try {
    await sendWithRetry(
      store,
      new UpdateItemCommand({
        ...grantWrite(store.requestTableName, request, lease, store.clock()),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    // Out of the queue, as every way out of `waiting` that is not the grant transaction.
    await dropEntryOf(store, request);
    return { marked: true };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return error.Item ? { marked: false, current: fromRequestItem(error.Item) } : { marked: false };
  }
}

import { ConditionalCheckFailedException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { slotKey } from '../item.js';
import type { Lease } from '../lease.js';
import { sendWithRetry } from '../send.js';
import type { LockStore } from '../store.js';
import { requestAttribute } from '../table.js';

/**
 * Marks a waiting request as granted the lease it already holds (its first attempt got the
 * primary slot while its item existed). False when it was granted elsewhere or withdrawn first.
 *
 * @example
 * if (!(await markGranted(store, requestKey, lease))) await releaseSlot(store, lease);
 */
export async function markGranted(store: LockStore, requestKey: number, lease: Lease): Promise<boolean> {
  try {
    await sendWithRetry(
      store,
      new UpdateItemCommand({
        TableName: store.tableName,
        Key: slotKey(lease.resourceId, requestKey),
        UpdateExpression: 'SET #grantedSlot = :slot, #grantedUntilMs = :expiresMs, #grantedToken = :token',
        // Still waiting: not granted by someone else, not withdrawn.
        ConditionExpression: 'attribute_exists(#releaseCode) AND attribute_not_exists(#grantedSlot)',
        ExpressionAttributeNames: {
          '#releaseCode': requestAttribute.releaseCode,
          '#grantedSlot': requestAttribute.grantedSlot,
          '#grantedUntilMs': requestAttribute.grantedUntilMs,
          '#grantedToken': requestAttribute.grantedFencingToken,
        },
        ExpressionAttributeValues: {
          ':slot': { N: String(lease.concurrencyId) },
          ':expiresMs': { N: String(lease.expiresAtMs) },
          ':token': { N: String(lease.fencingToken) },
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

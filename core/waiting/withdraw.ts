import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { slotKey } from '../item.js';
import { sendConditional } from '../send.js';
import type { LockStore } from '../store.js';
import { requestAttribute } from '../table.js';

/**
 * Removes a waiting request, unless it was granted meanwhile (then it answers false and the
 * caller must treat the request as granted). With `evenIfGranted`, removes a granted request's
 * item too (after its lease, or when its task is gone).
 *
 * @example
 * if (await withdrawRequest(store, resourceId, requestKey)) await failTask('Lock.Timeout');
 */
export async function withdrawRequest(
  store: LockStore,
  resourceId: string,
  requestKey: number,
  { evenIfGranted = false } = {},
): Promise<boolean> {
  return sendConditional(
    store,
    new DeleteItemCommand({
      TableName: store.tableName,
      Key: slotKey(resourceId, requestKey),
      ...(evenIfGranted
        ? {}
        : {
            ConditionExpression: 'attribute_not_exists(#grantedSlot)',
            ExpressionAttributeNames: { '#grantedSlot': requestAttribute.grantedSlot },
          }),
    }),
  );
}

import { ConditionalCheckFailedException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { LockLostError } from '../errors.js';
import { slotKey, toExpiresSeconds } from '../item.js';
import type { Lease } from '../lease.js';
import { sendWithRetry } from '../send.js';
import type { LockStore } from '../store.js';
import { attribute } from '../table.js';
import type { SlotLease } from './release-slot.js';
import { leaseNames } from './slot-conditions.js';

/**
 * The update that moves a held lease's end to `expiresAtMs`, refused unless `releaseCode` still
 * holds the slot: alone (`extendSlot`) or as an item of a transaction (`countStart`).
 *
 * @example
 * new UpdateItemCommand({ ...extendUpdate(store.tableName, lease, Date.now() + 30_000), ReturnValues: 'ALL_NEW' });
 */
export function extendUpdate(tableName: string, lease: SlotLease, expiresAtMs: number) {
  return {
    TableName: tableName,
    Key: slotKey(lease.resourceId, lease.concurrencyId),
    UpdateExpression: 'SET #expires = :expires, #expiresMs = :expiresMs',
    // Still our lease (no one took it) and not released (a release sets expires_ms to 0).
    ConditionExpression: '#releaseCode = :releaseCode AND #expiresMs > :zero',
    ExpressionAttributeNames: leaseNames,
    ExpressionAttributeValues: {
      ':releaseCode': { S: lease.releaseCode },
      ':expires': { N: String(toExpiresSeconds(expiresAtMs)) },
      ':expiresMs': { N: String(expiresAtMs) },
      ':zero': { N: '0' },
    },
  };
}

/**
 * Moves the lease end to `durationMs` from now, if `releaseCode` still holds the slot.
 * A lease that ran out but that nobody took since is still ours (no other holder existed in
 * between) and is extended; a released or taken-over one raises `LockLostError`.
 *
 * @example
 * const { expiresAtMs } = await extendSlot(store, lease, 60_000);
 */
export async function extendSlot(
  store: LockStore,
  lease: SlotLease,
  durationMs: number,
): Promise<Pick<Lease, 'expiresAtMs' | 'fencingToken'>> {
  const expiresAtMs = store.clock() + durationMs;
  try {
    const output = await sendWithRetry<{ Attributes?: Record<string, { N?: string }> }>(
      store,
      new UpdateItemCommand({
        ...extendUpdate(store.tableName, lease, expiresAtMs),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { expiresAtMs, fencingToken: Number(output.Attributes?.[attribute.fencingToken]?.N) };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      throw new LockLostError(lease.resourceId, lease.concurrencyId, { cause: error });
    }
    throw error;
  }
}

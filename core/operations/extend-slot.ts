import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { LockLostError } from '../errors.js';
import { slotKey, toExpiresSeconds } from '../item.js';
import type { Lease, SlotHold } from '../lease.js';
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

/**
 * `extendSlot` for every slot of a lease of several permits, in one transaction: all move to the
 * same end or none does (`LockLostError` when any slot is no longer ours), so the lease keeps one
 * end, as its grant gave it. The fencing tokens do not change.
 *
 * @example
 * const { expiresAtMs } = await extendSlots(store, lease, lease.slots, 60_000);
 */
export async function extendSlots(
  store: LockStore,
  lease: SlotLease,
  slots: Pick<SlotHold, 'concurrencyId'>[],
  durationMs: number,
): Promise<Pick<Lease, 'expiresAtMs'>> {
  const expiresAtMs = store.clock() + durationMs;
  try {
    await sendWithRetry(
      store,
      new TransactWriteItemsCommand({
        TransactItems: slots.map((slot) => ({
          Update: extendUpdate(store.tableName, { ...lease, concurrencyId: slot.concurrencyId }, expiresAtMs),
        })),
      }),
    );
    return { expiresAtMs };
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const lost = slots.find(
      (_, index) => error.CancellationReasons?.[index]?.Code === 'ConditionalCheckFailed',
    );
    // Cancelled by a concurrent write only (no slot refused): nothing changed, the caller may retry.
    if (!lost) throw error;
    throw new LockLostError(lease.resourceId, lost.concurrencyId, { cause: error });
  }
}

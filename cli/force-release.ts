import {
  type AttributeValue,
  ConditionalCheckFailedException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { slotKey, toHolder } from '../core/item.js';
import type { Holder } from '../core/lease.js';
import { releasedSeconds } from '../core/operations/release-slot.js';
import { sendWithRetry } from '../core/send.js';
import type { LockStore } from '../core/store.js';
import { attribute } from '../core/table.js';

/**
 * `released`: the slot was held and is now free. `not-held`: nothing changed, because the slot
 * has no item (`absent`), or its lease had ended or was released (`free`).
 */
export type ForceReleaseOutcome =
  | { kind: 'released'; previous: Holder }
  | { kind: 'not-held'; reason: 'absent' | 'free'; previous?: Holder };

/**
 * Who forced a slot free and when (epoch ms), kept on the slot's item: an override takes a lease
 * from a holder that is not told, so the next operator (and `dlm status`) must be able to see
 * who did it. Neither attribute counts for holding: the slot is free by `expires`/`expires_ms`.
 * The record stays until a new holder's item replaces it.
 */
export const forcedAttribute = { by: 'forced_by', atMs: 'forced_at_ms' } as const;

/**
 * Frees slot `slot` of a resource whoever holds it: the operator's override for a holder that
 * will not release (a stuck process, a lease set far too long). One conditional UpdateItem that
 * marks the slot released exactly as `releaseSlot` does (`releasedSeconds`) (`expires_ms` 0, `expires` a second in
 * the past, the fencing counter kept), so Python sees it free and the former holder's `extend`
 * fails with `Lock.Lost`, and records `forcedBy` and the time on the item (`forcedAttribute`).
 * The condition (the item exists and is held) leaves a free slot alone, so a repeated override
 * answers `not-held` instead of rewriting it.
 *
 * @example
 * const outcome = await forceReleaseSlot(store, 'partner-api', 0, 'alice@ops-laptop');
 */
export async function forceReleaseSlot(
  store: LockStore,
  resourceId: string,
  slot: number,
  forcedBy: string,
): Promise<ForceReleaseOutcome> {
  const nowMs = store.clock();
  const nowSeconds = Math.floor(nowMs / 1000);
  try {
    const output = await sendWithRetry<{ Attributes?: Record<string, AttributeValue> }>(
      store,
      new UpdateItemCommand({
        TableName: store.tableName,
        Key: slotKey(resourceId, slot),
        UpdateExpression:
          'SET #expires = :releasedSeconds, #expiresMs = :zero, #forcedBy = :forcedBy, #forcedAtMs = :nowMs',
        // Held now: our precise lease has not ended, or Python's whole-second one has not (isHeld).
        ConditionExpression:
          'attribute_exists(#resourceId) AND (#expiresMs >= :nowMs OR (attribute_not_exists(#expiresMs) AND #expires > :nowSeconds))',
        ExpressionAttributeNames: {
          '#resourceId': attribute.resourceId,
          '#expires': attribute.expires,
          '#expiresMs': attribute.expiresMs,
          '#forcedBy': forcedAttribute.by,
          '#forcedAtMs': forcedAttribute.atMs,
        },
        ExpressionAttributeValues: {
          ':nowMs': { N: String(nowMs) },
          ':nowSeconds': { N: String(nowSeconds) },
          ':releasedSeconds': { N: String(releasedSeconds(nowMs)) },
          ':zero': { N: '0' },
          ':forcedBy': { S: forcedBy },
        },
        // The former holder, to report whom the override hit; read instead of a second request.
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { kind: 'released', previous: toHolder(output.Attributes ?? {}) };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const item = error.Item;
    if (item === undefined) return { kind: 'not-held', reason: 'absent' };
    return { kind: 'not-held', reason: 'free', previous: toHolder(item) };
  }
}

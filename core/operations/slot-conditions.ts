import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { slotKey, toExpiresSeconds } from '../item.js';
import type { Lease } from '../lease.js';
import { attribute } from '../table.js';

/**
 * Condition fragments on a slot item, shared by the single writes and the transactions.
 * They use the names #resourceId, #expires, #expiresMs and the values :nowMs, :nowSeconds.
 */

// The slot was never taken, or its item was deleted (by Python's release, or by TTL).
const slotAbsent = 'attribute_not_exists(#resourceId)';
// A lease we wrote has ended; a released lease has expires_ms 0.
const preciseLeaseEnded = '#expiresMs < :nowMs';
// A lease Python wrote (whole seconds, no expires_ms) has ended by Python's own rule.
const pythonLeaseEnded = '(attribute_not_exists(#expiresMs) AND #expires <= :nowSeconds)';

/** The slot is free now: absent, or its lease (ours or Python's) has ended. */
export const slotIsFree = `(${slotAbsent} OR ${preciseLeaseEnded} OR ${pythonLeaseEnded})`;

/**
 * `expression` with each `#placeholder` of `names` replaced by the attribute name itself, for the
 * hot writes (take and release): a request without ExpressionAttributeNames is smaller to send
 * and to parse. Only for our attribute names, none of which is a DynamoDB reserved word.
 *
 * @example
 * inlineNames('#expiresMs < :nowMs', leaseNames); // 'expires_ms < :nowMs'
 */
export function inlineNames(expression: string, names: Record<string, string>): string {
  return expression.replace(/#\w+/g, (placeholder) => {
    const name = names[placeholder];
    if (name === undefined) throw new Error(`no attribute name for ${placeholder}`);
    return name;
  });
}

/** The placeholders of a lease's code and ends, as the release, extend and take expressions use them. */
export const leaseNames = {
  '#releaseCode': attribute.releaseCode,
  '#expires': attribute.expires,
  '#expiresMs': attribute.expiresMs,
};

/**
 * Multiplier of the clock-based floor of a fencing token: a taker offers at least
 * `now_ms * 1000`, so tokens track the writers' clocks, with room for a thousand grants of one
 * slot within a millisecond. A token started from the floor after the item was deleted is
 * larger than the last one unless the taker's clock is behind the one that wrote it.
 */
export const fencingFloorPerMs = 1000;

/**
 * The whole slot item of a new holder, for a put: the same attributes `holderUpdate` sets, and
 * no owner when the holder has none; `takenAtMs`, when the lease begins (absent: a freed item).
 */
export function holderItem(lease: Lease, takenAtMs?: number): Record<string, AttributeValue> {
  return {
    ...slotKey(lease.resourceId, lease.concurrencyId),
    ...(takenAtMs === undefined ? {} : { [attribute.takenMs]: { N: String(takenAtMs) } }),
    [attribute.releaseCode]: { S: lease.releaseCode },
    [attribute.expires]: { N: String(toExpiresSeconds(lease.expiresAtMs)) },
    [attribute.expiresMs]: { N: String(lease.expiresAtMs) },
    [attribute.fencingToken]: { N: String(lease.fencingToken) },
    ...(lease.owner === undefined ? {} : { [attribute.owner]: { S: lease.owner } }),
  };
}

/** What a holder writes into its slot item. */
export interface HolderFields {
  releaseCode: string;
  expiresAtMs: number;
  owner?: string;
  /** When the lease begins. */
  takenAtMs: number;
}

/**
 * The update that makes `holder` the holder of a slot: code, both lease ends, owner (removed
 * when the new holder has none, so no former holder's owner stays behind in the owner index)
 * and the fencing token, computed by `tokenExpression` from the item's values.
 *
 * @example
 * const update = holderUpdate({ releaseCode, expiresAtMs, takenAtMs: nowMs }, ':token');
 * new UpdateItemCommand({ ..., UpdateExpression: update.expression, ExpressionAttributeNames: update.names, ... });
 */
export function holderUpdate(holder: HolderFields, tokenExpression: string) {
  const owner = holder.owner === undefined ? ' REMOVE #owner' : '';
  return {
    expression: `SET #releaseCode = :releaseCode, #expires = :expires, #expiresMs = :expiresMs${holder.owner === undefined ? '' : ', #owner = :owner'}, #fencingToken = ${tokenExpression}, #takenMs = :takenMs${owner}`,
    names: {
      ...leaseNames,
      '#owner': attribute.owner,
      '#fencingToken': attribute.fencingToken,
      '#takenMs': attribute.takenMs,
    },
    values: {
      ':releaseCode': { S: holder.releaseCode },
      ':takenMs': { N: String(holder.takenAtMs) },
      ':expires': { N: String(toExpiresSeconds(holder.expiresAtMs)) },
      ':expiresMs': { N: String(holder.expiresAtMs) },
      ...(holder.owner === undefined ? {} : { ':owner': { S: holder.owner } }),
    },
  };
}

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { slotKey } from '../item.js';
import type { Lease } from '../lease.js';
import { attribute, requestAttribute } from '../table.js';
import { primarySlotOf } from './request.js';

/** The parts of a conditional write on one item, as UpdateItem and a transaction's Update take them. */
interface ItemWrite {
  TableName: string;
  Key: Record<string, AttributeValue>;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
}

/**
 * Marks a waiting request as granted `lease`, on condition that it still waits (not granted by
 * someone else, not withdrawn): the one place a request becomes granted, so it happens once.
 *
 * @example
 * new UpdateItemCommand(markGrantedWrite(tableName, requestKey, lease));
 */
export function markGrantedWrite(
  tableName: string,
  requestKey: number,
  lease: Pick<Lease, 'resourceId' | 'concurrencyId' | 'expiresAtMs' | 'fencingToken'>,
): ItemWrite & { UpdateExpression: string } {
  return {
    TableName: tableName,
    Key: slotKey(lease.resourceId, requestKey),
    UpdateExpression: 'SET #grantedSlot = :slot, #grantedUntilMs = :expiresMs, #grantedToken = :token',
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
  };
}

/**
 * A transaction check that a request does not hold its primary slot (a first attempt of the
 * same request, running at the same moment, may have taken it with a plain write).
 *
 * @example
 * TransactItems: [..., { ConditionCheck: notHoldingPrimarySlot(tableName, request, nowMs) }]
 */
export function notHoldingPrimarySlot(
  tableName: string,
  request: { resourceId: string; releaseCode: string; concurrency: number },
  nowMs: number,
): ItemWrite {
  return {
    TableName: tableName,
    Key: slotKey(request.resourceId, primarySlotOf(request.releaseCode, request.concurrency)),
    ConditionExpression:
      'attribute_not_exists(#releaseCode) OR #releaseCode <> :releaseCode OR #expiresMs < :nowMs',
    ExpressionAttributeNames: { '#releaseCode': attribute.releaseCode, '#expiresMs': attribute.expiresMs },
    ExpressionAttributeValues: { ':releaseCode': { S: request.releaseCode }, ':nowMs': { N: String(nowMs) } },
  };
}

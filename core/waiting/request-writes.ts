import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { slotKey } from '../item.js';
import { attribute } from '../table.js';
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

import { createHash } from 'node:crypto';
import { type AttributeValue, GetItemCommand, type GetItemCommandOutput } from '@aws-sdk/client-dynamodb';
import { slotKey, toExpiresSeconds } from '../item.js';
import { sendWithRetry } from '../send.js';
import { attribute } from '../table.js';
import type { SlotRequest } from './request.js';
import type { WaitingStore } from './waiting-store.js';

/*
 * A task token's claim: which request it was recorded for. A token answers one task, so the
 * service must never answer it for a request its workflow did not make: an acquire that brings
 * a token already recorded under another resource or payload (a leaked token, replayed) is
 * refused without answering that task (issue 15).
 *
 * The claim lives in the request table under its own key (the token's release code), because a
 * record lives under its resource and cannot be found from another. It is written in the record
 * transaction, and read beside the request's own record by a first attempt, so it costs one
 * write per recorded request and one small read per first attempt.
 */

type Item = Record<string, AttributeValue>;

/** Attributes of a claim item. */
const claimAttribute = { fingerprint: 'claim_fingerprint', expires: attribute.expires } as const;

/** Step Functions keeps a task at most a year: its token is claimed that long, then TTL drops it. */
const claimLifetimeMs = 366 * 24 * 3_600_000;

function claimKey(releaseCode: string): Item {
  return slotKey(`token#${releaseCode}`, 0);
}

/**
 * What must match for two deliveries to be the same request: everything of the acquire input but
 * its deadline (`waitSeconds` counts from each delivery's arrival, and the first one's stands).
 */
export function fingerprintOf(request: SlotRequest): string {
  const fields = [
    request.resourceId,
    request.concurrency,
    request.leaseMs,
    request.owner ?? null,
    request.heartbeatSeconds ?? null,
  ];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 32);
}

/**
 * The Put of a token's claim, for the record transaction: it lands when the token is unclaimed
 * or claimed by this very request (a repeated delivery), and is refused otherwise.
 */
export function claimWrite(tableName: string, request: SlotRequest, releaseCode: string, nowMs: number) {
  return {
    TableName: tableName,
    Item: {
      ...claimKey(releaseCode),
      [claimAttribute.fingerprint]: { S: fingerprintOf(request) },
      [claimAttribute.expires]: { N: String(toExpiresSeconds(nowMs + claimLifetimeMs)) },
    },
    ConditionExpression: 'attribute_not_exists(#fingerprint) OR #fingerprint = :fingerprint',
    ExpressionAttributeNames: { '#fingerprint': claimAttribute.fingerprint },
    ExpressionAttributeValues: { ':fingerprint': { S: fingerprintOf(request) } },
  };
}

/**
 * Whether `request` may be answered on its token: true when the token is unclaimed, or claimed
 * by this same request. `undefined` stands for any request, for input that did not parse: then
 * only an unclaimed token may be answered (with the input's error).
 *
 * @example
 * if (!(await mayAnswerFor(store, releaseCode, request))) return { status: 'refused' };
 */
export async function mayAnswerFor(
  store: WaitingStore,
  releaseCode: string,
  request: SlotRequest | undefined,
): Promise<boolean> {
  const output = await sendWithRetry<GetItemCommandOutput>(
    store,
    new GetItemCommand({
      TableName: store.requestTableName,
      Key: claimKey(releaseCode),
      ConsistentRead: true,
    }),
  );
  const claimed = output.Item?.[claimAttribute.fingerprint]?.S;
  if (claimed === undefined) return true;
  return request !== undefined && claimed === fingerprintOf(request);
}

import { createHash } from 'node:crypto';
import {
  type AttributeValue,
  GetItemCommand,
  type GetItemCommandOutput,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { slotKey, toExpiresSeconds } from '../item.js';
import { sendConditional, sendWithRetry } from '../send.js';
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
 * record lives under its resource and cannot be found from another. The first attempt writes it
 * before anything else (one conditional write per acquire): a replay must be refused before it
 * touches a slot, since the take would recognise the slot of the token's own request as "already
 * ours" and rewrite its lease (found by review). Bad input only reads it.
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
 * What must match for two deliveries to be the same request: everything of the acquire input
 * (`waitSeconds` as asked: the deadline it makes counts from each delivery's arrival).
 */
export function fingerprintOf(request: SlotRequest): string {
  const fields = [
    request.resourceId,
    request.concurrency,
    request.leaseMs,
    request.owner ?? null,
    request.heartbeatSeconds ?? null,
    request.waitSeconds ?? null,
  ];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 32);
}

/**
 * Claims a task token for `request`: true when it was unclaimed or is claimed by this very
 * request (a repeated delivery, or this write retried after a lost answer), false when another
 * request claimed it.
 *
 * @example
 * if (!(await claimToken(store, releaseCode, request))) return { kind: 'refused' };
 */
export async function claimToken(
  store: WaitingStore,
  releaseCode: string,
  request: SlotRequest,
): Promise<boolean> {
  const fingerprint = { S: fingerprintOf(request) };
  return sendConditional(
    store,
    new PutItemCommand({
      TableName: store.requestTableName,
      Item: {
        ...claimKey(releaseCode),
        [claimAttribute.fingerprint]: fingerprint,
        [claimAttribute.expires]: { N: String(toExpiresSeconds(store.clock() + claimLifetimeMs)) },
      },
      ConditionExpression: 'attribute_not_exists(#fingerprint) OR #fingerprint = :fingerprint',
      ExpressionAttributeNames: { '#fingerprint': claimAttribute.fingerprint },
      ExpressionAttributeValues: { ':fingerprint': fingerprint },
    }),
  );
}

/**
 * Whether input that did not parse may be answered (with its error) on its token: only when no
 * request claimed the token. Reads, never claims: bad input is nobody's request.
 *
 * @example
 * if (!(await isUnclaimed(store, releaseCode))) return { status: 'refused' };
 */
export async function isUnclaimed(store: WaitingStore, releaseCode: string): Promise<boolean> {
  const output = await sendWithRetry<GetItemCommandOutput>(
    store,
    new GetItemCommand({
      TableName: store.requestTableName,
      Key: claimKey(releaseCode),
      ConsistentRead: true,
    }),
  );
  return output.Item?.[claimAttribute.fingerprint]?.S === undefined;
}

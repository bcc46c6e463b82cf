import {
  ConditionalCheckFailedException,
  GetItemCommand,
  type GetItemCommandOutput,
  PutItemCommand,
  type PutItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { LockError } from './errors.js';
import { slotKey } from './item.js';
import { sendWithRetry } from './send.js';
import type { LockStore } from './store.js';

/*
 * A resource's limit: how many may hold it at once, as the resource's own fact rather than each
 * caller's claim (issue 15). Without it, a caller asking for a larger concurrency than the
 * others got a slot above the limit they honour.
 *
 * The first grant of a workflow (or the SQS throttle's first take) records its concurrency on the
 * item at the reserved key -1 of the lock table; every later request must ask for the same, or is
 * refused naming both. Only `setResourceLimit` (`dlm limit <resource> <K>`) changes it, on purpose.
 * Python dynamo-dlm never reads it (negative keys are not slots): its clients cannot be checked.
 */

/** The sort key of a resource's limit item: per-resource state, below the slots. */
export const limitKey = -1;

const limitAttribute = {
  concurrency: 'concurrency_limit',
  setBy: 'limit_set_by',
  setAtMs: 'limit_set_at_ms',
} as const;

/** A request asked for another concurrency than the resource's limit. */
export class ResourceLimitMismatchError extends LockError {
  override name = 'ResourceLimitMismatchError';
  constructor(
    readonly resourceId: string,
    readonly asked: number,
    readonly limit: number,
  ) {
    super(
      `concurrency ${asked} does not match the limit ${limit} recorded for "${resourceId}"; ` +
        `ask for ${limit}, or change the limit on purpose with: dlm limit ${resourceId} ${asked}`,
    );
  }
}

/**
 * The resource's recorded limit, or undefined when nothing recorded one yet. A consistent read:
 * just after `dlm limit` changed it, a stale one would refuse a request for good (found by review).
 *
 * @example
 * const limit = await readResourceLimit(store, 'partner-api'); // 3
 */
export async function readResourceLimit(store: LockStore, resourceId: string): Promise<number | undefined> {
  const output = await sendWithRetry<GetItemCommandOutput>(
    store,
    new GetItemCommand({
      TableName: store.tableName,
      Key: slotKey(resourceId, limitKey),
      ConsistentRead: true,
    }),
  );
  const stored = output.Item?.[limitAttribute.concurrency]?.N;
  return stored === undefined ? undefined : Number(stored);
}

/**
 * The limit in force for a request that asks for `concurrency`: the recorded one, or, when none
 * is recorded, `concurrency` itself, recorded now (the first writer wins; a loser learns the
 * winner's from the refusal). Compare it with what was asked.
 *
 * @example
 * const limit = await resourceLimitFor(store, 'partner-api', 3);
 * if (limit !== 3) throw new ResourceLimitMismatchError('partner-api', 3, limit);
 */
export async function resourceLimitFor(
  store: LockStore,
  resourceId: string,
  concurrency: number,
): Promise<number> {
  const recorded = await readResourceLimit(store, resourceId);
  if (recorded !== undefined) return recorded;
  try {
    await sendWithRetry<PutItemCommandOutput>(
      store,
      new PutItemCommand({
        TableName: store.tableName,
        Item: limitItem(resourceId, concurrency, 'first grant', store.clock()),
        ConditionExpression: 'attribute_not_exists(#limit) OR #limit = :limit',
        ExpressionAttributeNames: { '#limit': limitAttribute.concurrency },
        ExpressionAttributeValues: { ':limit': { N: String(concurrency) } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return concurrency;
  } catch (error) {
    // Another first grant recorded its own limit a moment ago (a retry of ours is accepted).
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return Number(error.Item?.[limitAttribute.concurrency]?.N);
  }
}

/**
 * Sets a resource's limit on purpose, whatever was recorded, and records who did it and when.
 * Answers the previous limit. Holders above a lowered limit keep their slots until they release
 * them; requests already waiting keep the concurrency they were accepted with.
 *
 * @example
 * const previous = await setResourceLimit(store, 'partner-api', 5, 'alice@ops-laptop');
 */
export async function setResourceLimit(
  store: LockStore,
  resourceId: string,
  concurrency: number,
  setBy: string,
): Promise<number | undefined> {
  const output = await sendWithRetry<PutItemCommandOutput>(
    store,
    new PutItemCommand({
      TableName: store.tableName,
      Item: limitItem(resourceId, concurrency, setBy, store.clock()),
      ReturnValues: 'ALL_OLD',
    }),
  );
  const previous = output.Attributes?.[limitAttribute.concurrency]?.N;
  return previous === undefined ? undefined : Number(previous);
}

function limitItem(resourceId: string, concurrency: number, setBy: string, nowMs: number) {
  return {
    ...slotKey(resourceId, limitKey),
    [limitAttribute.concurrency]: { N: String(concurrency) },
    [limitAttribute.setBy]: { S: setBy },
    [limitAttribute.setAtMs]: { N: String(nowMs) },
  };
}

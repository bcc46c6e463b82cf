import { ConditionalCheckFailedException, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { slotKey } from '../core/item.js';
import { sendConditional, sendWithRetry } from '../core/send.js';
import type { LockStore } from '../core/store.js';
import { attribute } from '../core/table.js';

/**
 * Where a copy's claim lives in the lock table: a resource id of its own (never a key a user
 * locks: the prefix has a space) at a negative `concurrency_id`, so no holder count, Python
 * dynamo-dlm included, ever sees it.
 */
const claimPrefix = 'dlm-sqs-copy ';
const claimConcurrencyId = -2;

/**
 * A claim outlives any copy that could still be delivered: SQS keeps a message at most 14 days,
 * plus a 15-minute timer. TTL then removes it.
 */
const claimLifetimeSeconds = 15 * 24 * 3600;

/**
 * Claims generation `generation` of the line of copies that started with message `origin` for
 * the message `messageId` (see {@link CopyClaim}). Two messages with one identity are duplicates of one copy (the
 * SDK repeated a SendMessageBatch whose answer was lost): only the claimant runs. One
 * conditional write.
 *
 * @example
 * if ((await claimCopy(store, 'abc-123', 2, record.messageId)) === 'taken') return; // a duplicate: drop it
 */
export async function claimCopy(
  store: LockStore,
  origin: string,
  generation: number,
  messageId: string,
): Promise<CopyClaim> {
  try {
    await sendWithRetry(
      store,
      new PutItemCommand({
        TableName: store.tableName,
        Item: claimItem(store, origin, generation, messageId),
        // The claimant's own repeat (a redelivery, or a retried write whose answer was lost) passes,
        // and so does a holder's run of the parked record that ended without success.
        ConditionExpression:
          'attribute_not_exists(#resourceId) OR #claimedBy = :messageId OR (#runUntil < :nowMs AND attribute_not_exists(#done))',
        ExpressionAttributeNames: {
          '#resourceId': attribute.resourceId,
          '#claimedBy': 'claimed_by',
          '#runUntil': 'run_until_ms',
          '#done': 'done',
        },
        ExpressionAttributeValues: { ':messageId': { S: messageId }, ':nowMs': { N: String(store.clock()) } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return 'mine';
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    // A holder running the parked record may still fail: then this copy must run, so not dropped.
    const old = error.Item;
    return old?.claimed_by?.S?.startsWith('parked:') && old.done === undefined ? 'busy' : 'taken';
  }
}

/**
 * A copy's claim: this message's (`mine`), another message's or a finished parked run's
 * (`taken`: a duplicate, dropped), or a holder's run of the parked record still going (`busy`:
 * report the copy failed, so it comes back and asks again).
 */
export type CopyClaim = 'mine' | 'taken' | 'busy';

/**
 * Claims a parked record's copy for a holder that runs it under its lease until `runUntilMs`:
 * the SQS copy, when it comes back, is then dropped. Should the holder fail or die, the claim
 * lapses at `runUntilMs` (or at once with `dropClaim`) and the copy runs. One write.
 *
 * @example
 * if (await claimParked(store, origin, 2, 'fn:req-1', lease.expiresAtMs)) await run(record);
 */
export async function claimParked(
  store: LockStore,
  origin: string,
  generation: number,
  holder: string,
  runUntilMs: number,
): Promise<boolean> {
  return sendConditional(
    store,
    new PutItemCommand({
      TableName: store.tableName,
      Item: {
        ...claimItem(store, origin, generation, `parked:${holder}`),
        run_until_ms: { N: String(runUntilMs) },
      },
      ConditionExpression: 'attribute_not_exists(#resourceId)',
      ExpressionAttributeNames: { '#resourceId': attribute.resourceId },
    }),
  );
}

/**
 * Settles a holder's claim: `done` (the record ran: its copy is dropped for good) or not (the
 * copy may run now). One write; a lost write leaves the claim to lapse at its run end.
 *
 * @example
 * await settleParkedClaim(store, origin, 2, 'fn:req-1', true);
 */
export async function settleParkedClaim(
  store: LockStore,
  origin: string,
  generation: number,
  holder: string,
  done: boolean,
): Promise<void> {
  await sendWithRetry(
    store,
    new UpdateItemCommand({
      TableName: store.tableName,
      Key: claimKey(origin, generation),
      UpdateExpression: done ? 'SET #done = :true' : 'SET #runUntil = :zero',
      ConditionExpression: '#claimedBy = :holder',
      ExpressionAttributeNames: done
        ? { '#done': 'done', '#claimedBy': 'claimed_by' }
        : { '#runUntil': 'run_until_ms', '#claimedBy': 'claimed_by' },
      ExpressionAttributeValues: done
        ? { ':true': { BOOL: true }, ':holder': { S: `parked:${holder}` } }
        : { ':zero': { N: '0' }, ':holder': { S: `parked:${holder}` } },
    }),
  );
}

/** The claim's table key: its own resource id at the reserved `concurrency_id`. */
function claimKey(origin: string, generation: number) {
  return slotKey(`${claimPrefix}${origin} ${generation}`, claimConcurrencyId);
}

/** A new claim item, kept until every copy that could bear its identity is gone. */
function claimItem(store: LockStore, origin: string, generation: number, claimedBy: string) {
  return {
    ...claimKey(origin, generation),
    claimed_by: { S: claimedBy },
    [attribute.expires]: { N: String(Math.ceil(store.clock() / 1000) + claimLifetimeSeconds) },
  };
}

import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { slotKey, toExpiresSeconds } from '../item.js';
import type { Lease, SlotHold } from '../lease.js';
import { releasedSeconds } from '../operations/release-slot.js';
import { sendConditional, sendTransaction, sendWithRetry } from '../send.js';
import { attribute, queueAttribute, requestAttribute } from '../table.js';
import { dropQueueEntry, queueKeyOf, toQueueItem } from './queue.js';
import { type RequestGrant, type RequestState, type StoredRequest, slotsOf } from './request.js';
import { fromRequestItem, toRequestItem, toSlotsAttribute } from './request-item.js';
import type { WaitingStore } from './waiting-store.js';

/*
 * The lifecycle of a waiting request: the one module that writes request transitions.
 *
 *   (none) ──record──▶ waiting ──grant──▶ granted ──answer──▶ answered ──forget──▶ (deleted)
 *                       │  ▲               │  │
 *                       │  └───regrant─────┘  └──extend──▶ granted (a later lease end)
 *                       ├──time-out──▶ timed-out ──told──▶ (token removed, TTL)
 *                       └──withdraw──▶ withdrawn (by the cleanup, also from granted, answered)
 *
 * | transition | from → to               | writer(s)                                   | durable fact it rests on |
 * |------------|-------------------------|---------------------------------------------|--------------------------|
 * | record     | none → waiting          | acquire                                     | the item did not exist (a repeat finds it and continues it) |
 * | rechain    | waiting → waiting       | acquire's repeat, retry turn, sweeper       | the item still waits (and, for a turn, under the chain it read) |
 * | grant      | waiting → granted       | hand-over (also a repeated first attempt's, of the slot it took), any grant pass | the slot write in the same transaction (free, or passed on by its holder); a retry recognises only its own token and lease end; with a rate, also the rate item's update in that transaction (the rate allowed a start now), the transaction carrying a client request token so its retry is its own result; with `permits` n > 1, all n slot writes in that transaction (each free and unchanged since read), the record listing them (`granted_slots`), granted by a pass only (never a hand-over, never a first attempt) |
 * | rate-hold  | waiting → waiting       | any grant pass, hand-over                   | the rate item: its TAT as read with the slots, or its refusal of the grant transaction; the head's turn is set for the moment it names |
 * | permits-hold | waiting → waiting     | any grant pass, hand-over                   | the slots as read with the queue: fewer than its n free together (or its grant refused by a slot); nothing is written, nobody behind it is granted, its record read as waiting (a stale entry holds nothing) |
 * | extend     | granted → granted       | any answerer, when the lease lacks a margin | every slot of the grant still holds its code and token, unexpired (one transaction: the slots keep one end) |
 * | regrant    | granted → waiting       | any answerer, when the lease ended unanswered | no slot of the grant still holds it unexpired |
 * | answer     | granted → answered      | any answerer, after SendTaskSuccess returned, or the task said it takes no answer | the grant's fencing token on the item |
 * | time-out   | waiting → timed-out     | a pass (at the head), its retry turn, sweeper | `wait_until_ms` passed while the item still waits |
 * | told       | timed-out → timed-out, ended | whoever sent the Lock.Timeout          | SendTaskFailure returned (or the task is gone) |
 * | queue      | waiting → waiting       | retry turn of a request from before the queue | the item waits and has no queue entry yet |
 * | withdraw   | waiting → withdrawn     | retry turn (heartbeat: the task is gone)    | a waiting task, answered by nobody, no longer exists |
 * | withdraw   | waiting, granted, answered → withdrawn | cleanup, which then frees the grant's slots (all it lists) | DescribeExecution: the owner's execution ended |
 * | forget     | answered → deleted      | sweeper, or a turn that meets it            | its lease ended (`due_ms` is the lease end) |
 *
 * A start rate (`core/rate.ts`, the request's `rate`) adds no state: a request the rate holds
 * back stays `waiting` at the head (rate-hold), with nothing written but its next turn. Nobody
 * behind it is granted meanwhile (first come, first served), a hand-over takes no slot from its
 * holder for it (the slot is released as usual and stays free), and whoever left it held back
 * (a release's pass, a retry turn, a first attempt's pass) makes sure its turn is set for the
 * rate's moment (`functions/lib/head-wake.ts`; SQS's 900 s cap: a chain of turns). Which of two
 * granters counts the start is decided by the rate item in the grant's own transaction, never
 * by what either read before: the loser is refused by the item, as by a taken slot.
 *
 * Permits (`request.permits` n > 1) add no state either: such a request is recorded before it
 * takes anything and is granted all n slots by a pass, in the transaction that marks its record,
 * so the record alone names its slots (for the answer, the release, the cleanup, an extension or a
 * regrant). At the head with fewer than n slots free together it holds the queue as the rate
 * does (permits-hold): no pass grants anyone behind it, and a release's hand-over passes it no
 * slot (one slot is not n; the slot is released and the release's pass looks again). Its turn
 * comes by the next lease end, like any head's. The cost, by design: slots may stay free while
 * smaller requests wait behind it.
 *
 * The queue entry (`core/waiting/queue.ts`) follows the record: record and regrant write it in
 * their transaction, grant deletes it in its transaction, and the other ways out of `waiting`
 * (time-out, withdraw) drop it right after their own write, on the
 * condition that the record no longer waits.
 *
 * Every transition is one conditional write whose condition names the state it leaves and
 * accepts the state it produces itself, so a write retried after a lost answer recognises its
 * own result. Writers that lose a race learn it from the refusal (the record), never from
 * Step Functions' answer to a task: that answer says nothing about who else answered it.
 *
 * A slot is never freed here: only a release, a lease's end, or the cleanup of an ended
 * execution frees one. A grant's answer that hears "task gone" marks it answered and leaves
 * the slot to those three, because the task may be gone exactly because another answerer
 * delivered the same grant and the workflow is using the slot.
 */

type Item = Record<string, AttributeValue>;

/** The parts of a conditional update, as UpdateItem and a transaction's Update take them. */
export interface RequestUpdate {
  TableName: string;
  Key: Item;
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Item;
}

/** How long a grant may stay unanswered before the sweeper re-drives it. */
export const answerGraceMs = 30_000;

/**
 * The least lease a grant must have left when it is answered: the larger of 1 s and 10% of the
 * lease. An answer is assumed to reach the workflow within this margin of being sent.
 */
export function answerMarginMs(leaseMs: number): number {
  return Math.max(1_000, Math.round(leaseMs / 10));
}

const names = {
  '#state': requestAttribute.state,
  '#token': requestAttribute.taskToken,
  '#dueMs': requestAttribute.dueMs,
  '#dueShard': requestAttribute.dueShard,
  '#expires': requestAttribute.expires,
  '#retryChain': requestAttribute.retryChain,
  '#grantedSlot': requestAttribute.grantedSlot,
  '#grantedUntilMs': requestAttribute.grantedUntilMs,
  '#grantedToken': requestAttribute.grantedFencingToken,
  '#grantedSlots': requestAttribute.grantedSlots,
  '#queueKey': requestAttribute.queueKey,
};

const state = (value: RequestState): AttributeValue => ({ S: value });
const number = (value: number): AttributeValue => ({ N: String(value) });

// An ended request: no task token to steal, out of the due index, and TTL-eligible at once. Its
// `expires` is in the past, so Python dynamo-dlm never counts it.
const endFields = 'REMOVE #token, #dueMs, #dueShard';
const endExpires = (nowMs: number) => ({ ':ended': number(releasedSeconds(nowMs)) });

function update(
  tableName: string,
  request: Pick<StoredRequest, 'resourceId' | 'requestKey'>,
  expression: string,
  condition: string,
  values: Item,
): RequestUpdate {
  return {
    TableName: tableName,
    Key: slotKey(request.resourceId, request.requestKey),
    UpdateExpression: expression,
    ConditionExpression: condition,
    // Only the names each expression uses: DynamoDB refuses unused ones.
    ExpressionAttributeNames: Object.fromEntries(
      Object.entries(names).filter(([placeholder]) => `${expression} ${condition}`.includes(placeholder)),
    ),
    ExpressionAttributeValues: values,
  };
}

/**
 * grant: waiting → granted, as one item of the grant transaction (the other takes the slot).
 * Accepts its own result, so a transaction retried after a lost answer lands again instead of
 * reading as "granted by someone else": the same fencing token *and* the same lease end. The
 * token alone does not name this write: two passes that read the same free slot (a retry turn
 * and a cleanup's pass, say) give the request the same token (the slot's plus one) with lease
 * ends from their own clock reads. Accepting the other's grant as its own, the pass that landed
 * second wrote its earlier end over the lease the first had answered, and the slot was free to
 * a newcomer while the workflow still held it (chaos seed 96198478: a lease to 13582 ms answered,
 * 12283 ms written, a library client in at 12732 ms). Refused, the second pass hears
 * `request-settled` and answers nothing; the grant that landed is answered by its own granter.
 * Its slots too: two passes in one millisecond on other never-used slots offer the same token
 * (the clock's floor plus one) and the same end, and the second, taken for the first, held a
 * slot the record did not name (and, with several permits, more slots than it asked for).
 */
export function grantWrite(
  tableName: string,
  request: Pick<StoredRequest, 'resourceId' | 'requestKey'>,
  lease: Pick<Lease, 'concurrencyId' | 'expiresAtMs' | 'fencingToken' | 'slots'>,
  nowMs: number,
): RequestUpdate {
  // A grant of several permits names every slot and its token: the release, the cleanup, the
  // extension and a regrant act on all of them, from the record alone.
  const many = lease.slots !== undefined && lease.slots.length > 1;
  return update(
    tableName,
    request,
    `SET #state = :granted, #grantedSlot = :slot, #grantedUntilMs = :expiresMs, #grantedToken = :grantToken, #dueMs = :due${many ? ', #grantedSlots = :slots' : ''}`,
    `#state = :waiting OR (#state = :granted AND #grantedToken = :grantToken AND #grantedUntilMs = :expiresMs AND #grantedSlot = :slot${many ? ' AND #grantedSlots = :slots' : ''})`,
    {
      ':waiting': state('waiting'),
      ':granted': state('granted'),
      ':slot': number(lease.concurrencyId),
      ':expiresMs': number(lease.expiresAtMs),
      ':grantToken': number(lease.fencingToken),
      ':due': number(nowMs + answerGraceMs),
      ...(many ? { ':slots': toSlotsAttribute(lease.slots ?? []) } : {}),
    },
  );
}

/**
 * rechain: the request still waits and continues under `to`. With `from`, only if it waits under
 * one of those chains (the chains the turn may carry on) or already under `to` (this very write,
 * retried after a lost answer).
 */
export async function rechain(
  store: WaitingStore,
  request: Pick<StoredRequest, 'resourceId' | 'requestKey'>,
  chain: { from?: string[]; to: string; dueMs: number },
): Promise<boolean> {
  const from = [...new Set(chain.from ?? [])];
  const fromValues = Object.fromEntries(from.map((id, index) => [`:from${index}`, { S: id }]));
  const onChain =
    from.length === 0 ? '' : ` AND #retryChain IN (${[...Object.keys(fromValues), ':to'].join(', ')})`;
  return transition(store, request, 'SET #retryChain = :to, #dueMs = :due', `#state = :waiting${onChain}`, {
    ':waiting': state('waiting'),
    ':to': { S: chain.to },
    ':due': number(chain.dueMs),
    ...fromValues,
  });
}

/** One transition as a single conditional UpdateItem: true when it landed, false when refused. */
function transition(
  store: WaitingStore,
  request: Pick<StoredRequest, 'resourceId' | 'requestKey'>,
  expression: string,
  condition: string,
  values: Item,
): Promise<boolean> {
  return sendConditional(
    store,
    new UpdateItemCommand(update(store.requestTableName, request, expression, condition, values)),
  );
}

/** The slot still holds `grant` for this request, unexpired at `:now`. */
const grantStillHeld = '#releaseCode = :releaseCode AND #fencingToken = :grantToken AND #expiresMs >= :now';

/** The key, names and values of a condition on one slot of a grant (one per permit). */
function slotWrite(
  tableName: string,
  request: Pick<StoredRequest, 'resourceId' | 'releaseCode'>,
  hold: SlotHold,
  nowMs: number,
) {
  return {
    TableName: tableName,
    Key: slotKey(request.resourceId, hold.concurrencyId),
    ExpressionAttributeNames: {
      '#releaseCode': attribute.releaseCode,
      '#fencingToken': attribute.fencingToken,
      '#expiresMs': attribute.expiresMs,
    },
    values: {
      ':releaseCode': { S: request.releaseCode },
      ':grantToken': number(hold.fencingToken),
      ':now': number(nowMs),
    },
  };
}

/**
 * extend: the grant's lease moves to `expiresAtMs`, on every slot of it and the record at once,
 * while each slot still holds it unexpired; never shorter: when the slots' lease already ends
 * later (its workflow extended it with the extend step, which the record does not hear of), that
 * end is the grant's, on the record too; when only some slots end later, every slot is moved to
 * the latest of those ends first (once), so no slot ends before what the grant answers.
 * Repeating it lands again (the slots are still held).
 * Answers the extended grant, or undefined when a slot or the record moved on. The slots of a
 * grant of several permits move together, in one transaction, so they always share one end.
 */
export async function extendGrant(
  store: WaitingStore,
  request: StoredRequest,
  grant: RequestGrant,
  expiresAtMs: number,
  attempt = 0,
): Promise<RequestGrant | undefined> {
  const nowMs = store.clock();
  const holds = slotsOf(grant);
  const record = (untilMs: number) =>
    update(
      store.requestTableName,
      request,
      'SET #grantedUntilMs = :expiresMs',
      '#state = :granted AND #grantedToken = :grantToken',
      {
        ':granted': state('granted'),
        ':grantToken': number(grant.fencingToken),
        ':expiresMs': number(untilMs),
      },
    );
  try {
    await sendWithRetry(
      store,
      new TransactWriteItemsCommand({
        TransactItems: [
          ...holds.map((hold) => {
            const slot = slotWrite(store.tableName, request, hold, nowMs);
            return {
              Update: {
                TableName: slot.TableName,
                Key: slot.Key,
                UpdateExpression: 'SET #expires = :expires, #expiresMs = :expiresMs',
                ConditionExpression: `${grantStillHeld} AND #expiresMs <= :expiresMs`,
                ExpressionAttributeNames: { ...slot.ExpressionAttributeNames, '#expires': attribute.expires },
                ExpressionAttributeValues: {
                  ...slot.values,
                  ':expires': number(toExpiresSeconds(expiresAtMs)),
                  ':expiresMs': number(expiresAtMs),
                },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
              },
            };
          }),
          { Update: record(expiresAtMs) },
        ],
      }),
    );
    return { ...grant, expiresAtMs };
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    // Refused for a slot: is each refusing slot still this grant's, with a later end? Then that
    // end stands (the extend step moves all slots of a lease to one end).
    const reasons = (error.CancellationReasons ?? []).slice(0, holds.length);
    const refused = reasons.filter((reason) => reason.Code === 'ConditionalCheckFailed');
    const laterEnds = refused.map((reason, index) => {
      const item = reason.Item;
      const hold = holds[reasons.indexOf(reason)] ?? holds[index];
      const slotEndMs = Number(item?.[attribute.expiresMs]?.N ?? 0);
      const stillOurs =
        item?.[attribute.releaseCode]?.S === request.releaseCode &&
        item?.[attribute.fencingToken]?.N === String(hold?.fencingToken) &&
        slotEndMs > expiresAtMs;
      return stillOurs ? slotEndMs : undefined;
    });
    if (refused.length === 0 || laterEnds.some((end) => end === undefined)) return undefined;
    // Only some slots end later (the extend step was given one slot of the lease): the others
    // must reach that end too before the grant may be answered it, all in one transaction again.
    if (refused.length < holds.length)
      return attempt === 0
        ? extendGrant(store, request, grant, Math.max(...(laterEnds as number[])), attempt + 1)
        : undefined;
    const slotEndMs = Math.min(...(laterEnds as number[]));
    if (!(await sendConditional(store, new UpdateItemCommand(record(slotEndMs))))) return undefined;
    return { ...grant, expiresAtMs: slotEndMs };
  }
}

/**
 * regrant: granted → waiting, because the grant's lease ended before anyone answered it: the
 * slots may belong to someone else now, so the request queues again (at its old place) and is
 * granted afresh. Refused while any slot of the grant still holds it unexpired (an extension won).
 */
export async function regrant(
  store: WaitingStore,
  request: StoredRequest,
  grant: RequestGrant,
  attempt = 0,
): Promise<boolean> {
  const nowMs = store.clock();
  const queueKey =
    attempt === 0 && request.queueKey !== undefined
      ? request.queueKey
      : queueKeyOf(request.arrivedMs, request.releaseCode, attempt);
  const holds = slotsOf(grant);
  try {
    await sendWithRetry(
      store,
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: update(
              store.requestTableName,
              request,
              'SET #state = :waiting, #dueMs = :now, #queueKey = :queueKey REMOVE #grantedSlot, #grantedUntilMs, #grantedToken, #grantedSlots',
              '(#state = :granted AND #grantedToken = :grantToken) OR #state = :waiting',
              {
                ':waiting': state('waiting'),
                ':granted': state('granted'),
                ':grantToken': number(grant.fencingToken),
                ':now': number(nowMs),
                ':queueKey': number(queueKey),
              },
            ),
          },
          // Back in the queue at its old place (an item from before the queue gets one now), never
          // over another request's entry: one that took this key meanwhile keeps it.
          {
            Put: {
              ...entryWrite(store.requestTableName, { ...request, queueKey }),
              ConditionExpression: 'attribute_not_exists(#requestKey) OR #requestKey = :ownKey',
              ExpressionAttributeNames: { '#requestKey': queueAttribute.requestKey },
              ExpressionAttributeValues: { ':ownKey': number(request.requestKey) },
            },
          },
          ...holds.map((hold) => {
            const slot = slotWrite(store.tableName, request, hold, nowMs);
            return {
              ConditionCheck: {
                TableName: slot.TableName,
                Key: slot.Key,
                ConditionExpression: `NOT (${grantStillHeld})`,
                ExpressionAttributeNames: slot.ExpressionAttributeNames,
                ExpressionAttributeValues: slot.values,
              },
            };
          }),
        ],
      }),
    );
    return true;
  } catch (error) {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const reasons = error.CancellationReasons ?? [];
    // Its place is another request's now: the nearest free one in the same millisecond.
    if (reasons[1]?.Code === 'ConditionalCheckFailed' && attempt < 10)
      return regrant(store, request, grant, attempt + 1);
    return false;
  }
}

/**
 * answer: granted → answered, once SendTaskSuccess returned (or the task said it takes no more
 * answers). Nobody answers it again; the record stays until `forget`, to recognise a repeated
 * delivery while the grant lasts. Its task token goes at once.
 */
export async function markAnswered(
  store: WaitingStore,
  request: StoredRequest,
  grant: RequestGrant,
): Promise<boolean> {
  return transition(
    store,
    request,
    'SET #state = :answered, #dueMs = :due REMOVE #token',
    '(#state = :granted OR #state = :answered) AND #grantedToken = :grantToken',
    {
      ':granted': state('granted'),
      ':answered': state('answered'),
      ':grantToken': number(grant.fencingToken),
      // The sweeper forgets it once the lease is over.
      ':due': number(grant.expiresAtMs + 1),
    },
  );
}

/**
 * time-out: waiting → timed-out, because its own deadline passed. True also when it was timed
 * out already (by this write retried, or another pass): a Lock.Timeout sent twice is harmless.
 */
export async function timeOut(store: WaitingStore, request: StoredRequest): Promise<boolean> {
  const nowMs = store.clock();
  const timedOut = await transition(
    store,
    request,
    'SET #state = :timedOut, #dueMs = :due',
    '(#state = :waiting AND attribute_exists(#token)) OR (#state = :timedOut AND attribute_exists(#token))',
    {
      ':waiting': state('waiting'),
      ':timedOut': state('timed-out'),
      ':due': number(nowMs + answerGraceMs),
    },
  );
  if (timedOut) await dropEntryOf(store, request);
  return timedOut;
}

/** Drops the queue entry of a request that has just left `waiting` (if it had one). */
export async function dropEntryOf(
  store: WaitingStore,
  request: Pick<StoredRequest, 'resourceId' | 'requestKey' | 'queueKey'>,
): Promise<void> {
  if (request.queueKey === undefined) return;
  await dropQueueEntry(store, { ...request, queueKey: request.queueKey });
}

/** told: a timed-out request's Lock.Timeout was sent; the request has ended. */
export async function markTimeoutTold(store: WaitingStore, request: StoredRequest): Promise<boolean> {
  const told = await transition(store, request, `SET #expires = :ended ${endFields}`, '#state = :timedOut', {
    ':timedOut': state('timed-out'),
    ...endExpires(store.clock()),
  });
  // Its entry, should the time-out's own drop have been cut off.
  if (told) await dropEntryOf(store, request);
  return told;
}

/**
 * withdraw: the request ends without a slot, from `waiting`. False when it had moved on (granted
 * meanwhile: then it is answered as granted, not withdrawn).
 */
export async function withdraw(
  store: WaitingStore,
  request: Pick<StoredRequest, 'resourceId' | 'requestKey' | 'queueKey'>,
): Promise<boolean> {
  const withdrawn = await sendConditional(
    store,
    new UpdateItemCommand(withdrawWrite(store, request, ['waiting', 'withdrawn'])),
  );
  if (withdrawn) await dropEntryOf(store, request);
  return withdrawn;
}

/**
 * withdraw, by the cleanup of an execution that ended: the request ends whatever it was doing
 * (waiting, granted, answered). Answers the request as it was, so that the cleanup frees the
 * slot of its grant too (a grant that landed after the cleanup looked for the owner's slots).
 */
export async function withdrawEnded(
  store: WaitingStore,
  request: Pick<StoredRequest, 'resourceId' | 'requestKey'>,
): Promise<StoredRequest | undefined> {
  try {
    const output = await sendWithRetry<UpdateItemCommandOutput>(
      store,
      new UpdateItemCommand({
        ...withdrawWrite(store, request, ['waiting', 'granted', 'answered', 'withdrawn']),
        ReturnValues: 'ALL_OLD',
      }),
    );
    const old = output.Attributes ? fromRequestItem(output.Attributes) : undefined;
    if (old) await dropEntryOf(store, old);
    return old;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

function withdrawWrite(
  store: WaitingStore,
  request: Pick<StoredRequest, 'resourceId' | 'requestKey'>,
  from: RequestState[],
): RequestUpdate {
  const values = Object.fromEntries(from.map((name, index) => [`:from${index}`, state(name)]));
  return update(
    store.requestTableName,
    request,
    `SET #state = :withdrawn, #expires = :ended ${endFields}`,
    `#state IN (${Object.keys(values).join(', ')})`,
    { ...values, ':withdrawn': state('withdrawn'), ...endExpires(store.clock()) },
  );
}

/** forget: an answered request whose grant is over (released, passed on, or its lease ended) goes. */
export async function forget(
  store: WaitingStore,
  request: StoredRequest,
  grant: RequestGrant,
): Promise<boolean> {
  const { ExpressionAttributeNames, ConditionExpression, ExpressionAttributeValues } = update(
    store.requestTableName,
    request,
    '',
    '#state = :answered AND #grantedToken = :grantToken',
    { ':answered': state('answered'), ':grantToken': number(grant.fencingToken) },
  );
  return sendConditional(
    store,
    new DeleteItemCommand({
      TableName: store.requestTableName,
      Key: slotKey(request.resourceId, request.requestKey),
      ConditionExpression,
      ExpressionAttributeNames,
      ExpressionAttributeValues,
    }),
  );
}

/**
 * record: none → waiting, as the Put of the record transaction (the other item checks that the
 * request does not hold its primary slot already). Refused when the item exists: a repeated
 * delivery, which continues the stored request with `continueWaiting` instead.
 */
export function recordWrite(tableName: string, request: StoredRequest) {
  return {
    TableName: tableName,
    Item: toRequestItem({ ...request, state: 'waiting' }),
    ConditionExpression: 'attribute_not_exists(#releaseCode)',
    ExpressionAttributeNames: { '#releaseCode': requestAttribute.releaseCode },
  };
}

/**
 * The Put of a waiting request's queue entry, for the record and regrant transactions. Putting
 * it again (a retried regrant) writes the same item.
 */
export function entryWrite(tableName: string, request: StoredRequest & { queueKey: number }) {
  return { TableName: tableName, Item: toQueueItem(request) };
}

/**
 * queue: a waiting request recorded before the queue existed gets its entry (at its arrival
 * time), so that passes, which read only the queue, see it. Its retry turn does this once.
 */
export async function queueOldRequest(store: WaitingStore, request: StoredRequest): Promise<boolean> {
  const queueKey = queueKeyOf(request.arrivedMs, request.releaseCode);
  return sendTransaction(
    store,
    new TransactWriteItemsCommand({
      TransactItems: [
        {
          Update: update(
            store.requestTableName,
            request,
            'SET #queueKey = :queueKey',
            '#state = :waiting AND (attribute_not_exists(#queueKey) OR #queueKey = :queueKey)',
            { ':waiting': state('waiting'), ':queueKey': number(queueKey) },
          ),
        },
        { Put: entryWrite(store.requestTableName, { ...request, queueKey }) },
      ],
    }),
  );
}

/** The Delete of a request's queue entry, for the grant transaction (absent: nothing to delete). */
export function entryDelete(
  tableName: string,
  request: Pick<StoredRequest, 'resourceId' | 'queueKey'>,
): { Delete: { TableName: string; Key: Item } }[] {
  return request.queueKey === undefined
    ? []
    : [{ Delete: { TableName: tableName, Key: slotKey(request.resourceId, request.queueKey) } }];
}

/**
 * rechain for a repeated delivery: the stored request (its first arrival) continues under a new
 * chain if it still waits. Otherwise answers the request as it stands (absent: gone).
 */
export async function continueWaiting(
  store: WaitingStore,
  request: Pick<StoredRequest, 'resourceId' | 'requestKey'>,
  chain: { to: string; dueMs: number },
): Promise<{ continued: true; request: StoredRequest } | { continued: false; current?: StoredRequest }> {
  try {
    const output = await sendWithRetry<UpdateItemCommandOutput>(
      store,
      new UpdateItemCommand({
        ...update(
          store.requestTableName,
          request,
          'SET #retryChain = :to, #dueMs = :due',
          '#state = :waiting',
          {
            ':waiting': state('waiting'),
            ':to': { S: chain.to },
            ':due': number(chain.dueMs),
          },
        ),
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { continued: true, request: fromRequestItem(output.Attributes ?? {}) };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return error.Item ? { continued: false, current: fromRequestItem(error.Item) } : { continued: false };
  }
}

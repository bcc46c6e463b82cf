import { type TransactionCanceledException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { sendWithRetry } from '../send.js';
import { queueAttribute } from '../table.js';
import { continueWaiting, entryWrite, recordWrite } from './lifecycle.js';
import { queueKeyOf } from './queue.js';
import { releaseCodeOf, requestKeyOf, type SlotRequest, type StoredRequest } from './request.js';
import { notHoldingPrimarySlot } from './request-writes.js';
import type { WaitingStore } from './waiting-store.js';

/**
 * `recorded`: the request now waits, under `retryChain`. `rechained`: it already waited (a
 * repeated delivery) and now continues under the new `retryChain`; older retry messages drop
 * themselves. `settled`: a repeated delivery of a request that moved on meanwhile (granted,
 * answered, or ended): drive it as it stands. `holds-primary`: another delivery of the same
 * request holds its primary slot and answers it.
 */
export type RecordOutcome =
  | { kind: 'recorded' | 'rechained'; request: StoredRequest }
  | { kind: 'settled'; request: StoredRequest }
  | { kind: 'holds-primary' };

/**
 * Records a request as waiting, in arrival order: its record and its queue entry, created only if
 * the request does not hold its primary slot already (a repeated first attempt may have got it),
 * in one transaction, so that a request never both waits and holds, nor waits unqueued.
 *
 * @example
 * const outcome = await recordWaiting(store, request, { retryChain: randomUUID(), dueMs });
 */
export async function recordWaiting(
  store: WaitingStore,
  request: SlotRequest,
  chain: { retryChain: string; dueMs: number },
  attempt = 0,
): Promise<RecordOutcome> {
  const releaseCode = releaseCodeOf(request.taskToken);
  const arrivedMs = store.clock();
  const stored: StoredRequest & { queueKey: number } = {
    ...request,
    releaseCode,
    requestKey: requestKeyOf(releaseCode),
    arrivedMs,
    // Another request took this place in the queue (same millisecond, same 3 digits): one later.
    queueKey: queueKeyOf(arrivedMs, releaseCode, attempt),
    state: 'waiting',
    retryChain: chain.retryChain,
    dueMs: chain.dueMs,
  };
  try {
    await sendWithRetry(
      store,
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: recordWrite(store.requestTableName, stored) },
          {
            Put: {
              ...entryWrite(store.requestTableName, stored),
              ConditionExpression: 'attribute_not_exists(#requestKey) OR #requestKey = :requestKey',
              ExpressionAttributeNames: { '#requestKey': queueAttribute.requestKey },
              ExpressionAttributeValues: { ':requestKey': { N: String(stored.requestKey) } },
            },
          },
          // The request does not hold its primary slot already.
          { ConditionCheck: notHoldingPrimarySlot(store.tableName, stored, stored.arrivedMs) },
        ],
      }),
    );
    return { kind: 'recorded', request: stored };
  } catch (error) {
    if ((error as Error).name !== 'TransactionCanceledException') throw error;
    const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
    if (reasons[2]?.Code === 'ConditionalCheckFailed') return { kind: 'holds-primary' };
    if (reasons[0]?.Code !== 'ConditionalCheckFailed') {
      if (reasons[1]?.Code === 'ConditionalCheckFailed' && attempt < 10)
        return recordWaiting(store, request, chain, attempt + 1);
      throw error;
    }
  }
  // The item exists: this very record retried after a lost answer, or a repeated delivery.
  const continued = await continueWaiting(store, stored, { to: chain.retryChain, dueMs: chain.dueMs });
  if (continued.continued) return { kind: 'rechained', request: continued.request };
  // Gone between our two writes (forgotten after its grant ended): record it afresh.
  return continued.current
    ? { kind: 'settled', request: continued.current }
    : recordWaiting(store, request, chain);
}

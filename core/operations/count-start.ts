import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type RateCell, type RateForm, rateRefusal, rateUpdate } from '../rate.js';
import { sendWithRetry } from '../send.js';
import type { LockStore } from '../store.js';
import { extendUpdate } from './extend-slot.js';
import type { SlotLease } from './release-slot.js';

/** What `countStart` needs: the resource's rate, and the lease a start runs under, if any. */
export interface CountStartRequest {
  resourceId: string;
  rate: { cell: RateCell; form: RateForm };
  /**
   * A slot already held that the next piece of work runs under, and when its lease must end:
   * the start is counted with a write to that slot (still ours, extended), in one transaction.
   * Absent: a start without a slot (a rate-only throttle), one conditional update of the rate item.
   */
  holding?: SlotLease & { expiresAtMs: number };
}

/**
 * Counted (`expiresAtMs`: the held lease's new end); refused by the rate (`notBeforeMs`: when it
 * allows the next start; or `retryAs`: the form was guessed wrong, try again at once); or the
 * held lease was released or taken over (`lost`), and nothing was counted.
 */
export type CountStartResult =
  | { kind: 'counted'; expiresAtMs?: number }
  | { kind: 'rate-limited'; notBeforeMs: number }
  | { kind: 'rate-form'; retryAs: RateForm }
  | { kind: 'lost' };

/**
 * Counts one start against a resource's rate where no slot is taken for it: for a piece of
 * work that runs under a slot taken earlier (the SQS throttle's next record on a held lease),
 * or for a rate without slots. With a slot, one `TransactWriteItems` of the slot's extend and
 * the rate item, so the start is counted only while the slot is still ours (a lost lease counts
 * nothing), carrying a client request token like `takePermits` so a retried transaction counts
 * once. Without, one conditional `UpdateItem` (one write unit instead of four): a retry after a
 * lost answer may count that start twice, which only makes the rate stricter.
 *
 * @example
 * const result = await countStart(store, { resourceId: 'api', rate: { cell, form: 'idle' } });
 * if (result.kind === 'rate-limited') requeueUntil(result.notBeforeMs);
 */
export async function countStart(store: LockStore, request: CountStartRequest): Promise<CountStartResult> {
  const nowMs = store.clock();
  const { cell, form } = request.rate;
  const rateItem = rateUpdate(store.tableName, request.resourceId, cell, form, nowMs);
  const holding = request.holding;
  if (!holding) {
    try {
      await sendWithRetry(store, new UpdateItemCommand(rateItem));
      return { kind: 'counted' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return refused(error.Item, cell, nowMs);
    }
  }
  try {
    await sendWithRetry(
      store,
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              ...extendUpdate(store.tableName, holding, holding.expiresAtMs),
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          { Update: rateItem },
        ],
        ClientRequestToken: randomUUID(),
      }),
    );
    return { kind: 'counted', expiresAtMs: holding.expiresAtMs };
  } catch (error) {
    if ((error as Error).name !== 'TransactionCanceledException') throw error;
    const [slot, rate] = (error as TransactionCanceledException).CancellationReasons ?? [];
    if (slot?.Code === 'ConditionalCheckFailed') return { kind: 'lost' };
    if (rate?.Code === 'ConditionalCheckFailed') return refused(rate.Item, cell, nowMs);
    // Another transaction on the same items: nothing counted; the caller treats it as a refusal
    // of the form, and tries once more at once.
    return { kind: 'rate-form', retryAs: form };
  }
}

function refused(
  item: Record<string, AttributeValue> | undefined,
  cell: RateCell,
  nowMs: number,
): CountStartResult {
  const verdict = rateRefusal(item, cell, nowMs);
  return 'retryAs' in verdict
    ? { kind: 'rate-form', retryAs: verdict.retryAs }
    : { kind: 'rate-limited', notBeforeMs: verdict.notBeforeMs };
}

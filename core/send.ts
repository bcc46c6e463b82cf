import {
  type BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DeleteItemCommand,
  type GetItemCommand,
  type PutItemCommand,
  type QueryCommand,
  TransactionCanceledException,
  type TransactWriteItemsCommand,
  type UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { fullJitterDelay, sleep } from './backoff.js';
import { LockStoreError } from './errors.js';
import type { LockStore } from './store.js';

// Throttling is worth waiting out, as Python dynamo-dlm does with its back-off.
const throttlingErrors = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

const storeRetryBackoff = { baseMs: 50, capMs: 5_000 };

/** How long a store call may keep retrying throttling and lost answers before it gives up. */
const defaultStoreRetryMs = 20_000;

/** The calls the lock makes: conditional writes, transactions and consistent reads. */
type Command =
  | UpdateItemCommand
  | PutItemCommand
  | DeleteItemCommand
  | GetItemCommand
  | QueryCommand
  | TransactWriteItemsCommand
  | BatchWriteItemCommand;

/**
 * Sends one conditional write or read, retrying throttling and answers that never came back.
 *
 * Every write the lock makes is safe to repeat: its condition accepts the state the write itself
 * produces (`release_code` equal to ours), so a retry of a write that did land recognises it
 * instead of failing or doubling a lease. A failed condition is an answer, not a fault: it is
 * rethrown as is for the caller to read, and so is a cancelled transaction.
 *
 * @example
 * const output = await sendWithRetry(store, new UpdateItemCommand(input), Date.now() + 20_000);
 */
export async function sendWithRetry<Output>(
  store: LockStore,
  command: Command,
  deadlineMs: number = store.clock() + defaultStoreRetryMs,
): Promise<Output> {
  const giveUpAtMs = Math.min(deadlineMs, store.deadlineMs ?? Number.POSITIVE_INFINITY);
  for (let attempt = 0; ; attempt++) {
    try {
      // The client's send is overloaded per command; the narrowing above is what matters here.
      return (await store.client.send(command as never)) as Output;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || error instanceof TransactionCanceledException)
        throw error;
      const kind = classify(error);
      const delay = fullJitterDelay(attempt, storeRetryBackoff);
      const throttledOut =
        kind === 'throttled' && store.clock() + delay > (store.throttledUntilMs ?? Number.POSITIVE_INFINITY);
      if (kind === 'fatal' || throttledOut || store.clock() + delay > giveUpAtMs) {
        throw new LockStoreError(`DynamoDB ${commandName(command)} failed: ${describeError(error)}`, {
          cause: error,
          throttled: kind === 'throttled',
        });
      }
      store.logger.warn(
        kind === 'throttled'
          ? 'DynamoDB throttled the lock table; backing off'
          : 'DynamoDB call failed; retrying',
        {
          command: commandName(command),
          error: describeError(error),
          attempt: attempt + 1,
          delayMs: Math.round(delay),
        },
      );
      await sleep(delay);
    }
  }
}

/**
 * Sends a conditional write with `sendWithRetry`; answers true when it landed, false when its
 * condition refused it.
 *
 * @example
 * const released = await sendConditional(store, new UpdateItemCommand(input));
 */
export async function sendConditional(
  store: LockStore,
  command: UpdateItemCommand | PutItemCommand | DeleteItemCommand,
): Promise<boolean> {
  try {
    await sendWithRetry(store, command);
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Sends a transaction with `sendWithRetry`; answers true when it landed, false when it was
 * cancelled (a condition refused it, or another transaction touched its items at once).
 *
 * @example
 * const extended = await sendTransaction(store, new TransactWriteItemsCommand(input));
 */
export async function sendTransaction(
  store: LockStore,
  command: TransactWriteItemsCommand,
): Promise<boolean> {
  try {
    await sendWithRetry(store, command);
    return true;
  } catch (error) {
    if (error instanceof TransactionCanceledException) return false;
    throw error;
  }
}

/** Throttled, retryable (5xx, network, lost answer) or fatal (our request or setup is wrong). */
function classify(error: unknown): 'throttled' | 'retryable' | 'fatal' {
  if (!(error instanceof Error)) return 'fatal';
  if (throttlingErrors.has(error.name)) return 'throttled';
  const meta = error as Error & {
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
    code?: string;
  };
  const status = meta.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return 'retryable';
  if (meta.$retryable) return 'retryable';
  // No HTTP status at all: the request or its answer was lost on the way (reset, timeout). Any
  // other error code without a status is a fault of ours (a bad argument), not worth a retry.
  if (status === undefined && (error.name === 'TimeoutError' || networkErrorCodes.has(meta.code ?? '')))
    return 'retryable';
  return 'fatal';
}

/** Node's codes for a connection that failed or broke: the request or its answer was lost. */
const networkErrorCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

function commandName(command: Command): string {
  return command.constructor.name.replace(/Command$/, '');
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Where log lines go: `warn` for throttling and lost leases, as Python dynamo-dlm logs them. */
export interface LockLogger {
  warn(message: string, details?: Record<string, unknown>): void;
}

/** Milliseconds since the epoch; injectable so tests can stand exactly on a lease boundary. */
export type Clock = () => number;

/** The DynamoDB client narrowed to the one call the lock makes. */
export type LockClient = Pick<DynamoDBClient, 'send'>;

/**
 * Everything an operation needs to talk to the lock table. Operations take it as their first
 * argument so that the class, the workflow steps and the SQS throttle share one implementation.
 */
export interface LockStore {
  client: LockClient;
  tableName: string;
  clock: Clock;
  logger: LockLogger;
  /**
   * Epoch ms after which no store call retries any more (for example a Lambda's own deadline,
   * so that a throttled call fails in time to be reported instead of being cut off).
   */
  deadlineMs?: number;
  /**
   * Epoch ms after which throttling is no longer retried (an acquire's own deadline): a
   * throttled call was refused, so giving up early loses nothing. A lost answer is retried up
   * to `deadlineMs` still: its write may have landed.
   */
  throttledUntilMs?: number;
}

/** The default logger: one line on stderr per warning. */
export const consoleLogger: LockLogger = {
  warn(message, details) {
    console.warn(`[dynamo-dlm] ${message}`, details ? JSON.stringify(details) : '');
  },
};

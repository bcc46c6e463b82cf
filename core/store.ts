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
}

/** The default logger: one line on stderr per warning. */
export const consoleLogger: LockLogger = {
  warn(message, details) {
    console.warn(`[dynamo-dlm] ${message}`, details ? JSON.stringify(details) : '');
  },
};

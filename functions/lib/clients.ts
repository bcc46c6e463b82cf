import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { LockStore } from '../../core/store.js';
import { readConfig } from './config.js';
import { logger } from './logger.js';

// One client of each per container, reused across invocations (connection reuse).
let dynamodb: DynamoDBClient | undefined;
let sqs: SQSClient | undefined;
let sfn: SFNClient | undefined;

/**
 * Replaces the clients the functions use, for example with clients that count or inject faults
 * (benchmarks, fault tests). Omitted ones keep their current value.
 *
 * @example
 * useClients({ dynamodb: countingClient });
 */
export function useClients(clients: { dynamodb?: DynamoDBClient; sqs?: SQSClient; sfn?: SFNClient }): void {
  dynamodb = clients.dynamodb ?? dynamodb;
  sqs = clients.sqs ?? sqs;
  sfn = clients.sfn ?? sfn;
}

/** The lock table as the functions use it; endpoints come from `AWS_ENDPOINT_URL_*`. */
export function lockStore(): LockStore {
  dynamodb ??= new DynamoDBClient({});
  return {
    client: dynamodb,
    tableName: readConfig().tableName,
    clock: Date.now,
    logger: { warn: (message, details) => logger.warn(message, { details }) },
  };
}

/** The SQS client. */
export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({});
  return sqs;
}

/** The Step Functions client. */
export function sfnClient(): SFNClient {
  sfn ??= new SFNClient({});
  return sfn;
}

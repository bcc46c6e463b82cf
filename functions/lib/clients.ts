import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import type { WaitingStore } from '../../core/waiting/waiting-store.js';
import { readConfig } from './config.js';
import { logger } from './logger.js';

// One client of each per container, reused across invocations (connection reuse).
let dynamodb: DynamoDBClient | undefined;
let sqs: SQSClient | undefined;
let sfn: SFNClient | undefined;
let clock: () => number = Date.now;

/**
 * Replaces the clients the functions use, for example with clients that count or inject faults
 * (benchmarks, fault tests). Omitted ones keep their current value.
 *
 * @example
 * useClients({ dynamodb: countingClient });
 */
export function useClients(clients: {
  dynamodb?: Pick<DynamoDBClient, 'send'>;
  sqs?: Pick<SQSClient, 'send'>;
  sfn?: Pick<SFNClient, 'send'>;
  /** The functions' clock (a simulation's fake one); `Date.now` by default. */
  clock?: () => number;
}): void {
  dynamodb = (clients.dynamodb as DynamoDBClient | undefined) ?? dynamodb;
  sqs = (clients.sqs as SQSClient | undefined) ?? sqs;
  sfn = (clients.sfn as SFNClient | undefined) ?? sfn;
  clock = clients.clock ?? clock;
}

/** Epoch ms on the functions' clock. */
export function now(): number {
  return clock();
}

/** Time kept back from a Lambda's deadline to report a failing store call before being cut off. */
const reserveMs = 1_500;

/**
 * The lock table as the functions use it; endpoints come from `AWS_ENDPOINT_URL_*`. With the
 * Lambda context, store retries stop in time for the function to answer before its timeout.
 */
export function lockStore(context?: Pick<Context, 'getRemainingTimeInMillis'>): WaitingStore {
  dynamodb ??= new DynamoDBClient({});
  const { tableName, requestTableName } = readConfig();
  return {
    client: dynamodb,
    tableName,
    requestTableName,
    clock,
    logger: { warn: (message, details) => logger.warn(message, { details }) },
    ...(context ? { deadlineMs: clock() + context.getRemainingTimeInMillis() - reserveMs } : {}),
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

import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { Rate } from '../core/rate.js';
import type { LockClient, LockLogger } from '../core/store.js';
import type { ThrottleBackoff } from '../core/throttle/backoff.js';

// The SQS throttle's options as callers write them; `options.ts` checks them and fills in the defaults.

/**
 * The SQS client narrowed to the one call the throttle makes.
 *
 * @example
 * const sqsClient: ThrottleSqsClient = new SQSClient({ region: 'eu-west-1' });
 */
export type ThrottleSqsClient = Pick<SQSClient, 'send'>;

/**
 * Options of {@link limitConcurrency} and {@link limitRecordConcurrency}: `key`, and
 * `concurrency`, a `rate`, or both.
 *
 * @example
 * const options: ConcurrencyLimitOptions = {
 *   key: (record) => `tenant-${record.messageAttributes.tenant?.stringValue}`,
 *   concurrency: 1,
 *   leaseSeconds: 30,
 * };
 */
export interface ConcurrencyLimitOptions extends ThrottleOptionsBase {
  /**
   * Records of one key processed at once, everywhere: an integer 1..1000, or one per key. It
   * must be the key's limit, recorded by the first take of the key (by this throttle, another
   * one or a workflow) and changed only with `dlm limit`: records of a key whose limit differs
   * fail with `ResourceLimitMismatchError`.
   */
  concurrency: number | ((key: string) => number);
  /**
   * Also a start rate per key: at most `limit` records of a key start per `periodSeconds`, up
   * to `burst` at once (default 1). Each record's start is counted in the same transaction as
   * the slot it runs in; a record the rate holds back is re-queued with its timer set to the
   * moment the rate allows it. Every client of the key should pass the same rate.
   */
  rate?: Rate;
}

/**
 * Options of a throttle with a start rate and no concurrency limit: records of a key start at
 * most `rate.limit` per `rate.periodSeconds`, however many run at once, and take no slot.
 *
 * @example
 * const options: RateLimitOptions = { key: () => 'partner-api', rate: { limit: 5, periodSeconds: 1, burst: 5 } };
 */
export interface RateLimitOptions extends ThrottleOptionsBase {
  /** Absent: no concurrency limit, no slot taken (the handler gets no lease). */
  concurrency?: undefined;
  /** At most `limit` records of a key start per `periodSeconds`, up to `burst` at once (default 1). */
  rate: Rate;
}

/**
 * The options of either throttle: a concurrency limit (and perhaps a rate), or a rate alone.
 *
 * @example
 * const options: ThrottleOptions = { key: () => 'api', concurrency: 2, rate: { limit: 10, periodSeconds: 1 } };
 */
export type ThrottleOptions = ConcurrencyLimitOptions | RateLimitOptions;

/**
 * What every throttle takes besides its limits.
 *
 * @example
 * const base: ThrottleOptionsBase = { key: (record) => record.body, leaseSeconds: 30 };
 */
export interface ThrottleOptionsBase {
  /**
   * The lock key of a record (its resource id in the lock table): a tenant, a partner API.
   * 1 to 1024 bytes. Functions and queues that use the same key share its limit, and so does a
   * `DynamoDbLock` (Node or Python) on the same resource id and table.
   */
  key: (record: SQSRecord) => string;
  /**
   * The longest a record's handler runs, in seconds (above 0, at most 43200): its slot's lease
   * lasts that long (extended between records when it would not). Default: the time left in the
   * invocation, so a lease never ends before the handler can; a crashed invocation then holds its
   * slots until its timeout.
   */
  leaseSeconds?: number;
  /** Records of one batch processed at once, where keys and slots allow: 1..10000. Default 10. */
  parallelism?: number;
  /**
   * When a throttled message comes back: full jitter over `baseSeconds * 2^attempt`, capped.
   * Default `{ baseSeconds: 1, capSeconds: 60 }`; `capSeconds` an integer 1..900.
   */
  backoff?: Partial<ThrottleBackoff>;
  /** Throw Powertools' `FullBatchFailureError` when every record of a batch failed. Default true. */
  throwOnFullBatchFailure?: boolean;
  /** The lock table. Default `defaults.tableName` (`dynamo_dlm_locks`). */
  tableName?: string;
  /** Default `new DynamoDBClient({})`: region and endpoint from the environment. */
  dynamoDbClient?: LockClient;
  /** Default `new SQSClient({})`: region and endpoint (`AWS_ENDPOINT_URL_SQS`) from the environment. */
  sqsClient?: ThrottleSqsClient;
  /** A queue's URL from its ARN (the record's `eventSourceARN`). Default: GetQueueUrl, once per queue. */
  queueUrl?: (queueArn: string) => string | Promise<string>;
  /** Where warnings go (lost leases, failed re-queues). Default: stderr. */
  logger?: LockLogger;
  /**
   * Failed deliveries of a message, counted across its re-queued copies, after which the
   * throttle moves it to the queue's dead-letter queue instead of running it again: an integer
   * 1..1000. Default: the queue's own `maxReceiveCount` (from its RedrivePolicy); none without one.
   */
  maxAttempts?: number;
  /**
   * No record starts with less than this left before the invocation's deadline (plus
   * `leaseSeconds`, or the longest record seen so far in the invocation): the rest are re-queued
   * (FIFO: hidden) in time. Seconds, 0.1..60; default 1.
   */
  deadlineMarginSeconds?: number;
}

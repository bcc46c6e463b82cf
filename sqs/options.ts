import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { defaults } from '../core/defaults.js';
import { InvalidLockOptionError } from '../core/errors.js';
import { consoleLogger, type LockClient, type LockLogger, type LockStore } from '../core/store.js';
import type { ThrottleBackoff } from '../core/throttle/backoff.js';
import {
  validateCallable,
  validateConcurrency,
  validateDuration,
  validateKnownOptions,
  validateResourceId,
  validateTableName,
} from '../core/validate.js';

/**
 * The SQS client narrowed to the one call the throttle makes.
 *
 * @example
 * const sqsClient: ThrottleSqsClient = new SQSClient({ region: 'eu-west-1' });
 */
export type ThrottleSqsClient = Pick<SQSClient, 'send'>;

/**
 * Options of {@link limitConcurrency} and {@link limitRecordConcurrency}. Only `key` and
 * `concurrency` are required.
 *
 * @example
 * const options: ConcurrencyLimitOptions = {
 *   key: (record) => `tenant-${record.messageAttributes.tenant?.stringValue}`,
 *   concurrency: 1,
 *   leaseSeconds: 30,
 * };
 */
export interface ConcurrencyLimitOptions {
  /**
   * The lock key of a record (its resource id in the lock table): a tenant, a partner API.
   * 1 to 1024 bytes. Functions and queues that use the same key share its limit, and so does a
   * `DynamoDbLock` (Node or Python) on the same resource id and table.
   */
  key: (record: SQSRecord) => string;
  /**
   * Records of one key processed at once, everywhere: an integer 1..1000, or one per key. It
   * must be the key's limit, recorded by the first take of the key (by this throttle, another
   * one or a workflow) and changed only with `dlm limit`: records of a key whose limit differs
   * fail with `ResourceLimitMismatchError`.
   */
  concurrency: number | ((key: string) => number);
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

/** Every option's name: a misspelt one (`concurency`) is refused rather than ignored. */
const optionNames = [
  'key',
  'concurrency',
  'leaseSeconds',
  'parallelism',
  'backoff',
  'throwOnFullBatchFailure',
  'tableName',
  'dynamoDbClient',
  'sqsClient',
  'queueUrl',
  'logger',
  'maxAttempts',
  'deadlineMarginSeconds',
] as const satisfies ReadonlyArray<keyof ConcurrencyLimitOptions>;

/**
 * The options checked, with their defaults filled in.
 *
 * @example
 * const settings: ThrottleSettings = resolveOptions({ key: () => 'api', concurrency: 2 });
 */
export interface ThrottleSettings {
  key: (record: SQSRecord) => string;
  concurrencyOf: (key: string) => number;
  leaseMs: number | undefined;
  parallelism: number;
  backoff: ThrottleBackoff;
  throwOnFullBatchFailure: boolean;
  store: LockStore;
  sqs: ThrottleSqsClient;
  queueUrl: ((queueArn: string) => string | Promise<string>) | undefined;
  /** Undefined: the queue's maxReceiveCount. */
  maxAttempts: number | undefined;
  deadlineMarginMs: number;
}

/**
 * Defaults and limits of the SQS throttle's options, in one place.
 *
 * @example
 * throttleDefaults.backoff; // { baseSeconds: 1, capSeconds: 60 }
 */
export const throttleDefaults = {
  parallelism: 10,
  parallelismMax: 10_000,
  backoff: { baseSeconds: 1, capSeconds: 60 },
  backoffCapMax: 900,
  deadlineMarginSeconds: 1,
  maxAttemptsMax: 1000,
  /** A shorter lease is within the clock bound (100 ms by default) itself: no handler fits in it. */
  leaseSecondsMin: 0.1,
} as const;

let sharedDynamoDb: DynamoDBClient | undefined;
let sharedSqs: SQSClient | undefined;

/**
 * Checks the options on entry, before any request, and fills in the defaults. Throws
 * `InvalidLockOptionError` naming the field.
 *
 * @example
 * resolveOptions({ key: () => 'api', concurrency: 0 }); // Expected `concurrency` to be an integer from 1 to 1000, got 0
 */
export function resolveOptions(options: ConcurrencyLimitOptions): ThrottleSettings {
  if (options === null || typeof options !== 'object') {
    throw new InvalidLockOptionError('options', 'an object with `key` and `concurrency`', options);
  }
  validateKnownOptions(options, optionNames);
  const key = requireFunction(options.key, 'key');
  const concurrency = options.concurrency;
  const concurrencyOf =
    typeof concurrency === 'function'
      ? (resourceId: string) => validateConcurrency(concurrency(resourceId), 'concurrency(key)')
      : constant(validateConcurrency(concurrency));
  const leaseMs =
    options.leaseSeconds === undefined
      ? undefined
      : Math.round(validateDuration(options.leaseSeconds, 'leaseSeconds') * 1000);
  if (leaseMs !== undefined && leaseMs < throttleDefaults.leaseSecondsMin * 1000) {
    throw new InvalidLockOptionError(
      'leaseSeconds',
      `a number of seconds from ${throttleDefaults.leaseSecondsMin} to 43200`,
      options.leaseSeconds,
    );
  }
  if (options.backoff !== undefined && (options.backoff === null || typeof options.backoff !== 'object')) {
    throw new InvalidLockOptionError(
      'backoff',
      'an object with `baseSeconds` and/or `capSeconds`',
      options.backoff,
    );
  }
  if (options.backoff) validateKnownOptions(options.backoff, ['baseSeconds', 'capSeconds']);
  if (options.logger !== undefined) validateCallable(options.logger, 'logger', 'warn');
  const maxAttempts =
    options.maxAttempts === undefined
      ? undefined
      : validateInteger(options.maxAttempts, 'maxAttempts', throttleDefaults.maxAttemptsMax);
  const marginSeconds = options.deadlineMarginSeconds ?? throttleDefaults.deadlineMarginSeconds;
  if (typeof marginSeconds !== 'number' || !(marginSeconds >= 0.1 && marginSeconds <= 60)) {
    throw new InvalidLockOptionError(
      'deadlineMarginSeconds',
      'a number of seconds from 0.1 to 60',
      marginSeconds,
    );
  }
  const parallelism = validateInteger(
    options.parallelism ?? throttleDefaults.parallelism,
    'parallelism',
    throttleDefaults.parallelismMax,
  );
  const capSeconds = validateInteger(
    options.backoff?.capSeconds ?? throttleDefaults.backoff.capSeconds,
    'backoff.capSeconds',
    throttleDefaults.backoffCapMax,
  );
  const baseSeconds = options.backoff?.baseSeconds ?? throttleDefaults.backoff.baseSeconds;
  if (typeof baseSeconds !== 'number' || !(baseSeconds > 0) || baseSeconds > capSeconds) {
    throw new InvalidLockOptionError(
      'backoff.baseSeconds',
      `a number of seconds above 0, at most ${capSeconds}`,
      baseSeconds,
    );
  }
  const throwOnFullBatchFailure = options.throwOnFullBatchFailure ?? true;
  if (typeof throwOnFullBatchFailure !== 'boolean') {
    throw new InvalidLockOptionError('throwOnFullBatchFailure', 'a boolean', throwOnFullBatchFailure);
  }
  const queueUrl = options.queueUrl === undefined ? undefined : requireFunction(options.queueUrl, 'queueUrl');
  const tableName = validateTableName(options.tableName ?? defaults.tableName);
  requireClient(options.dynamoDbClient, 'dynamoDbClient');
  requireClient(options.sqsClient, 'sqsClient');
  return {
    key,
    concurrencyOf,
    leaseMs,
    parallelism,
    backoff: { baseSeconds, capSeconds },
    throwOnFullBatchFailure,
    store: {
      client: options.dynamoDbClient ?? defaultDynamoDbClient(),
      tableName,
      clock: Date.now,
      logger: options.logger ?? consoleLogger,
    },
    sqs: options.sqsClient ?? defaultSqsClient(),
    queueUrl,
    maxAttempts,
    deadlineMarginMs: Math.round(marginSeconds * 1000),
  };
}

/**
 * The resource id of a record and its limit, checked like any lock's (a bad key fails that record only).
 *
 * @example
 * const { key, concurrency } = keyOf(settings, record);
 */
export function keyOf(settings: ThrottleSettings, record: SQSRecord): { key: string; concurrency: number } {
  const key = validateResourceId(settings.key(record), 'key(record)');
  return { key, concurrency: settings.concurrencyOf(key) };
}

/** One client per container for every wrapper that takes the default: region and endpoint from the environment. */
function defaultDynamoDbClient(): DynamoDBClient {
  sharedDynamoDb ??= new DynamoDBClient({});
  return sharedDynamoDb;
}

function defaultSqsClient(): SQSClient {
  sharedSqs ??= new SQSClient({});
  return sharedSqs;
}

function requireFunction<T>(value: T, field: string): T {
  if (typeof value !== 'function') throw new InvalidLockOptionError(field, 'a function', value);
  return value;
}

function requireClient(value: unknown, field: string): void {
  if (value === undefined) return;
  if (value === null || typeof (value as { send?: unknown }).send !== 'function') {
    throw new InvalidLockOptionError(field, 'an AWS SDK v3 client (with a `send` method)', value);
  }
}

function validateInteger(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidLockOptionError(field, `an integer from 1 to ${max}`, value);
  }
  return value;
}

function constant(value: number): (key: string) => number {
  return () => value;
}

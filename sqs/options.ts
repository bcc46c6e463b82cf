import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { defaults } from '../core/defaults.js';
import { InvalidLockOptionError } from '../core/errors.js';
import { validateRate } from '../core/rate.js';
import { consoleLogger, type LockStore } from '../core/store.js';
import type { ThrottleBackoff } from '../core/throttle/backoff.js';
import { RateGate } from '../core/throttle/rate-gate.js';
import {
  validateCallable,
  validateConcurrency,
  validateDuration,
  validateKnownOptions,
  validateResourceId,
  validateTableName,
} from '../core/validate.js';
import type {
  ConcurrencyLimitOptions,
  RateLimitOptions,
  ThrottleOptions,
  ThrottleSqsClient,
} from './option-types.js';

export type {
  ConcurrencyLimitOptions,
  RateLimitOptions,
  ThrottleOptions,
  ThrottleOptionsBase,
  ThrottleSqsClient,
} from './option-types.js';

/** Every option's name: a misspelt one (`concurency`) is refused rather than ignored. */
const optionNames = [
  'key',
  'concurrency',
  'rate',
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
] as const satisfies ReadonlyArray<keyof ConcurrencyLimitOptions & keyof RateLimitOptions>;

/**
 * The options checked, with their defaults filled in.
 *
 * @example
 * const settings: ThrottleSettings = resolveOptions({ key: () => 'api', concurrency: 2 });
 */
export interface ThrottleSettings {
  key: (record: SQSRecord) => string;
  /** Undefined: a rate without slots. */
  concurrencyOf: ((key: string) => number) | undefined;
  /** The start rate, and what this process learned of it; undefined: none. */
  rate: RateGate | undefined;
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
export function resolveOptions(options: ThrottleOptions): ThrottleSettings {
  if (options === null || typeof options !== 'object') {
    throw new InvalidLockOptionError('options', 'an object with `key` and `concurrency` or `rate`', options);
  }
  validateKnownOptions(options, optionNames);
  const key = requireFunction(options.key, 'key');
  // The same checks and bounds as the library's rate (core's `rateBounds`).
  const rate = options.rate === undefined ? undefined : validateRate(options.rate, 'rate');
  const concurrencyOf = resolveConcurrency(options.concurrency, rate !== undefined);
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
    rate: rate && new RateGate(rate),
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
 * The resource id of a record and its limit (undefined: a rate without slots), checked like any
 * lock's (a bad key fails that record only).
 *
 * @example
 * const { key, concurrency } = keyOf(settings, record);
 */
export function keyOf(
  settings: ThrottleSettings,
  record: SQSRecord,
): { key: string; concurrency: number | undefined } {
  const key = validateResourceId(settings.key(record), 'key(record)');
  return { key, concurrency: settings.concurrencyOf?.(key) };
}

/** `concurrency` checked; absent only beside a rate, which then runs without slots. */
function resolveConcurrency(
  concurrency: ThrottleOptions['concurrency'],
  hasRate: boolean,
): ThrottleSettings['concurrencyOf'] {
  if (concurrency === undefined && hasRate) return undefined;
  if (typeof concurrency === 'function')
    return (resourceId: string) => validateConcurrency(concurrency(resourceId), 'concurrency(key)');
  if (concurrency === undefined)
    throw new InvalidLockOptionError(
      'concurrency',
      'an integer from 1 to 1000 or a function of the key (or absent, with a `rate`)',
      concurrency,
    );
  return constant(validateConcurrency(concurrency));
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

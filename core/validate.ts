import { limits } from './defaults.js';
import { InvalidLockOptionError } from './errors.js';

/** Checks a resource id: a string of 1 to 1024 bytes of UTF-8 (the DynamoDB key limit is 2048). */
export function validateResourceId(value: unknown, field = 'resourceId'): string {
  const expected = `a non-empty string of at most ${limits.resourceIdMaxBytes} bytes (UTF-8)`;
  if (typeof value !== 'string' || value.length === 0)
    throw new InvalidLockOptionError(field, expected, value);
  if (!value.isWellFormed())
    throw new InvalidLockOptionError(field, `${expected} without lone surrogates`, value);
  if (Buffer.byteLength(value, 'utf8') > limits.resourceIdMaxBytes) {
    throw new InvalidLockOptionError(field, expected, value);
  }
  return value;
}

/** Checks a slot count: an integer from 1 to 1000. */
export function validateConcurrency(value: unknown, field = 'concurrency'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > limits.concurrencyMax) {
    throw new InvalidLockOptionError(field, `an integer from 1 to ${limits.concurrencyMax}`, value);
  }
  return value;
}

/** Checks a lease length in seconds: finite, above 0, at most 43200 (12 hours); fractions allowed. */
export function validateDuration(value: unknown, field = 'duration'): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value <= 0 ||
    value > limits.durationMaxSeconds
  ) {
    throw new InvalidLockOptionError(
      field,
      `a number of seconds above 0 and at most ${limits.durationMaxSeconds}`,
      value,
    );
  }
  return value;
}

/** Checks a wait in milliseconds: a finite number >= 0, or Infinity (wait for ever). */
export function validateTimeoutMs(value: unknown, field = 'timeoutMs'): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidLockOptionError(field, 'a number of milliseconds >= 0 (or Infinity)', value);
  }
  return value;
}

/** Checks a clock bound: whole ms from 0 to just under the lease (a lease must outlast it). */
export function validateClockSkew(value: unknown, durationMs: number, field = 'maxClockSkewMs'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= durationMs) {
    throw new InvalidLockOptionError(
      field,
      Number.isFinite(durationMs)
        ? `whole milliseconds from 0 to below the lease (${durationMs} ms)`
        : 'whole milliseconds from 0',
      value,
    );
  }
  return value;
}

/**
 * Checks `withLock`'s refresh period: milliseconds above 0 and below the lease less its end margin.
 * A later refresh would come after the function's signal already said the lease is ending.
 */
export function validateRefreshMs(
  value: unknown,
  leaseMs: number,
  marginMs: number,
  field = 'refreshMs',
): number {
  const belowMs = leaseMs - marginMs;
  if (typeof value !== 'number' || !(value > 0 && value < belowMs)) {
    throw new InvalidLockOptionError(
      field,
      `a number of milliseconds above 0 and below ${belowMs} (the ${leaseMs} ms lease less the last ${marginMs} ms, when the signal aborts)`,
      value,
    );
  }
  return value;
}

/** Checks a table name against DynamoDB's rule: 3 to 255 of [a-zA-Z0-9_.-]. */
export function validateTableName(value: unknown, field = 'tableName'): string {
  if (typeof value !== 'string' || !/^[a-zA-Z0-9_.-]{3,255}$/.test(value)) {
    throw new InvalidLockOptionError(
      field,
      'a DynamoDB table name (3 to 255 of a-z, A-Z, 0-9, _ . -)',
      value,
    );
  }
  return value;
}

/** Checks an owner label: a string of at most 1024 bytes of UTF-8 (it is a key of the owner index), or undefined. */
export function validateOwner(value: unknown, field = 'owner'): string | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    !value.isWellFormed() ||
    Buffer.byteLength(value, 'utf8') > limits.ownerMaxBytes
  ) {
    throw new InvalidLockOptionError(
      field,
      `a non-empty string of at most ${limits.ownerMaxBytes} bytes (UTF-8, no lone surrogates), or undefined`,
      value,
    );
  }
  return value;
}

/** Checks the in-process back-off: `baseMs` and `capMs` finite numbers >= 0. */
export function validateBackoff(value: { baseMs: unknown; capMs: unknown }): {
  baseMs: number;
  capMs: number;
} {
  for (const key of ['baseMs', 'capMs'] as const) {
    const number = value[key];
    if (typeof number !== 'number' || !Number.isFinite(number) || number < 0) {
      throw new InvalidLockOptionError(`backoff.${key}`, 'a finite number of milliseconds >= 0', number);
    }
  }
  return value as { baseMs: number; capMs: number };
}

/** Checks that an option is an object with the method the lock calls (`client.send`, `logger.warn`), or a function. */
export function validateCallable(value: unknown, field: string, method?: string): void {
  const callable =
    method === undefined ? value : (value as Record<string, unknown> | null | undefined)?.[method];
  if (typeof callable !== 'function') {
    throw new InvalidLockOptionError(
      field,
      method === undefined ? 'a function' : `an object with a \`${method}\` method`,
      value,
    );
  }
}

/**
 * Refuses option names the lock does not know, so that a misspelt one (`concurency`) is an
 * error instead of a silently different lock.
 */
export function validateKnownOptions(options: object, known: readonly string[]): void {
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new InvalidLockOptionError(
        name,
        `absent: it is not an option (the options are ${known.join(', ')})`,
        'set',
      );
    }
  }
}

/** The most permits one grant takes: a transaction holds 100 items, one of them the rate's. */
export const permitsMax = 99;

/** Checks a permit count: an integer from 1 to `concurrency` (and at most 99, one transaction). */
export function validatePermits(value: unknown, concurrency: number, field = 'permits'): number {
  const most = Math.min(concurrency, permitsMax);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > most) {
    throw new InvalidLockOptionError(
      field,
      `an integer from 1 to ${most} (at most \`concurrency\`, ${concurrency}${concurrency > permitsMax ? `, and ${permitsMax}: one transaction` : ''})`,
      value,
    );
  }
  return value;
}

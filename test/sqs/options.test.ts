import { describe, expect, it } from 'vitest';
import { InvalidLockOptionError } from '../../core/errors.js';
import type { ConcurrencyLimitOptions } from '../../sqs/index.js';
import { limitConcurrency, limitRecordConcurrency } from '../../sqs/index.js';

const handler = async () => {};
const valid: ConcurrencyLimitOptions = {
  key: () => 'api',
  concurrency: 2,
  sqsClient: { send: async () => ({}) } as never,
};

function refusal(options: Partial<ConcurrencyLimitOptions> | unknown): string {
  try {
    limitConcurrency(handler, options as ConcurrencyLimitOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidLockOptionError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('options', () => {
  it('names the field and its range', () => {
    expect(refusal({ ...valid, concurrency: 0 })).toBe(
      'Expected `concurrency` to be an integer from 1 to 1000, got 0',
    );
    expect(refusal({ ...valid, concurrency: 2.5 })).toMatch(/^Expected `concurrency` to be an integer/);
    expect(refusal({ ...valid, key: 'tenant' })).toBe('Expected `key` to be a function, got "tenant"');
    expect(refusal({ ...valid, leaseSeconds: 0 })).toMatch(
      /^Expected `leaseSeconds` to be a number of seconds above 0/,
    );
    expect(refusal({ ...valid, parallelism: 0 })).toBe(
      'Expected `parallelism` to be an integer from 1 to 10000, got 0',
    );
    expect(refusal({ ...valid, backoff: { capSeconds: 901 } })).toBe(
      'Expected `backoff.capSeconds` to be an integer from 1 to 900, got 901',
    );
    expect(refusal({ ...valid, backoff: { baseSeconds: 0 } })).toMatch(/^Expected `backoff.baseSeconds`/);
    expect(refusal({ ...valid, tableName: 'x' })).toMatch(
      /^Expected `tableName` to be a DynamoDB table name/,
    );
    expect(refusal({ ...valid, sqsClient: {} as never })).toMatch(
      /^Expected `sqsClient` to be an AWS SDK v3 client/,
    );
    expect(refusal({ ...valid, throwOnFullBatchFailure: 'yes' as never })).toMatch(
      /^Expected `throwOnFullBatchFailure`/,
    );
    expect(refusal(undefined)).toMatch(/^Expected `options`/);
  });

  it('refuses misspelt options, a back-off that is not an object, a logger without warn and a lease within the clock bound', () => {
    expect(refusal({ ...valid, leaseSecond: 30 } as never)).toMatch(
      /^Expected `leaseSecond` to be absent: it is not an option/,
    );
    expect(refusal({ ...valid, concurency: 2 } as never)).toMatch(/^Expected `concurency` to be absent/);
    expect(refusal({ ...valid, backoff: 5 as never })).toMatch(/^Expected `backoff` to be an object/);
    expect(refusal({ ...valid, backoff: { base: 1 } as never })).toMatch(/^Expected `base` to be absent/);
    expect(refusal({ ...valid, logger: {} as never })).toBe(
      'Expected `logger` to be an object with a `warn` method, got object',
    );
    expect(refusal({ ...valid, leaseSeconds: 0.0004 })).toMatch(
      /^Expected `leaseSeconds` to be a number of seconds from 0.1/,
    );
    expect(refusal({ ...valid, maxAttempts: 0 })).toBe(
      'Expected `maxAttempts` to be an integer from 1 to 1000, got 0',
    );
    expect(refusal({ ...valid, deadlineMarginSeconds: 0 })).toMatch(/^Expected `deadlineMarginSeconds`/);
  });

  it('checks the handler, in both wrappers', () => {
    expect(() => limitConcurrency('nope' as never, valid)).toThrow('Expected `handler` to be a function');
    expect(() => limitRecordConcurrency(undefined as never, valid)).toThrow(
      'Expected `handler` to be a function',
    );
    expect(() => limitRecordConcurrency(handler, { ...valid, concurrency: 1001 })).toThrow(
      InvalidLockOptionError,
    );
  });

  it('accepts a limit per key, checked when the key is seen', () => {
    expect(() =>
      limitConcurrency(handler, { ...valid, concurrency: (key) => (key === 'api' ? 3 : 1) }),
    ).not.toThrow();
  });
});

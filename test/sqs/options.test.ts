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

  it("checks a rate with the library's bounds, naming the field; a rate alone needs no concurrency", () => {
    const rate = { limit: 2, periodSeconds: 1, burst: 2 };
    expect(refusal({ ...valid, rate: { ...rate, limit: 0 } })).toBe(
      'Expected `rate.limit` to be an integer from 1 to 1000000, got 0',
    );
    expect(refusal({ ...valid, rate: { ...rate, periodSeconds: 0 } })).toBe(
      'Expected `rate.periodSeconds` to be a number of seconds above 0 and at most 86400, got 0',
    );
    expect(refusal({ ...valid, rate: { ...rate, burst: 0 } })).toBe(
      'Expected `rate.burst` to be an integer from 1 to 1000, got 0',
    );
    expect(refusal({ ...valid, rate: { ...rate, limt: 2 } as never })).toMatch(
      /^Expected `rate.limt` to be absent/,
    );
    expect(refusal({ ...valid, rate: 5 as never })).toMatch(/^Expected `rate` to be an object/);
    // Neither a concurrency nor a rate: nothing to limit.
    expect(refusal({ key: () => 'api', sqsClient: valid.sqsClient })).toBe(
      'Expected `concurrency` to be an integer from 1 to 1000 or a function of the key (or absent, with a `rate`), got undefined',
    );
    expect(() =>
      limitConcurrency(handler, { key: () => 'api', rate, sqsClient: valid.sqsClient }),
    ).not.toThrow();
    expect(() => limitRecordConcurrency(handler, { ...valid, rate: { ...rate, burst: 1001 } })).toThrow(
      'Expected `rate.burst` to be an integer from 1 to 1000, got 1001',
    );
  });

  it('accepts a limit per key, checked when the key is seen', () => {
    expect(() =>
      limitConcurrency(handler, { ...valid, concurrency: (key) => (key === 'api' ? 3 : 1) }),
    ).not.toThrow();
  });
});

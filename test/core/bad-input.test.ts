import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbLock, InvalidLockOptionError } from '../../core/index.js';

/** A client that fails the test if any request is sent. */
function tripwireClient(): { client: DynamoDBClient; sent: () => number } {
  let sent = 0;
  const client = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
  client.middlewareStack.add(
    () => async () => {
      sent++;
      throw new Error('no request may be sent for bad input');
    },
    { step: 'initialize', name: 'tripwire' },
  );
  return { client, sent: () => sent };
}

const badConstructions: Array<[string, string, () => unknown]> = [
  ['empty resource id', 'resourceId', () => new DynamoDbLock('')],
  ['resource id of 1025 bytes', 'resourceId', () => new DynamoDbLock('x'.repeat(1025))],
  ['resource id of 1026 bytes in 513 characters', 'resourceId', () => new DynamoDbLock('é'.repeat(513))],
  ['resource id not a string', 'resourceId', () => new DynamoDbLock(42 as unknown as string)],
  ['resource id with a lone surrogate', 'resourceId', () => new DynamoDbLock('a\uD800b')],
  ['concurrency 0', 'concurrency', () => new DynamoDbLock('r', { concurrency: 0 })],
  ['concurrency 1.5', 'concurrency', () => new DynamoDbLock('r', { concurrency: 1.5 })],
  ['concurrency 1001', 'concurrency', () => new DynamoDbLock('r', { concurrency: 1001 })],
  ['concurrency NaN', 'concurrency', () => new DynamoDbLock('r', { concurrency: Number.NaN })],
  [
    'concurrency as a string',
    'concurrency',
    () => new DynamoDbLock('r', { concurrency: '2' as unknown as number }),
  ],
  ['duration 0', 'duration', () => new DynamoDbLock('r', { duration: 0 })],
  ['negative duration', 'duration', () => new DynamoDbLock('r', { duration: -1 })],
  ['duration above 43200 s', 'duration', () => new DynamoDbLock('r', { duration: 43_201 })],
  ['duration Infinity', 'duration', () => new DynamoDbLock('r', { duration: Number.POSITIVE_INFINITY })],
  ['table name too short', 'tableName', () => new DynamoDbLock('r', { tableName: 'ab' })],
  ['table name with a space', 'tableName', () => new DynamoDbLock('r', { tableName: 'my locks' })],
  ['empty owner', 'owner', () => new DynamoDbLock('r', { owner: '' })],
  ['permits 0', 'permits', () => new DynamoDbLock('r', { concurrency: 3, permits: 0 })],
  ['permits above concurrency', 'permits', () => new DynamoDbLock('r', { concurrency: 3, permits: 4 })],
  ['permits 1.5', 'permits', () => new DynamoDbLock('r', { concurrency: 3, permits: 1.5 })],
  [
    'permits 100 (one transaction)',
    'permits',
    () => new DynamoDbLock('r', { concurrency: 200, permits: 100 }),
  ],
  ['rate not an object', 'rate', () => new DynamoDbLock('r', { rate: 5 as never })],
  ['rate limit 0', 'rate.limit', () => new DynamoDbLock('r', { rate: { limit: 0, periodSeconds: 1 } })],
  ['rate limit 1.5', 'rate.limit', () => new DynamoDbLock('r', { rate: { limit: 1.5, periodSeconds: 1 } })],
  [
    'a zero period',
    'rate.periodSeconds',
    () => new DynamoDbLock('r', { rate: { limit: 1, periodSeconds: 0 } }),
  ],
  [
    'a period of NaN',
    'rate.periodSeconds',
    () => new DynamoDbLock('r', { rate: { limit: 1, periodSeconds: Number.NaN } }),
  ],
  [
    'a burst below 1',
    'rate.burst',
    () => new DynamoDbLock('r', { rate: { limit: 1, periodSeconds: 1, burst: 0 } }),
  ],
  [
    'a misspelt rate field',
    'rate.brust',
    () => new DynamoDbLock('r', { rate: { limit: 1, periodSeconds: 1, brust: 2 } as never }),
  ],
];

describe('bad input', () => {
  it.each(badConstructions)('rejects %s, naming `%s`', (_label, field, construct) => {
    expect(construct).toThrow(InvalidLockOptionError);
    expect(construct).toThrow(`\`${field}\``);
  });

  it('accepts the edges of each range', () => {
    expect(new DynamoDbLock('x'.repeat(1024), { concurrency: 1000, duration: 43_200 }).concurrency).toBe(
      1000,
    );
    expect(new DynamoDbLock('é'.repeat(512), { duration: 0.001 }).duration).toBe(0.001);
  });

  it('names the allowed range in the message', () => {
    expect(() => new DynamoDbLock('r', { concurrency: 0 })).toThrow(
      'Expected `concurrency` to be an integer from 1 to 1000, got 0',
    );
  });

  it('rejects bad acquire and extend arguments before any request is sent', async () => {
    const { client, sent } = tripwireClient();
    const lock = new DynamoDbLock('r', { client });
    await expect(lock.acquire({ timeoutMs: -1 })).rejects.toThrow('`timeoutMs`');
    await expect(lock.acquire({ timeoutMs: Number.NaN })).rejects.toBeInstanceOf(InvalidLockOptionError);
    await expect(lock.extend(0)).rejects.toThrow('`seconds`');
    await expect(lock.extend(50_000)).rejects.toThrow('`seconds`');
    expect(sent()).toBe(0);
  });
});

describe('unknown options', () => {
  it('refuses a misspelt option instead of silently making a different lock', () => {
    const construct = () => new DynamoDbLock('r', { concurency: 3 } as never);
    expect(construct).toThrow(InvalidLockOptionError);
    expect(construct).toThrow('`concurency`');
    expect(construct).toThrow('concurrency, duration, tableName');
  });
});

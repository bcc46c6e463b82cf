import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaults } from '../../core/defaults.js';
import { DynamoDbLock, type DynamoDbLockOptions } from '../../core/dynamo-db-lock.js';
import { withLock } from '../../core/with-lock.js';
import { handler as acquireStep } from '../../functions/acquire.js';
import { handler as countStep } from '../../functions/count.js';
import { handler as extendStep } from '../../functions/extend.js';
import { useClients } from '../../functions/lib/clients.js';
import { handler as releaseStep } from '../../functions/release.js';
import { handler as retryConsumer } from '../../functions/retry.js';
import { type ConcurrencyLimitOptions, limitConcurrency, limitRecordConcurrency } from '../../sqs/index.js';
import { countFigure, figureLines } from './support/chaos-settings.js';
import { restoreFunctionClients, sqsEvent } from './support/workflow-kit.js';

type Handler = (args: { input: object }) => Promise<{ output: unknown; response: unknown }>;

/** Every request any client of this file sends is recorded here, and none reaches a server. */
const sent: Array<{ service: string; command: string; input: Record<string, unknown> }> = [];

/**
 * A client that records its calls instead of sending them: DynamoDB and SQS calls fail (no bad
 * input may reach them), Step Functions calls answer empty (the acquire step answers the task).
 * The one read bad input may make is of its task token's claim, which is answered as unclaimed:
 * a token recorded by another request is not answered at all (`core/waiting/token-claim.ts`).
 */
function recorder<Client extends DynamoDBClient | SQSClient | SFNClient>(
  client: Client,
  service: string,
): Client {
  (client.middlewareStack as unknown as { add(middleware: unknown, options: unknown): void }).add(
    (_next: Handler, context: { commandName?: string }) => async (args: { input: object }) => {
      const command = String(context.commandName).replace(/Command$/, '');
      sent.push({ service, command, input: args.input as Record<string, unknown> });
      if (service === 'sfn' || isClaimRead(service, command, args.input))
        return { output: { $metadata: {} }, response: {} };
      throw Object.assign(new Error(`bad input reached ${service} ${command}`), { name: 'TripwireError' });
    },
    { step: 'initialize', priority: 'high', name: 'recordInsteadOfSending' },
  );
  return client;
}

function isClaimRead(service: string, command: string, input: object): boolean {
  const key = (input as { Key?: { resource_id?: { S?: string } } }).Key?.resource_id?.S;
  return service === 'dynamodb' && command === 'GetItem' && key?.startsWith('token#') === true;
}

const local = { region: 'us-east-1', endpoint: 'http://127.0.0.1:9' };
const tripwire = recorder(new DynamoDBClient(local), 'dynamodb');
const sqsTripwire = recorder(new SQSClient(local), 'sqs');

beforeAll(() => {
  useClients({
    dynamodb: recorder(new DynamoDBClient(local), 'dynamodb'),
    sqs: recorder(new SQSClient(local), 'sqs'),
    sfn: recorder(new SFNClient(local), 'sfn'),
  });
});

afterAll(() => restoreFunctionClients());

beforeEach(() => {
  sent.length = 0;
});

/** What the catalogue expects of one bad input: the error's name, and the field its message names. */
interface Refusal {
  name: string;
  message: string;
  error?: unknown;
}

async function refusalOf(attempt: () => unknown): Promise<Refusal> {
  try {
    await attempt();
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message, error };
  }
  throw new Error('the bad input was accepted');
}

// The library: the constructor, acquire and extend.
const lock = (options: DynamoDbLockOptions & Record<string, unknown>, resourceId: unknown = 'r') =>
  new DynamoDbLock(resourceId as string, { client: tripwire, ...options });
const library = (field: string, label: string, attempt: () => unknown): Entry => ({
  area: 'library',
  label,
  field,
  name: 'InvalidLockOptionError',
  refusal: () => refusalOf(attempt),
});

/** The acquire step answers bad input through SendTaskFailure (`Lock.InvalidRequest`). */
async function acquireRefusal(payload: Record<string, unknown>): Promise<Refusal> {
  const outcome = await acquireStep({ taskToken: 'AQB-catalogue-token', resourceId: 'r', ...payload }).catch(
    (error: Error) => error,
  );
  if (outcome instanceof Error) return { name: outcome.name, message: outcome.message };
  const failure = sent.find((call) => call.command === 'SendTaskFailure');
  expect(outcome).toEqual({ status: 'invalid' });
  return { name: String(failure?.input.error), message: String(failure?.input.cause) };
}
const acquire = (field: string, label: string, payload: Record<string, unknown>): Entry => ({
  area: 'acquire step',
  label,
  field,
  name: 'Lock.InvalidRequest',
  refusal: () => acquireRefusal(payload),
});

const lease = { resourceId: 'r', concurrencyId: 0, releaseCode: '0123456789abcdef0123456789abcdef' };
const step =
  (area: string, run: (event: unknown) => Promise<unknown>) =>
  (field: string, label: string, event: unknown) => ({
    area,
    label,
    field,
    name: 'Lock.InvalidRequest',
    refusal: () => refusalOf(() => run(event)),
  });
const release = step('release step', releaseStep);
const extend = step('extend step', extendStep);
const count = step('count step', countStep);

/**
 * A retry message that cannot be read fails alone, before any request: its record is reported
 * (a batch of one fails whole) and goes to the dead-letter queue after its receives.
 */
const retryMessage = (field: string, label: string, body: string, name = 'ZodError'): Entry => ({
  area: 'retry message',
  label,
  field,
  name,
  refusal: async () => {
    const refusal = await refusalOf(() => retryConsumer(sqsEvent(body) as never, {} as Context));
    const [recordError] = (refusal.error as { recordErrors?: Error[] }).recordErrors ?? [];
    expect(refusal.name).toBe('FullBatchFailureError');
    return { name: String(recordError?.name), message: String(recordError?.message) };
  },
});

// The SQS throttle: options are checked when the handler is built; keys when a record is seen.
const valid: ConcurrencyLimitOptions = {
  key: () => 'api',
  concurrency: 2,
  leaseSeconds: 10,
  dynamoDbClient: tripwire,
  sqsClient: sqsTripwire,
};
const throttle = (field: string, label: string, options: Record<string, unknown>): Entry => ({
  area: 'sqs throttle',
  label,
  field,
  name: 'InvalidLockOptionError',
  refusal: () =>
    refusalOf(() => limitConcurrency(async () => {}, { ...valid, ...options } as ConcurrencyLimitOptions)),
});
const throttleRecord = (field: string, label: string, options: Partial<ConcurrencyLimitOptions>): Entry => ({
  area: 'sqs throttle',
  label,
  field,
  name: 'InvalidLockOptionError',
  refusal: () =>
    refusalOf(() =>
      limitRecordConcurrency(async () => {}, { ...valid, ...options })(
        sqsEvent('{}').Records[0] as unknown as SQSRecord,
        { getRemainingTimeInMillis: () => 10_000 } as Context,
      ),
    ),
});

interface Entry {
  area: string;
  label: string;
  field: string;
  name: string;
  refusal: () => Promise<Refusal>;
}

const lone = 'a\uD800b';
const emoji257 = '😀'.repeat(257);

const catalogue: Entry[] = [
  library('resourceId', 'an empty resource id', () => lock({}, '')),
  library('resourceId', 'a resource id of 1025 ASCII bytes', () => lock({}, 'x'.repeat(1025))),
  library('resourceId', 'a resource id of 257 emoji (1028 bytes in 514 UTF-16 units)', () =>
    lock({}, emoji257),
  ),
  library('resourceId', 'a resource id with a lone surrogate', () => lock({}, lone)),
  library('resourceId', 'a resource id that is a number', () => lock({}, 42)),
  library(
    'resourceId',
    'a missing resource id',
    () => new DynamoDbLock(undefined as never, { client: tripwire }),
  ),
  library('concurrency', 'concurrency 0', () => lock({ concurrency: 0 })),
  library('permits', 'permits above concurrency', () => lock({ concurrency: 2, permits: 3 })),
  library('rate.periodSeconds', 'a zero rate period', () => lock({ rate: { limit: 1, periodSeconds: 0 } })),
  library('rate.burst', 'a rate burst below 1', () =>
    lock({ rate: { limit: 1, periodSeconds: 1, burst: 0 } }),
  ),
  acquire('rate.periodSeconds', 'a zero rate period', { rate: { limit: 5, periodSeconds: 0 } }),
  acquire('rate.burst', 'a rate burst below 1', { rate: { limit: 5, periodSeconds: 1, burst: 0 } }),
  acquire('rate.limit', 'a rate limit of 2.5', { rate: { limit: 2.5, periodSeconds: 1 } }),
  acquire('rate.limt', 'a misspelt rate field', { rate: { limt: 5, periodSeconds: 1 } }),
  acquire('rate', 'a rate that is a number', { rate: 5 }),
  acquire('permits', 'permits above concurrency', { concurrency: 2, permits: 3 }),
  acquire('permits', 'permits of 1.5', { concurrency: 5, permits: 1.5 }),
  acquire('permits', 'permits 0', { concurrency: 5, permits: 0 }),
  acquire('permits', 'permits as a string', { concurrency: 5, permits: '3' }),
  acquire('permits', 'permits above one transaction', { concurrency: 200, permits: 97 }),
  acquire('permits', 'several permits with waitSeconds 0', { concurrency: 5, permits: 3, waitSeconds: 0 }),
  release('slots', 'a lease whose slots are not a list', { ...lease, slots: 3 }),
  library('concurrency', 'concurrency 1001', () => lock({ concurrency: 1001 })),
  library('concurrency', 'concurrency 2.5', () => lock({ concurrency: 2.5 })),
  library('concurrency', 'concurrency as the string "3"', () => lock({ concurrency: '3' as never })),
  library('concurrency', 'concurrency NaN', () => lock({ concurrency: Number.NaN })),
  library('duration', 'a negative duration', () => lock({ duration: -1 })),
  library('duration', 'a duration above 12 hours', () => lock({ duration: 43_200.5 })),
  library('duration', 'an infinite duration', () => lock({ duration: Number.POSITIVE_INFINITY })),
  library('duration', 'a duration as the string "10"', () => lock({ duration: '10' as never })),
  library('tableName', 'a table name of 2 characters', () => lock({ tableName: 'ab' })),
  library('tableName', 'a table name with a slash', () => lock({ tableName: 'bad/name' })),
  library('tableName', 'a table name of 256 characters', () => lock({ tableName: 't'.repeat(256) })),
  library('owner', 'an empty owner', () => lock({ owner: '' })),
  library('owner', 'an owner of 1026 bytes', () => lock({ owner: 'é'.repeat(513) })),
  library('owner', 'an owner with a lone surrogate', () => lock({ owner: lone })),
  library('backoff.baseMs', 'a negative back-off base', () => lock({ backoff: { baseMs: -1 } })),
  library('backoff.capMs', 'a back-off cap of NaN', () => lock({ backoff: { capMs: Number.NaN } })),
  library('clock', 'a clock that is not a function', () => lock({ clock: 1_700_000_000_000 as never })),
  library('client', 'a client without send', () => lock({ client: {} as never })),
  library('logger', 'a logger without warn', () => lock({ logger: console.log as never })),
  library('timeoutMs', 'acquire with a negative timeout', () => lock({}).acquire({ timeoutMs: -1 })),
  library('timeoutMs', 'acquire with a timeout of NaN', () => lock({}).acquire({ timeoutMs: Number.NaN })),
  library('timeoutMs', 'acquire with a timeout as a string', () =>
    lock({}).acquire({ timeoutMs: '100' as never }),
  ),
  library('seconds', 'extend by 0 s', () => lock({}).extend(0)),
  library('seconds', 'extend by NaN', () => lock({}).extend(Number.NaN)),
  library('seconds', 'extend past 12 hours', () => lock({}).extend(43_201)),
  library('duration', 'a module default duration of 0', () => {
    const saved = defaults.duration;
    defaults.duration = 0;
    try {
      return lock({});
    } finally {
      defaults.duration = saved;
    }
  }),
  library('concurrency', 'withLock with concurrency 0 (the work never runs)', () =>
    withLock('r', { client: tripwire, concurrency: 0 }, async () => {
      throw new Error('the work ran');
    }),
  ),
  acquire('resourceId', 'no resource id', { resourceId: undefined }),
  acquire('resourceId', 'an empty resource id', { resourceId: '' }),
  acquire('resourceId', 'a resource id of 257 emoji', { resourceId: emoji257 }),
  acquire('resourceId', 'a resource id with a lone surrogate', { resourceId: lone }),
  acquire('resourceId', 'a numeric resource id', { resourceId: 7 }),
  acquire('concurrency', 'concurrency 0', { concurrency: 0 }),
  acquire('concurrency', 'concurrency as a string', { concurrency: '2' }),
  acquire('concurrency', 'concurrency null', { concurrency: null }),
  acquire('leaseSeconds', 'a lease of half a second', { leaseSeconds: 0.5 }),
  acquire('leaseSeconds', 'a lease above 12 hours', { leaseSeconds: 43_201 }),
  acquire('waitSeconds', 'a negative wait', { waitSeconds: -1 }),
  acquire('waitSeconds', 'a wait above a year', { waitSeconds: 31_536_001 }),
  acquire('owner', 'an empty owner', { owner: '' }),
  acquire('owner', 'an owner of 700 characters, 2100 bytes', { owner: 'ࠀ'.repeat(700) }),
  acquire('owner', 'an owner with a lone surrogate', { owner: lone }),
  acquire('concurency', 'a misspelt field', { concurency: 2 }),
  acquire('taskToken', 'an empty task token', { taskToken: '' }),
  acquire('taskToken', 'a numeric task token', { taskToken: 12 }),
  release('releaseCode', 'a release code in capitals', {
    ...lease,
    releaseCode: lease.releaseCode.toUpperCase(),
  }),
  release('releaseCode', 'no release code', { ...lease, releaseCode: undefined }),
  release('concurrencyId', 'slot -1', { ...lease, concurrencyId: -1 }),
  release('concurrencyId', 'slot 1.5', { ...lease, concurrencyId: 1.5 }),
  release('resourceId', 'a resource id of 1025 bytes', { ...lease, resourceId: 'x'.repeat(1025) }),
  release('input', 'a payload that is a string', 'r'),
  extend('leaseSeconds', 'a new lease of 0 s', { ...lease, leaseSeconds: 0 }),
  extend('leaseSeconds', 'a new lease as a string', { ...lease, leaseSeconds: '60' }),
  count('resourceId', 'no resource id', {}),
  count('input', 'a null payload', null),
  retryMessage('JSON', 'a retry message that is not JSON', '{"resourceId": "r", ', 'SyntaxError'),
  retryMessage(
    'requestKey',
    'a retry message with a positive request key',
    JSON.stringify({ resourceId: 'r', requestKey: 5, retryChain: 'c', attempt: 0 }),
  ),
  retryMessage(
    'extra',
    'a retry message with an extra field',
    JSON.stringify({ resourceId: 'r', requestKey: -5, retryChain: 'c', attempt: 0, extra: 1 }),
  ),
  throttle('key', 'a key that is a string', { key: 'tenant' }),
  throttle('concurrency', 'concurrency 0', { concurrency: 0 }),
  throttle('leaseSeconds', 'a negative lease', { leaseSeconds: -5 }),
  throttle('parallelism', 'parallelism 10001', { parallelism: 10_001 }),
  throttle('backoff.capSeconds', 'a back-off cap past SQS timers', { backoff: { capSeconds: 901 } }),
  throttle('backoff.baseSeconds', 'a back-off base of 0', { backoff: { baseSeconds: 0 } }),
  throttle('tableName', 'a table name of 1 character', { tableName: 'x' }),
  throttle('sqsClient', 'an SQS client without send', { sqsClient: {} }),
  throttle('dynamoDbClient', 'a DynamoDB client that is null', { dynamoDbClient: null }),
  throttle('throwOnFullBatchFailure', 'a flag that is a string', { throwOnFullBatchFailure: 'yes' }),
  throttleRecord('key(record)', "a record whose key is ''", { key: () => '' }),
  throttleRecord('key(record)', 'a record whose key is 1025 bytes', { key: () => 'k'.repeat(1025) }),
  throttleRecord('concurrency(key)', 'a key whose concurrency is 0', { concurrency: () => 0 }),
];

describe('the bad-input catalogue', () => {
  it(`covers at least 30 bad inputs (${catalogue.length})`, () => {
    expect(catalogue.length).toBeGreaterThanOrEqual(30);
    countFigure('badInput.entries', catalogue.length);
  });

  it.each(catalogue.map((entry) => [entry.area, entry.label, entry] as const))(
    '%s: %s gets its named error naming the field, and no request',
    async (_area, _label, entry) => {
      const refusal = await entry.refusal();
      expect(refusal.name).toBe(entry.name);
      expect(refusal.message).toContain(entry.field);
      // The acquire step reads its token's claim and answers its task, and that is all.
      const others = sent.filter(
        (call) => call.service !== 'sfn' && !isClaimRead(call.service, call.command, call.input),
      );
      expect(others).toEqual([]);
      expect(sent.filter((call) => call.service === 'sfn' && call.command !== 'SendTaskFailure')).toEqual([]);
    },
  );
});

afterAll(() => {
  console.log(`bad-input figures so far:\n  ${figureLines('badInput.').join('\n  ')}`);
});

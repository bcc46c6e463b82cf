import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbLock } from '../../core/dynamo-db-lock.js';
import { LockLostError } from '../../core/errors.js';
import { releaseSlot } from '../../core/operations/release-slot.js';
import { newReleaseCode } from '../../core/release-code.js';
import { readResource } from '../../core/waiting/read-resource.js';
import { releaseCodeOf } from '../../core/waiting/request.js';
import type { LocalAws } from '../../local/start-local-aws.js';
import { dynamoDbClient, uniqueResource } from '../support/dynamodb.js';
import { eventually, localAws, sfnClient, startExecution, waitForExecution } from '../support/local-aws.js';
import { chaosSettings, countFigure, figureLines } from './support/chaos-settings.js';
import { captureOutput, linesWithTokens } from './support/log-capture.js';
import {
  counts,
  createExampleMachine,
  registerTrackedWork,
  tableStore,
  type WorkRecord,
} from './support/workflow-kit.js';

const guesses = chaosSettings().long ? 5_000 : 500;
let aws: LocalAws;
let work: WorkRecord;
let machineArn: string;

beforeAll(async () => {
  aws = await localAws();
  work = registerTrackedWork(aws, 'security-work');
  machineArn = await createExampleMachine(aws, work.arn, 'security');
}, 60_000);

afterEach(() => {
  vi.restoreAllMocks();
});

const holderLock = (resourceId: string, duration = 30) =>
  new DynamoDbLock(resourceId, { tableName: aws.tableName, client: dynamoDbClient(), duration });

describe('lease codes', () => {
  it('are 128 bits from the OS CSPRNG: 32 hex digits, distinct, balanced, untouched by Math.random', () => {
    // A predictable Math.random changes nothing: the codes do not come from it.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const codes = Array.from({ length: 20_000 }, () => newReleaseCode());
    expect(codes.every((code) => /^[0-9a-f]{32}$/.test(code))).toBe(true);
    expect(new Set(codes).size).toBe(codes.length);
    // Every one of the 128 bits is set in about half of the codes (20,000 draws: 50% ± 2%).
    const ones = new Array<number>(128).fill(0);
    for (const code of codes) {
      const bits = BigInt(`0x${code}`);
      for (let bit = 0; bit < 128; bit++) if ((bits >> BigInt(bit)) & 1n) ones[bit] = (ones[bit] ?? 0) + 1;
    }
    for (const count of ones) expect(Math.abs(count / codes.length - 0.5)).toBeLessThan(0.02);
    countFigure('security.codesChecked', codes.length);
  });

  it('are fresh for every lease of the library, also for the same lock object', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const lock = holderLock(uniqueResource('codes'));
    const seen = new Set<string>();
    for (let round = 0; round < 50; round++) {
      seen.add((await lock.acquire()).releaseCode);
      await lock.release();
    }
    expect(seen.size).toBe(50);
  });

  it('of a workflow are 128 bits of SHA-256 of the task token: as unguessable, and not the token', async () => {
    const resourceId = uniqueResource('workflow-code');
    const result = await waitForExecution(
      await startExecution(machineArn, { resourceId, concurrency: 1, workMs: 1, waitSeconds: 10 }),
    );
    const code = JSON.parse(result.output ?? '{}').lock.releaseCode as string;
    expect(code).toMatch(/^[0-9a-f]{32}$/);
    expect(releaseCodeOf('AQB-a')).not.toBe(releaseCodeOf('AQB-b'));
    expect(result.output).not.toMatch(/AQB[A-Za-z0-9_-]{64}/);
  });
});

describe('task tokens in logs', () => {
  it('never appear whole in a log line of the steps: grant, wait and handoff, timeout, stop, bad input, task gone', async () => {
    const output = captureOutput('INFO');
    const tokens = new Set<string>();
    try {
      const resourceId = uniqueResource('log-tokens');
      // Granted at once, then two that wait and are handed the slot by the release step.
      const handoff = await Promise.all(
        [200, 10, 10].map((workMs) =>
          startExecution(machineArn, { resourceId, concurrency: 1, workMs, waitSeconds: 30 }),
        ),
      );
      await eventually(async () => (await counts(aws, resourceId)).waiting > 0, 5_000, 'a waiter');
      // Answered requests keep no token (an empty string would match every line).
      for (const request of (await readResource(tableStore(aws), resourceId)).requests)
        if (request.taskToken) tokens.add(request.taskToken);
      // Behind a library holder: one times out, one is stopped while it waits.
      const busy = uniqueResource('log-busy');
      const holder = holderLock(busy);
      await holder.acquire();
      const timesOut = await startExecution(machineArn, { resourceId: busy, concurrency: 1, waitSeconds: 1 });
      const stopped = await startExecution(machineArn, { resourceId: busy, concurrency: 1, waitSeconds: 30 });
      await eventually(async () => (await counts(aws, busy)).waiting === 2, 5_000, 'two waiters');
      await (await sfnClient()).send(new StopExecutionCommand({ executionArn: stopped }));
      // Bad input with a real token: answered with Lock.InvalidRequest.
      const invalid = await startExecution(machineArn, { resourceId, concurrency: 0, waitSeconds: 5 });
      // A task that does not exist: the retry loop hears so and withdraws the request.
      const ghost = `AQB${'g'.repeat(64)}`;
      tokens.add(ghost);
      await aws.lambda.invoke(aws.functions.acquire, { taskToken: ghost, resourceId: busy, waitSeconds: 30 });
      await eventually(async () => (await counts(aws, busy)).waiting === 0, 10_000, 'ghost withdrawn');
      const results = await Promise.all(
        [...handoff, timesOut, stopped, invalid].map((arn) => waitForExecution(arn)),
      );
      expect(results.map((result) => result.status)).toEqual([
        'SUCCEEDED',
        'SUCCEEDED',
        'SUCCEEDED',
        'FAILED',
        'ABORTED',
        'FAILED',
      ]);
      expect(results[5]?.error).toBe('Lock.InvalidRequest');
      await holder.release();
    } finally {
      output.stop();
    }
    // The capture saw the steps' log lines (they carry a token's last characters only).
    expect(output.lines.some((line) => line.includes('"message":"granted"'))).toBe(true);
    expect(output.lines.some((line) => line.includes('…'))).toBe(true);
    expect(linesWithTokens(output.lines, tokens)).toEqual([]);
    countFigure('security.logLinesChecked', output.lines.length);
  }, 60_000);
});

describe('guessed and stale codes', () => {
  it(`a release with any of ${guesses} guessed codes never releases, in the library or the release step`, async () => {
    const resourceId = uniqueResource('guessed');
    const holder = holderLock(resourceId);
    const lease = await holder.acquire();
    const store = tableStore(aws);
    for (let guess = 0; guess < guesses; guess++) {
      const releaseCode = newReleaseCode();
      const released =
        guess % 20 === 0
          ? (
              (await aws.lambda.invoke(aws.functions.release, {
                resourceId,
                concurrencyId: 0,
                releaseCode,
              })) as { released: boolean }
            ).released
          : await releaseSlot(store, { resourceId, concurrencyId: lease.concurrencyId, releaseCode });
      expect(released).toBe(false);
    }
    const [still] = await holder.holders();
    expect(still).toMatchObject({
      concurrencyId: 0,
      expiresAtMs: lease.expiresAtMs + holder.maxClockSkewMs,
      fencingToken: lease.fencingToken,
    });
    expect(await holder.release()).toBe(true);
    countFigure('security.guessedCodes', guesses);
  }, 60_000);

  it("a former holder's code neither releases nor extends the new holder", async () => {
    const resourceId = uniqueResource('stale');
    let nowMs = Date.now();
    const clock = () => nowMs;
    const former = new DynamoDbLock(resourceId, {
      tableName: aws.tableName,
      client: dynamoDbClient(),
      duration: 1,
      clock,
    });
    const formerLease = await former.acquire();
    nowMs += 1_001; // the former lease ended: the slot is free
    const next = new DynamoDbLock(resourceId, {
      tableName: aws.tableName,
      client: dynamoDbClient(),
      duration: 30,
      clock,
    });
    const nextLease = await next.acquire();
    expect(await former.extend(10).catch((error: unknown) => error)).toBeInstanceOf(LockLostError);
    expect(await releaseSlot(tableStore(aws), formerLease)).toBe(false);
    expect(await aws.lambda.invoke(aws.functions.release, formerLease)).toEqual({ released: false });
    await expect(
      aws.lambda.invoke(aws.functions.extend, { ...formerLease, leaseSeconds: 60 }),
    ).rejects.toMatchObject({ name: 'Lock.Lost' });
    expect(await next.holders()).toEqual([
      expect.objectContaining({
        concurrencyId: 0,
        expiresAtMs: nextLease.expiresAtMs + next.maxClockSkewMs,
        fencingToken: nextLease.fencingToken,
      }),
    ]);
    expect(await next.release()).toBe(true);
  });
});

afterAll(() => {
  console.log(`security figures so far:\n  ${figureLines('security.').join('\n  ')}`);
});

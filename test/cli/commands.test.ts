import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultOperator } from '../../cli/operator.js';
import { DynamoDbLock, LockLostError } from '../../core/index.js';
import type { Lease } from '../../core/lease.js';
import { readResourceLimit, resourceLimitFor, setResourceLimit } from '../../core/resource-limit.js';
import { releaseCodeOf, requestKeyOf } from '../../core/waiting/request.js';
import type { WaitingStore } from '../../core/waiting/waiting-store.js';
import { dynamoDbClient, freshWaitingTables, uniqueResource } from '../support/dynamodb.js';
import { recordingLogger } from '../support/recording-logger.js';
import { busyResource as busyOn, lockOn as sharedLockOn } from './busy-resource.js';
import { leakedPart, runDlm } from './run-dlm.js';

let tableName: string;
let endpoint: string;
let store: WaitingStore;
const quiet = recordingLogger();
const dlm = (...argv: string[]) => runDlm(...argv, '--table', tableName, '--endpoint', endpoint);
const lockOn = (resourceId: string, owner: string) => sharedLockOn(store, resourceId, owner);

async function readSlotItem(resourceId: string, slot: number) {
  const { Item } = await dynamoDbClient().send(
    new GetItemCommand({
      TableName: tableName,
      Key: { resource_id: { S: resourceId }, concurrency_id: { N: String(slot) } },
      ConsistentRead: true,
    }),
  );
  return Item;
}

/** `busyResource` of the kit; answers every secret the table now holds. */
async function busyResource(resourceId: string): Promise<{ secrets: string[]; leases: Lease[] }> {
  const { leases, taskToken } = await busyOn(store, resourceId);
  const releaseCode = releaseCodeOf(taskToken);
  const requestKey = String(requestKeyOf(releaseCode));
  return {
    leases,
    secrets: [taskToken, releaseCode, requestKey, ...leases.map((lease) => lease.releaseCode)],
  };
}

beforeAll(async () => {
  endpoint = inject('dynamodbEndpoint');
  const tables = await freshWaitingTables('cli');
  tableName = tables.tableName;
  store = { client: dynamoDbClient(), ...tables, clock: Date.now, logger: quiet };
});

describe('dlm status', () => {
  it('shows holders with slot, owner, expiry and fencing token, and the waiters, without secrets', async () => {
    const resourceId = uniqueResource('status');
    const { leases, secrets } = await busyResource(resourceId);
    const { code, stdout, stderr } = await dlm('status', resourceId);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(`${resourceId} in ${tableName}: 2 held, 1 waiting`);
    for (const lease of leases) {
      const row = stdout.split('\n').find((line) => line.startsWith(`${lease.concurrencyId}  `));
      expect(row).toContain(new Date(lease.expiresAtMs + 100).toISOString()); // the stored end
      const seconds = Number(row?.match(/\(in (\d+)s\)/)?.[1]);
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThanOrEqual(60);
      expect(row).toContain(String(lease.fencingToken));
    }
    expect(stdout).toMatch(/worker-a/);
    expect(stdout).toMatch(/1 +\S+ \(\d+s ago\) +arn:aws:states:.*:waiter-1 +\S+ \(in 3[56]\d\ds\)/);
    expect(leakedPart(stdout, secrets)).toBeUndefined();
  });

  it('answers one JSON object with --json, without secrets', async () => {
    const resourceId = uniqueResource('status-json');
    const { leases, secrets } = await busyResource(resourceId);
    const { code, stdout } = await dlm('status', resourceId, '--json');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ resourceId, table: tableName, held: 2, waiting: 1 });
    expect(report.holders).toEqual(
      leases
        .sort((a, b) => a.concurrencyId - b.concurrencyId)
        .map((lease) => ({
          slot: lease.concurrencyId,
          owner: lease.owner,
          expiresAt: new Date(lease.expiresAtMs + 100).toISOString(),
          expiresInMs: expect.any(Number),
          fencingToken: lease.fencingToken,
          takenAt: expect.any(String),
        })),
    );
    // When each lease began: its 60 s before the end (the store's rounding aside), and past.
    for (const holder of report.holders) {
      const takenMs = Date.parse(holder.takenAt);
      expect(Math.abs(Date.parse(holder.expiresAt) - 60_000 - takenMs)).toBeLessThanOrEqual(1_000);
      expect(takenMs).toBeLessThanOrEqual(Date.now());
    }
    expect(report.waiters).toEqual([
      {
        position: 1,
        arrivedAt: expect.any(String),
        owner: 'arn:aws:states:us-east-1:123456789012:execution:demo:waiter-1',
        waitUntil: expect.any(String),
        concurrency: 2,
        leaseSeconds: 30,
      },
    ]);
    expect(leakedPart(stdout, secrets)).toBeUndefined();
  });

  it('says so when nobody holds or waits', async () => {
    const { code, stdout } = await dlm('status', uniqueResource('idle'));
    expect(code).toBe(0);
    expect(stdout).toContain('0 held, 0 waiting');
    expect(stdout).toContain('no holders');
    expect(stdout).toContain('no waiting requests');
    expect(stdout).toContain('limit: none recorded');
  });

  it('shows the limit recorded for the resource', async () => {
    const resourceId = uniqueResource('status-limit');
    await setResourceLimit(store, resourceId, 4, 'test');
    expect((await dlm('status', resourceId)).stdout).toContain('\nlimit: 4\n');
    expect(JSON.parse((await dlm('status', resourceId, '--json')).stdout)).toMatchObject({ limit: 4 });
  });
});

describe('dlm limit', () => {
  it('shows "none recorded", sets a limit, prints previous -> new, and records who set it', async () => {
    const resourceId = uniqueResource('limit');
    expect(await dlm('limit', resourceId)).toEqual({
      code: 0,
      stdout: `${resourceId}: no limit recorded (the first take of the resource records its concurrency)\n`,
      stderr: '',
    });
    const first = await dlm('limit', resourceId, '2');
    expect(first.code).toBe(0);
    expect(first.stdout.split('\n')[0]).toBe(`${resourceId}: limit none -> 2 (set by ${defaultOperator()})`);
    expect(first.stdout).toContain('Running SQS throttles see the change within 60 s.');
    const second = await dlm('limit', resourceId, '5', '--set-by', 'alice (INC-9)', '--json');
    expect(JSON.parse(second.stdout)).toEqual({ resourceId, previous: 2, limit: 5, setBy: 'alice (INC-9)' });
    expect(await readResourceLimit(store, resourceId)).toBe(5);
    expect(JSON.parse((await dlm('limit', resourceId, '--json')).stdout)).toEqual({ resourceId, limit: 5 });
  });

  it('keeps the limit a first take recorded until it is set on purpose', async () => {
    const resourceId = uniqueResource('limit-first');
    expect(await resourceLimitFor(store, resourceId, 3)).toBe(3);
    expect((await dlm('limit', resourceId)).stdout).toBe(`${resourceId}: limit 3\n`);
    expect(await resourceLimitFor(store, resourceId, 1)).toBe(3); // a later caller does not change it
    expect((await dlm('limit', resourceId, '1')).stdout).toContain('limit 3 -> 1');
    expect(await resourceLimitFor(store, resourceId, 3)).toBe(1);
  });
});

describe('dlm count', () => {
  it('counts holders and waiting requests, as text and as JSON', async () => {
    const resourceId = uniqueResource('count');
    await busyResource(resourceId);
    expect((await dlm('count', resourceId)).stdout).toBe(`${resourceId}: 2 held, 1 waiting\n`);
    const { code, stdout } = await dlm('count', resourceId, '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ resourceId, held: 2, waiting: 1 });
  });
});

describe('dlm locks', () => {
  it('lists the resources with an unexpired holder, and not the released ones', async () => {
    const held = uniqueResource('locks-held');
    const freed = uniqueResource('locks-freed');
    const { secrets } = await busyResource(held);
    const lock = lockOn(freed, 'worker-c');
    await lock.acquire();
    await lock.release();
    const text = await dlm('locks');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^${held} +2 +2$`, 'm'));
    expect(text.stdout).not.toContain(freed);
    expect(text.stdout).toMatch(/resources? held \(scanned \d+ items of /);
    const { stdout } = await dlm('locks', '--json');
    const report = JSON.parse(stdout);
    expect(report.table).toBe(tableName);
    expect(report.resources).toContainEqual({ resourceId: held, held: 2, slotsSeen: 2 });
    expect(report.resources.map((entry: { resourceId: string }) => entry.resourceId)).not.toContain(freed);
    expect(leakedPart(text.stdout + stdout, secrets)).toBeUndefined();
  });
});

describe('dlm release --force', () => {
  it('frees a held slot whoever holds it; the holder then loses its lease', async () => {
    const resourceId = uniqueResource('release');
    const holder = lockOn(resourceId, 'stuck-worker');
    const lease = await holder.acquire();
    const { code, stdout } = await dlm(
      'release',
      resourceId,
      '--slot',
      String(lease.concurrencyId),
      '--force',
    );
    expect(code).toBe(0);
    expect(stdout).toContain(`released slot ${lease.concurrencyId} of ${resourceId} (held by stuck-worker`);
    expect(stdout).toContain('No request is waiting.');
    expect(leakedPart(stdout, [lease.releaseCode])).toBeUndefined();
    expect(await holder.count()).toBe(0);
    await expect(holder.extend(30)).rejects.toBeInstanceOf(LockLostError);
  });

  it('answers "not held" for a free slot and an absent one, and changes nothing', async () => {
    // A released item has `expires` a second in the past, so TTL may delete it at any moment
    // (DynamoDB Local has a TTL deletion job; the likely cause of the one "absent" seen in eight
    // runs, not confirmed: a probe saw no deletion in 10 minutes). The answer must match the durable state either way:
    // "absent" only if the item is gone after the call (a deleted item never comes back), "free"
    // with the former holder otherwise. Retried until the "free" path itself has been seen.
    const freeAnswers = [];
    for (let round = 0; round < 5 && freeAnswers.length === 0; round++) {
      const resourceId = uniqueResource('not-held');
      const lock = lockOn(resourceId, 'done-worker');
      const lease = await lock.acquire();
      await lock.release();
      const slot = String(lease.concurrencyId);
      const answer = await dlm('release', resourceId, '--slot', slot, '--force', '--json');
      expect(answer.code).toBe(0);
      const report = JSON.parse(answer.stdout);
      expect(report).toMatchObject({ released: false, waiting: 0 });
      const after = await readSlotItem(resourceId, lease.concurrencyId);
      if (report.reason === 'absent') {
        expect(after).toBeUndefined();
      } else {
        expect(report).toMatchObject({ reason: 'free', previous: { owner: 'done-worker' } });
        // Changes nothing: still the released item (or deleted by TTL since), never held again.
        if (after !== undefined) expect(after.expires_ms?.N).toBe('0');
        freeAnswers.push(report);
      }
    }
    expect(freeAnswers).toHaveLength(1);
    const absent = await dlm('release', uniqueResource('never-held'), '--slot', '7', '--force');
    expect(absent.code).toBe(0);
    expect(absent.stdout).toMatch(/^not held: slot 7 of .* is free already \(it was never taken/);
  });

  it('frees a slot held by Python dynamo-dlm, and tells that waiters come through the retry loop', async () => {
    // Not "python-…": the id is printed, and must share no 8 characters with the secret below.
    const resourceId = uniqueResource('py-held');
    const { secrets } = await busyResource(resourceId);
    // Python's item: whole-second expires, no expires_ms, no fencing token. Slot 5 is outside
    // the waiting request's two slots, so the freed slot must not change the waiting count.
    await dynamoDbClient().send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          resource_id: { S: resourceId },
          concurrency_id: { N: '5' },
          release_code: { S: 'python-release-code-0123456789abcdef' },
          expires: { N: String(Math.ceil(Date.now() / 1000) + 60) },
        },
      }),
    );
    expect(JSON.parse((await dlm('count', resourceId, '--json')).stdout).held).toBe(3);
    const { code, stdout } = await dlm('release', resourceId, '--slot', '5', '--force', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ resourceId, slot: 5, released: true, waiting: 1 });
    expect(report.previous).toMatchObject({ owner: null, fencingToken: null });
    expect(leakedPart(stdout, [...secrets, 'python-release-code-0123456789abcdef'])).toBeUndefined();
    expect(JSON.parse((await dlm('count', resourceId, '--json')).stdout).held).toBe(2);
    const text = await dlm('release', resourceId, '--slot', '0', '--force');
    expect(text.stdout).toContain('1 waiting request: the oldest gets the slot through its retry loop');
  });
});

describe('dlm failures', () => {
  it('exits 1 with one line when the table does not exist', async () => {
    const { code, stdout, stderr } = await runDlm(
      'count',
      'x',
      '--table',
      'no_such_table',
      '--endpoint',
      endpoint,
    );
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`dlm: table no_such_table not found at ${endpoint}\n`);
  });
});

describe('dlm status and count with permits and a rate', () => {
  it("shows the permits in use and the rate's next start", async () => {
    const resourceId = uniqueResource('rated');
    const rate = { limit: 1, periodSeconds: 60, burst: 1 };
    const options = {
      tableName,
      client: dynamoDbClient(),
      logger: quiet,
      concurrency: 5,
      duration: 60,
      rate,
    };
    const lease = await new DynamoDbLock(resourceId, { ...options, permits: 3, owner: 'weighted' }).acquire();
    const grantedMs = lease.expiresAtMs + 100 - 60_000;
    const { stdout } = await dlm('status', resourceId);
    expect(stdout).toContain(`${resourceId} in ${tableName}: 3 held, 0 waiting`);
    expect(stdout.match(/weighted/g)).toHaveLength(3);
    expect(stdout).toMatch(/rate: one start per 60000 ms, burst 1; next start \S+ \(in (59|60)s\)/);
    const report = JSON.parse((await dlm('status', resourceId, '--json')).stdout);
    expect(report.rate).toEqual({
      nextStartAt: new Date(grantedMs + 60_000).toISOString(),
      intervalMs: 60_000,
      burst: 1,
    });
    const counted = JSON.parse((await dlm('count', resourceId, '--json')).stdout);
    expect(counted).toEqual({
      resourceId,
      held: 3,
      waiting: 0,
      nextStartAt: new Date(grantedMs + 60_000).toISOString(),
    });
  });
});

import { GetItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLock } from '../../../core/dynamo-db-lock.js';
import { readResource } from '../../../core/waiting/read-resource.js';
import type { StoredRequest } from '../../../core/waiting/request.js';
import { lockStore } from '../../../functions/lib/clients.js';
import { readConfig } from '../../../functions/lib/config.js';
import { retryTurn } from '../../../functions/lib/retry-turn.js';
import type { LocalAws } from '../../../local/start-local-aws.js';
import { dynamoDbClient, uniqueResource } from '../../support/dynamodb.js';
import { eventually, startExecution, waitForExecution } from '../../support/local-aws.js';
import { counts, tableStore, type WorkRecord } from '../support/workflow-kit.js';
import { allSucceed, attackStage, statusOf, waitingBehindHolder } from './attack-kit.js';

/*
 * Issue 15, attack 1: someone who may read and write the shared lock table (a Python dynamo-dlm
 * service, a library user) tries to let waiting workflows into a mutex that another holds. On
 * the code before the request table, each step below got one more execution into the work.
 */

let aws: LocalAws;
let work: WorkRecord;
let machineArn: string;

beforeAll(async () => {
  ({ aws, work, machineArn } = await attackStage('attacks'));
}, 60_000);

async function scanTable(tableName: string, resourceId: string) {
  const { Items } = await dynamoDbClient().send(
    new ScanCommand({
      TableName: tableName,
      FilterExpression: 'resource_id = :resourceId',
      ExpressionAttributeValues: { ':resourceId': { S: resourceId } },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

async function slotItem(resourceId: string) {
  const key = { resource_id: { S: resourceId }, concurrency_id: { N: '0' } };
  const { Item } = await dynamoDbClient().send(
    new GetItemCommand({ TableName: aws.tableName, Key: key, ConsistentRead: true }),
  );
  return Item;
}

const acquire = (payload: Record<string, unknown>) => aws.lambda.invoke(aws.functions.acquire, payload);

/** Three executions waiting on a mutex that a library client holds. */
async function threeWaitingBehindHolder(workMs = 50) {
  const { resourceId, lease, executions } = await waitingBehindHolder(
    { aws, work, machineArn },
    ['b', 'c', 'd'],
    {
      waitSeconds: 120,
      workMs,
    },
  );
  // The test's own view of the waiting requests (the attacker's comes from the lock table).
  const { requests } = await readResource(tableStore(aws), resourceId);
  const byOwner = (arn: string) => requests.find((request) => request.owner === arn) as StoredRequest;
  const [b, c, d] = executions.map(byOwner) as [StoredRequest, StoredRequest, StoredRequest];
  return { resourceId, lease, executions, b, c, d };
}

describe('a reader and writer of the lock table (issue 15, attack 1)', () => {
  it("finds no task token, grant or queue entry there: only slots and the resource's limit", async () => {
    const { resourceId, lease } = await threeWaitingBehindHolder();
    const items = await scanTable(aws.tableName, resourceId);
    // Before: the three requests and their queue entries, tokens in plain text.
    expect(items.filter((item) => item.task_token !== undefined)).toEqual([]);
    // The resource's limit (-1, recorded by the first workflow's request) and the holder's slot.
    expect(items.map((item) => Number(item.concurrency_id?.N)).sort()).toEqual([-1, 0]);
    expect(Object.keys(items.find((item) => item.concurrency_id?.N === '-1') ?? {}).sort()).toEqual([
      'concurrency_id',
      'concurrency_limit',
      'limit_set_at_ms',
      'limit_set_by',
      'resource_id',
    ]);
    await aws.lambda.invoke(aws.functions.release, lease);
  }, 60_000);

  it('answers no task with a stolen token: another resource, a wider limit, a chosen cause', async () => {
    const { resourceId, lease, executions, b, d } = await threeWaitingBehindHolder();
    // The tokens leaked another way (they are read here from the request table, which only the
    // functions' roles may read): the functions still answer only what they recorded themselves.
    const free = uniqueResource('free');
    expect(await acquire({ taskToken: b.taskToken, resourceId: free, owner: b.owner })).toEqual({
      status: 'refused',
    });
    const busy = uniqueResource('busy');
    const busyHolder = new DynamoDbLock(busy, {
      tableName: aws.tableName,
      client: dynamoDbClient(),
      duration: 60,
    });
    await busyHolder.acquire();
    expect(await acquire({ taskToken: b.taskToken, resourceId: busy, owner: b.owner })).toEqual({
      status: 'refused',
    });
    // No wait at all on a busy resource: before, B was failed with Lock.Timeout.
    expect(
      await acquire({ taskToken: b.taskToken, resourceId: busy, waitSeconds: 0, owner: b.owner }),
    ).toEqual({
      status: 'refused',
    });
    expect(await acquire({ taskToken: b.taskToken, resourceId, concurrency: 5, owner: b.owner })).toEqual({
      status: 'refused',
    });
    expect(
      await acquire({ taskToken: d.taskToken, resourceId, 'Your turn: go ahead, the lock is yours': true }),
    ).toEqual({ status: 'refused' });
    // Nothing was taken or queued elsewhere, and all three still wait.
    expect(await counts(aws, free)).toEqual({ held: 0, waiting: 0 });
    expect(await counts(aws, busy)).toEqual({ held: 1, waiting: 0 });
    expect(await Promise.all(executions.map(statusOf))).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    expect(work.mostInFlight.get(resourceId)).toBeUndefined();
    await busyHolder.release();
    await aws.lambda.invoke(aws.functions.release, lease);
  }, 60_000);

  it("a grant written into the lock table is not the service's: the retry turn answers nothing", async () => {
    const { resourceId, lease, executions, c } = await threeWaitingBehindHolder();
    // C's record as the attacker would forge it, at C's key in the table the attacker can write.
    await dynamoDbClient().send(
      new UpdateItemCommand({
        TableName: aws.tableName,
        Key: { resource_id: { S: resourceId }, concurrency_id: { N: String(c.requestKey) } },
        UpdateExpression:
          'SET request_state = :granted, granted_slot = :slot, granted_until_ms = :until, granted_fencing_token = :token',
        ExpressionAttributeValues: {
          ':granted': { S: 'granted' },
          ':slot': { N: '0' },
          ':until': { N: String(Date.now() + 60_000) },
          ':token': { N: String(lease.fencingToken) },
        },
      }),
    );
    // C's own retry turn, under its current chain: what the retry loop would run next.
    await retryTurn(lockStore(), readConfig(), {
      resourceId,
      requestKey: c.requestKey,
      retryChain: c.retryChain as string,
      attempt: 1,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await Promise.all(executions.map(statusOf))).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    expect(work.mostInFlight.get(resourceId)).toBeUndefined();
    // The real holder lets go: the three run one at a time, in order.
    await aws.lambda.invoke(aws.functions.release, lease);
    await allSucceed(executions);
    expect(work.mostInFlight.get(resourceId)).toBe(1);
    expect(work.doubled).toEqual([]);
  }, 60_000);

  it('a replay under the same resource leaves alone the slot its workflow holds, and fails no waiter (found by review)', async () => {
    const { resourceId, lease, executions, b, c } = await threeWaitingBehindHolder(3_000);
    const asked = { resourceId, concurrency: 1, leaseSeconds: 300, waitSeconds: 120 };
    // C waits: the same payload but no wait at all used to fail it with Lock.Timeout.
    expect(await acquire({ ...asked, taskToken: c.taskToken, owner: c.owner, waitSeconds: 0 })).toEqual({
      status: 'refused',
    });
    // B is granted and at work (for 3 s; the first of three, so the slot is B's).
    await aws.lambda.invoke(aws.functions.release, lease);
    await eventually(async () => (await slotItem(resourceId))?.owner?.S === b.owner);
    const before = await slotItem(resourceId);
    // Its token again, with a 1 s lease and another owner: before, the take took it as a repeat
    // and rewrote the slot, so the next waiter came in beside B a second later.
    expect(await acquire({ ...asked, taskToken: b.taskToken, owner: 'attacker', leaseSeconds: 1 })).toEqual({
      status: 'refused',
    });
    const after = await slotItem(resourceId);
    expect(after).toEqual(before);
    await allSucceed(executions);
    expect(work.mostInFlight.get(resourceId)).toBe(1);
    expect(work.doubled).toEqual([]);
  }, 60_000);

  it("an item forged at a request's key under an ended execution withdraws nobody (found by review)", async () => {
    const { resourceId, lease, executions, d } = await threeWaitingBehindHolder();
    // The attacker's own execution ends (Lock.Timeout on a resource it keeps busy) as the owner
    // of an item it wrote at D's request key in the lock table.
    const other = uniqueResource('attacker');
    const otherHolder = new DynamoDbLock(other, {
      tableName: aws.tableName,
      client: dynamoDbClient(),
      duration: 60,
    });
    await otherHolder.acquire();
    const ended = await startExecution(machineArn, {
      resourceId: other,
      concurrency: 1,
      waitSeconds: 1,
      tag: 'e',
    });
    await dynamoDbClient().send(
      new PutItemCommand({
        TableName: aws.tableName,
        Item: {
          resource_id: { S: resourceId },
          concurrency_id: { N: String(d.requestKey) },
          owner: { S: ended },
          release_code: { S: d.releaseCode },
        },
      }),
    );
    expect((await waitForExecution(ended)).status).toBe('FAILED');
    await eventually(async () => (await counts(aws, other)).waiting === 0);
    const { requests } = await readResource(tableStore(aws), resourceId);
    expect(requests.find((request) => request.owner === d.owner)?.state).toBe('waiting');
    await otherHolder.release();
    await aws.lambda.invoke(aws.functions.release, lease);
    await allSucceed(executions);
  }, 60_000);
});

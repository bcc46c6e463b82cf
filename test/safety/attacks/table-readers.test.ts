import { ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLock } from '../../../core/dynamo-db-lock.js';
import { readResource } from '../../../core/waiting/read-resource.js';
import type { StoredRequest } from '../../../core/waiting/request.js';
import { lockStore } from '../../../functions/lib/clients.js';
import { readConfig } from '../../../functions/lib/config.js';
import { retryTurn } from '../../../functions/lib/retry-turn.js';
import type { LocalAws } from '../../../local/start-local-aws.js';
import { dynamoDbClient, uniqueResource } from '../../support/dynamodb.js';
import { eventually, localAws, sfnClient, startExecution } from '../../support/local-aws.js';
import {
  counts,
  createExampleMachine,
  registerTrackedWork,
  tableStore,
  type WorkRecord,
} from '../support/workflow-kit.js';

/*
 * Issue 15, attack 1: someone who may read and write the shared lock table (a Python dynamo-dlm
 * service, a library user) tries to let waiting workflows into a mutex that another holds. On
 * the code before the request table, each step below got one more execution into the work.
 */

let aws: LocalAws;
let work: WorkRecord;
let machineArn: string;

beforeAll(async () => {
  aws = await localAws();
  work = registerTrackedWork(aws, 'attack-work');
  machineArn = await createExampleMachine(aws, work.arn, 'attacks');
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

async function statusOf(executionArn: string): Promise<string | undefined> {
  const sfn = await sfnClient();
  return (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status;
}

const acquire = (payload: Record<string, unknown>) => aws.lambda.invoke(aws.functions.acquire, payload);

/** Three executions waiting on a mutex that a library client holds. */
async function threeWaitingBehindHolder() {
  const resourceId = uniqueResource('attacked');
  const holder = new DynamoDbLock(resourceId, {
    tableName: aws.tableName,
    client: dynamoDbClient(),
    duration: 60,
  });
  const lease = await holder.acquire();
  const executions: string[] = [];
  for (const tag of ['b', 'c', 'd']) {
    executions.push(
      await startExecution(machineArn, { resourceId, concurrency: 1, waitSeconds: 120, tag, workMs: 50 }),
    );
    await eventually(async () => (await counts(aws, resourceId)).waiting === executions.length);
  }
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
    await eventually(
      async () => (await Promise.all(executions.map(statusOf))).every((s) => s === 'SUCCEEDED'),
      30_000,
    );
    expect(work.mostInFlight.get(resourceId)).toBe(1);
    expect(work.doubled).toEqual([]);
  }, 60_000);
});

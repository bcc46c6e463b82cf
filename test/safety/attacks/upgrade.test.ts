import { DeleteItemCommand, PutItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '../../../local/start-local-aws.js';
import { runDlm } from '../../cli/run-dlm.js';
import { dynamoDbClient } from '../../support/dynamodb.js';
import { counts, type WorkRecord } from '../support/workflow-kit.js';
import { allSucceed, attackStage, waitingBehindHolder } from './attack-kit.js';

/*
 * The release before the request table kept waiting requests (and their task tokens) in the
 * lock table. After an upgrade nothing reads them there: they would wait until their task's own
 * timeout, their tokens readable by every reader of the lock table (found by review).
 * `dlm migrate-requests` moves them into the request table.
 */

let aws: LocalAws;
let work: WorkRecord;
let machineArn: string;

beforeAll(async () => {
  ({ aws, work, machineArn } = await attackStage('upgrade'));
}, 60_000);

/** Moves a resource's requests and queue entries where the previous release stored them. */
async function asTheOldReleaseStoredThem(resourceId: string): Promise<number> {
  const db = dynamoDbClient();
  const { Items = [] } = await db.send(
    new QueryCommand({
      TableName: aws.requestTableName,
      ConsistentRead: true,
      KeyConditionExpression: 'resource_id = :r',
      ExpressionAttributeValues: { ':r': { S: resourceId } },
    }),
  );
  for (const item of Items) {
    await db.send(new PutItemCommand({ TableName: aws.tableName, Item: item }));
    const key = { resource_id: item.resource_id as never, concurrency_id: item.concurrency_id as never };
    await db.send(new DeleteItemCommand({ TableName: aws.requestTableName, Key: key }));
  }
  return Items.length;
}

async function tokensInLockTable(resourceId: string): Promise<number> {
  const { Items = [] } = await dynamoDbClient().send(
    new ScanCommand({
      TableName: aws.tableName,
      FilterExpression: 'resource_id = :r AND attribute_exists(task_token)',
      ExpressionAttributeValues: { ':r': { S: resourceId } },
      ConsistentRead: true,
    }),
  );
  return Items.length;
}

describe('requests recorded by the release before the request table', () => {
  it('are moved by dlm migrate-requests, then granted in order', async () => {
    const { resourceId, lease, executions } = await waitingBehindHolder(
      { aws, work, machineArn },
      ['b', 'c'],
      {
        waitSeconds: 60,
      },
    );
    expect(await asTheOldReleaseStoredThem(resourceId)).toBe(4); // two records, two queue entries
    expect(await tokensInLockTable(resourceId)).toBe(2);
    // And a record forged by a writer of the lock table: granted, with a token it made up.
    const forgedKey = String(-1_000_000 - 7);
    await dynamoDbClient().send(
      new PutItemCommand({
        TableName: aws.tableName,
        Item: {
          resource_id: { S: resourceId },
          concurrency_id: { N: forgedKey },
          request_state: { S: 'granted' },
          task_token: { S: 'made-up' },
          release_code: { S: '0123456789abcdef0123456789abcdef' },
          granted_slot: { N: '0' },
        },
      }),
    );
    const migrated = await runDlm('migrate-requests', '--table', aws.tableName, '--json');
    expect(migrated.code).toBe(0);
    expect(migrated.stderr).toMatch(/^(moved \d+, dropped \d+ \(\d+ items scanned\)\n)*$/);
    // The two records, each with its entry; the old entries and the forged record are dropped
    // (other files' items in this shared table may be dropped too).
    const report = JSON.parse(migrated.stdout);
    expect(report.moved).toBe(2);
    expect(report.dropped).toBeGreaterThanOrEqual(3);
    expect(await tokensInLockTable(resourceId)).toBe(0);
    const { Items: forged = [] } = await dynamoDbClient().send(
      new QueryCommand({
        TableName: aws.requestTableName,
        KeyConditionExpression: 'resource_id = :r AND concurrency_id = :k',
        ExpressionAttributeValues: { ':r': { S: resourceId }, ':k': { N: forgedKey } },
      }),
    );
    expect(forged).toEqual([]);
    expect(await counts(aws, resourceId)).toEqual({ held: 1, waiting: 2 });
    // Run again: nothing left to move.
    expect(
      JSON.parse((await runDlm('migrate-requests', '--table', aws.tableName, '--json')).stdout),
    ).toMatchObject({
      moved: 0,
    });
    await aws.lambda.invoke(aws.functions.release, { ...lease });
    await allSucceed(executions);
    expect(work.mostInFlight.get(resourceId)).toBe(1);
  }, 60_000);
});

import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { attribute, dueIndexName, ownerIndexName, requestAttribute } from './table.js';

// Creating tables is for local use and tests; the functions never load this module.

const ownerIndex = {
  IndexName: ownerIndexName,
  KeySchema: [{ AttributeName: attribute.owner, KeyType: 'HASH' as const }],
  Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [attribute.releaseCode] },
};

const dueIndex = {
  IndexName: dueIndexName,
  KeySchema: [
    { AttributeName: requestAttribute.dueShard, KeyType: 'HASH' as const },
    { AttributeName: requestAttribute.dueMs, KeyType: 'RANGE' as const },
  ],
  // The chain lets the sweeper re-drive a waiting request as its own retry turn would.
  Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [requestAttribute.retryChain] },
};

/**
 * Creates the lock table if it does not exist: `resource_id` (S) partition key, `concurrency_id`
 * (N) sort key, on-demand billing, TTL on `expires`, and the `owner-index` (finds what a failed
 * execution holds, to free it). Waits until the table is active.
 * For local use and tests; in AWS, deploy it with `sst deploy` (or your own IaC).
 *
 * @example
 * await createLockTable(new DynamoDBClient({}), 'dynamo_dlm_locks');
 */
export async function createLockTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await createTable(
    client,
    tableName,
    [{ AttributeName: attribute.owner, AttributeType: 'S' }],
    [ownerIndex],
  );
}

/**
 * Creates the request table of the workflow service if it does not exist: the lock table's keys,
 * billing and TTL, the `owner-index` (finds what a failed execution waits for) and the
 * `due-index` (finds requests whose next step is overdue: a lost retry turn, an unanswered grant).
 * Only the service's functions should be allowed to read or write it: it holds task tokens.
 *
 * @example
 * await createRequestTable(new DynamoDBClient({}), 'dynamo_dlm_locks_requests');
 */
export async function createRequestTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await createTable(
    client,
    tableName,
    [
      { AttributeName: attribute.owner, AttributeType: 'S' },
      { AttributeName: requestAttribute.dueShard, AttributeType: 'S' },
      { AttributeName: requestAttribute.dueMs, AttributeType: 'N' },
    ],
    [ownerIndex, dueIndex],
  );
}

async function createTable(
  client: DynamoDBClient,
  tableName: string,
  indexAttributes: AttributeDefinition[],
  indexes: GlobalSecondaryIndex[],
): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: attribute.resourceId, AttributeType: 'S' },
          { AttributeName: attribute.concurrencyId, AttributeType: 'N' },
          ...indexAttributes,
        ],
        KeySchema: [
          { AttributeName: attribute.resourceId, KeyType: 'HASH' },
          { AttributeName: attribute.concurrencyId, KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: indexes,
      }),
    );
  } catch (error) {
    // A table created by someone else (or by an earlier run) is what we wanted.
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilActive(client, tableName);
  await client
    .send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: attribute.expires, Enabled: true },
      }),
    )
    .catch((error: unknown) => {
      // Enabling TTL twice is refused with a ValidationException; the table is still right.
      if (!(error instanceof Error && /already enabled/i.test(error.message))) throw error;
    });
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.TableStatus === 'ACTIVE') return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Table ${tableName} did not become ACTIVE within 60 s`);
}

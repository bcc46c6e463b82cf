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

/**
 * Attribute names of the lock table, shared with Python dynamo-dlm v2. Renaming any of them
 * breaks compatibility with tables that already exist.
 */
export const attribute = {
  resourceId: 'resource_id',
  concurrencyId: 'concurrency_id',
  releaseCode: 'release_code',
  expires: 'expires',
  expiresMs: 'expires_ms',
  owner: 'owner',
  fencingToken: 'fencing_token',
} as const;

/**
 * Attributes of a waiting request's item (in the request table, at a negative `concurrency_id`). `expires` is written
 * only when the request ends, a second in the past: Python dynamo-dlm counts every item of a
 * resource with `expires >= now`, and TTL removes items whose `expires` has passed.
 */
export const requestAttribute = {
  releaseCode: 'release_code',
  state: 'request_state',
  taskToken: 'task_token',
  expires: 'expires',
  dueShard: 'due_shard',
  dueMs: 'due_ms',
  arrivedMs: 'arrived_ms',
  waitUntilMs: 'wait_until_ms',
  leaseMs: 'lease_ms',
  concurrency: 'concurrency',
  owner: 'owner',
  retryChain: 'retry_chain',
  grantedSlot: 'granted_slot',
  grantedUntilMs: 'granted_until_ms',
  grantedFencingToken: 'granted_fencing_token',
  heartbeatSeconds: 'heartbeat_seconds',
  /** Where its queue entry lives (`core/waiting/queue.ts`) while it waits. */
  queueKey: 'queue_key',
} as const;

/** Attributes of a queue entry (`core/waiting/queue.ts`): just what a pass needs to pick a request. */
export const queueAttribute = {
  requestKey: 'request_key',
  concurrency: 'concurrency',
  waitUntilMs: 'wait_until_ms',
} as const;

/**
 * The index by `owner` (sparse: only items with an owner), used to free the slots and withdraw
 * the waiting requests of a failed execution. Optional for the library; needed by the cleanup step.
 */
export const ownerIndexName = 'owner-index';

/**
 * The index of requests by when something must happen to them next (sparse: only requests that
 * have not ended carry `due_ms`), read by the sweeper to re-drive a request whose retry turn or
 * answer is overdue. Its partition key is one of `dueShardCount` shards, so that no single index
 * partition takes every request write.
 */
export const dueIndexName = 'due-index';

/** How many `due_shard` values requests spread over; the sweeper queries each. */
export const dueShardCount = 4;

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

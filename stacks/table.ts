/**
 * The lock table's layout, shared with Python dynamo-dlm v2 (DESIGN.md, "The table"), and the
 * request table's, which only the functions use (waiting requests, their task tokens, the
 * queue): same keys, its own name. `test/stacks` checks these names against `core/table.ts`;
 * they are repeated here so that the deployment code does not load the AWS SDK.
 */
export const lockTable = {
  defaultName: 'dynamo_dlm_locks',
  /** The request table's default name is the lock table's with this suffix. */
  requestTableSuffix: '_requests',
  partitionKey: 'resource_id',
  sortKey: 'concurrency_id',
  ttlAttribute: 'expires',
  ownerIndex: 'owner-index',
  ownerAttribute: 'owner',
  releaseCodeAttribute: 'release_code',
  dueIndex: 'due-index',
  dueShardAttribute: 'due_shard',
  dueMsAttribute: 'due_ms',
  retryChainAttribute: 'retry_chain',
} as const;

/** The parts of an existing table's description that decide whether the service can use it. */
export interface ExistingTableDescription {
  name: string;
  hashKey: string;
  rangeKey: string;
  globalSecondaryIndexes: { name: string; hashKey?: string }[];
  ttl: { attributeName: string; enabled: boolean };
}

/**
 * The problems that make an existing lock table unusable (an empty list when it fits), each with
 * its fix. TTL is not required: leases end by their own time; TTL only deletes the old items.
 * The `due-index` is not either: overdue requests are in the request table, which the stack
 * always creates.
 *
 * @example
 * existingTableProblems(await aws.dynamodb.getTable({ name: 'dynamo_dlm_locks' }));
 */
export function existingTableProblems(table: ExistingTableDescription): string[] {
  const problems: string[] = [];
  if (table.hashKey !== lockTable.partitionKey || table.rangeKey !== lockTable.sortKey) {
    problems.push(
      `its key is (${table.hashKey}, ${table.rangeKey || 'no sort key'}), ` +
        `expected (${lockTable.partitionKey} S, ${lockTable.sortKey} N): it is not a dynamo-dlm table`,
    );
  }
  if (!table.globalSecondaryIndexes.some((index) => index.name === lockTable.ownerIndex)) {
    problems.push(
      `it has no ${lockTable.ownerIndex}, which the cleanup of failed executions queries. Add it once with: ` +
        ownerIndexCommand(table.name),
    );
  }
  return problems;
}

/** The AWS CLI command that adds the `owner-index` to an existing table (on-demand billing). */
export function ownerIndexCommand(tableName: string): string {
  const update = JSON.stringify([
    {
      Create: {
        IndexName: lockTable.ownerIndex,
        KeySchema: [{ AttributeName: lockTable.ownerAttribute, KeyType: 'HASH' }],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [lockTable.releaseCodeAttribute] },
      },
    },
  ]);
  return (
    `aws dynamodb update-table --table-name ${tableName} ` +
    `--attribute-definitions AttributeName=${lockTable.ownerAttribute},AttributeType=S ` +
    `--global-secondary-index-updates '${update}'`
  );
}

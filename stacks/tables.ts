import { existingTableProblems, lockTable } from './table.js';
import type { Transform } from './transform.js';
import { transformed } from './transform.js';

/** One table the functions use: its name and ARN, and the resource when the stack created it. */
export interface DeployedTable {
  name: $util.Output<string>;
  arn: $util.Output<string>;
  table: aws.dynamodb.Table | undefined;
}

/** A table the stack created. */
export interface CreatedTable extends DeployedTable {
  table: aws.dynamodb.Table;
}

/** What `deployTables` needs (the matching fields of `DynamoDlmArgs`, defaults applied). */
export interface TablesArgs {
  tableName: string;
  requestTableName: string;
  existingTable: boolean;
  pointInTimeRecovery: boolean;
  deletionProtection: boolean;
  retainTable: boolean;
  transform?: { table?: Transform<aws.dynamodb.TableArgs>; requestTable?: Transform<aws.dynamodb.TableArgs> };
}

/** A global secondary index as the table resource takes it (plain values, no outputs). */
interface IndexArgs {
  name: string;
  keySchemas: { attributeName: string; keyType: 'HASH' | 'RANGE' }[];
  projectionType: 'INCLUDE';
  nonKeyAttributes: string[];
}

// Sparse (only items with an owner): what a failed execution holds or waits for.
const ownerIndex: IndexArgs = {
  name: lockTable.ownerIndex,
  keySchemas: [{ attributeName: lockTable.ownerAttribute, keyType: 'HASH' }],
  projectionType: 'INCLUDE',
  nonKeyAttributes: [lockTable.releaseCodeAttribute],
};
// Sparse (only requests that have not ended): what is overdue, for the sweeper.
const dueIndex: IndexArgs = {
  name: lockTable.dueIndex,
  keySchemas: [
    { attributeName: lockTable.dueShardAttribute, keyType: 'HASH' },
    { attributeName: lockTable.dueMsAttribute, keyType: 'RANGE' },
  ],
  projectionType: 'INCLUDE',
  nonKeyAttributes: [lockTable.retryChainAttribute],
};

/**
 * The lock table (created, or an existing one checked) and the request table (always created:
 * it holds task tokens, so it is never shared, and only the functions' roles are granted it).
 *
 * @example
 * const { lock, request } = deployTables('Locks', { tableName: 'dynamo_dlm_locks', ... }, this);
 */
export function deployTables(
  name: string,
  args: TablesArgs,
  parent: $util.Resource,
): { lock: DeployedTable; request: CreatedTable } {
  const lock = args.existingTable
    ? existingLockTable(args.tableName, parent)
    : createdTable(`${name}Table`, args.tableName, [ownerIndex], args, parent, args.transform?.table);
  const request = createdTable(
    `${name}RequestTable`,
    args.requestTableName,
    [ownerIndex, dueIndex],
    args,
    parent,
    args.transform?.requestTable,
  );
  return { lock, request };
}

function existingLockTable(tableName: string, parent: $util.Resource): DeployedTable {
  const found = aws.dynamodb.getTableOutput({ name: tableName }, { parent });
  return {
    name: found.name,
    arn: found.apply((table) => {
      const problems = existingTableProblems(table);
      if (problems.length > 0)
        throw new Error(`dynamo-dlm: table ${tableName} cannot be used: ${problems.join('; ')}`);
      return table.arn;
    }),
    table: undefined,
  };
}

/** A table with the dynamo-dlm keys, the given indexes, TTL on `expires` and on-demand billing. */
function createdTable(
  logicalName: string,
  tableName: string,
  indexes: IndexArgs[],
  args: TablesArgs,
  parent: $util.Resource,
  transform: Transform<aws.dynamodb.TableArgs> | undefined,
): CreatedTable {
  const keyTypes: Record<string, 'S' | 'N'> = {
    [lockTable.partitionKey]: 'S',
    [lockTable.sortKey]: 'N',
    [lockTable.ownerAttribute]: 'S',
    [lockTable.dueShardAttribute]: 'S',
    [lockTable.dueMsAttribute]: 'N',
  };
  // DynamoDB wants a definition for each key attribute of the table and its indexes, no other.
  const indexKeys = indexes.flatMap((index) => index.keySchemas.map((key) => key.attributeName));
  const keyNames = [...new Set([lockTable.partitionKey, lockTable.sortKey, ...indexKeys])];
  const table = new aws.dynamodb.Table(
    ...transformed(
      transform,
      logicalName,
      {
        name: tableName,
        billingMode: 'PAY_PER_REQUEST',
        hashKey: lockTable.partitionKey,
        rangeKey: lockTable.sortKey,
        attributes: keyNames.map((key) => ({ name: key, type: keyTypes[key] as 'S' | 'N' })),
        globalSecondaryIndexes: indexes,
        ttl: { attributeName: lockTable.ttlAttribute, enabled: true },
        pointInTimeRecovery: { enabled: args.pointInTimeRecovery },
        deletionProtectionEnabled: args.deletionProtection,
      },
      // Other services (Python dynamo-dlm) may use the lock table, and the requests in flight are
      // in the other: `sst remove` keeps both unless the component is told otherwise.
      { parent, retainOnDelete: args.retainTable },
    ),
  );
  return { name: table.name, arn: table.arn, table };
}

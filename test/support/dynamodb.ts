import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { createLockTable, createRequestTable } from '../../core/create-tables.js';
import { requestTableNameFor } from '../../core/waiting/waiting-store.js';

let client: DynamoDBClient | undefined;

/** A client for the run's DynamoDB Local. */
export function dynamoDbClient(): DynamoDBClient {
  client ??= new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1' });
  return client;
}

let counter = 0;

/** A fresh lock table for one test file, so files never see each other's locks. */
export async function freshLockTable(prefix = 'locks'): Promise<string> {
  const tableName = `${prefix}_${process.pid}_${Date.now()}_${counter++}`;
  await createLockTable(dynamoDbClient(), tableName);
  return tableName;
}

/** A fresh lock table and its request table, for a test file that drives the waiting protocol. */
export async function freshWaitingTables(
  prefix = 'locks',
): Promise<{ tableName: string; requestTableName: string }> {
  const tableName = await freshLockTable(prefix);
  const requestTableName = requestTableNameFor(tableName);
  await createRequestTable(dynamoDbClient(), requestTableName);
  return { tableName, requestTableName };
}

/** A resource id no other test uses. */
export function uniqueResource(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2, 10)}`;
}

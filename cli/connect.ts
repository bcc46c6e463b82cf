import { DescribeTableCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { Clock } from '../core/store.js';
import type { WaitingStore } from '../core/waiting/waiting-store.js';
import type { Connection } from './parse-command.js';

/** The lock table the CLI talks to, and a description of where it is for error messages. */
export interface CliStore extends WaitingStore {
  client: DynamoDBClient;
  /** "http://localhost:8000" or "AWS eu-west-1": where the table was looked for. */
  where: () => Promise<string>;
}

const localHosts = new Set(['localhost', '127.0.0.1', '[::1]', '0.0.0.0']);

/**
 * A store on the table of `connection`. The endpoint and region default to the SDK's own
 * resolution; against a local endpoint, missing credentials and region get placeholders, which
 * DynamoDB Local accepts, so `dlm --endpoint http://localhost:8000 locks` needs no AWS setup.
 *
 * @example
 * const store = openStore({ tableName: 'dynamo_dlm_locks', endpoint: 'http://localhost:8000' });
 */
export function openStore(connection: Connection, clock: Clock = Date.now): CliStore {
  const endpoint = endpointOf(connection);
  const local = endpoint !== undefined && localHosts.has(new URL(endpoint).hostname);
  const config: DynamoDBClientConfig = {
    ...(connection.endpoint === undefined ? {} : { endpoint: connection.endpoint }),
    ...(connection.region === undefined ? {} : { region: connection.region }),
    ...(local && connection.region === undefined && !process.env.AWS_REGION ? { region: 'us-east-1' } : {}),
    ...(local && !process.env.AWS_ACCESS_KEY_ID && !process.env.AWS_PROFILE
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  };
  const client = new DynamoDBClient(config);
  return {
    client,
    tableName: connection.tableName,
    requestTableName: connection.requestTableName,
    requestTableMayBeMissing: true,
    clock,
    // A CLI answers or fails; retry warnings would only clutter its output.
    logger: { warn: () => {} },
    where: async () => endpoint ?? `AWS ${await client.config.region().catch(() => '(no region)')}`,
  };
}

/**
 * The endpoint the SDK will send to: `--endpoint`, else the SDK's own variables; undefined for
 * AWS's regional endpoint (https).
 *
 * @example
 * endpointOf({ tableName: 'locks' }); // process.env.AWS_ENDPOINT_URL_DYNAMODB, if set
 */
export function endpointOf(connection: Connection): string | undefined {
  return connection.endpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL;
}

/**
 * Fails fast, before any lock operation, when the table is missing or DynamoDB unreachable (the
 * lock operations would retry network faults for 20 s). DescribeTable is free of charge; an
 * operator whose role may not call it goes on without the check.
 *
 * @example
 * await checkTable(store); // throws ResourceNotFoundException when the table is missing
 */
export async function checkTable(store: CliStore): Promise<void> {
  try {
    await store.client.send(new DescribeTableCommand({ TableName: store.tableName }));
  } catch (error) {
    if ((error as Error).name === 'AccessDeniedException') return;
    throw error;
  }
}

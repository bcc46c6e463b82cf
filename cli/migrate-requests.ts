import {
  type AttributeValue,
  DeleteItemCommand,
  ScanCommand,
  type ScanCommandOutput,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { attribute } from '../core/table.js';
import { isQueueKey, toQueueItem } from '../core/waiting/queue.js';
import { firstRequestKey, releaseCodeOf, requestKeyOf, type StoredRequest } from '../core/waiting/request.js';
import { fromRequestItem } from '../core/waiting/request-item.js';
import { parkedPrefix } from '../sqs/parking.js';
import type { CliStore } from './connect.js';

type Item = Record<string, AttributeValue>;

/** What `dlm migrate-requests` reports; the `--json` output. */
export interface MigrationReport {
  table: string;
  requestTable: string;
  /** Request records moved into the request table (with a fresh queue entry while they wait). */
  moved: number;
  /**
   * Items deleted without moving: old queue entries (rebuilt from their records), ended requests
   * (no task token left), and items that are no genuine record (their key and code do not follow
   * from their token: anyone who may write the lock table could have put them there).
   */
  dropped: number;
  /** Items the Scan read: what it cost. */
  scannedItems: number;
}

/**
 * Moves the waiting requests that the release before the request table kept in the lock table
 * (sort keys at or below -1,000,000) into the request table, where the functions now read them:
 * until then they are granted by nobody, and their task tokens stay readable in the lock table.
 * Only genuine records move (release code and key derived from the token they carry), each in
 * one transaction with its queue entry (Put if absent there, Delete here), so a run cut off, or
 * repeated, moves nothing twice; an item an earlier run copied is only deleted. Run it once after
 * deploying; the sweeper re-drives any request whose retry turn was dropped meanwhile.
 *
 * @example
 * const { moved } = await migrateRequests(store, (line) => process.stderr.write(line));
 */
export async function migrateRequests(
  store: CliStore,
  progress: (line: string) => void,
): Promise<MigrationReport> {
  const report: MigrationReport = {
    table: store.tableName,
    requestTable: store.requestTableName,
    moved: 0,
    dropped: 0,
    scannedItems: 0,
  };
  let startKey: Item | undefined;
  do {
    const output: ScanCommandOutput = await store.client.send(
      new ScanCommand({
        TableName: store.tableName,
        // Parked SQS records share that range of sort keys (live data, not old requests): kept.
        FilterExpression: '#concurrencyId <= :lastRequestKey AND NOT begins_with(#resourceId, :parked)',
        ExpressionAttributeNames: {
          '#concurrencyId': attribute.concurrencyId,
          '#resourceId': attribute.resourceId,
        },
        ExpressionAttributeValues: {
          ':lastRequestKey': { N: String(firstRequestKey) },
          ':parked': { S: parkedPrefix },
        },
        ConsistentRead: true,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    report.scannedItems += output.ScannedCount ?? 0;
    for (const item of output.Items ?? []) {
      const request = genuineRecord(item);
      if (request) await moveRecord(store, item, request);
      else await store.client.send(new DeleteItemCommand({ TableName: store.tableName, Key: keyOf(item) }));
      if (request) report.moved++;
      else report.dropped++;
    }
    if (report.moved + report.dropped > 0)
      progress(`moved ${report.moved}, dropped ${report.dropped} (${report.scannedItems} items scanned)\n`);
    startKey = output.LastEvaluatedKey;
  } while (startKey);
  return report;
}

/** The request an item records, if it is a live request whose code and key follow from its token. */
function genuineRecord(item: Item): StoredRequest | undefined {
  const key = Number(item[attribute.concurrencyId]?.N);
  if (isQueueKey(key)) return undefined;
  const request = fromRequestItem(item);
  if (request.taskToken === '') return undefined;
  const releaseCode = releaseCodeOf(request.taskToken);
  return request.releaseCode === releaseCode && request.requestKey === requestKeyOf(releaseCode)
    ? request
    : undefined;
}

function keyOf(item: Item): Item {
  return {
    [attribute.resourceId]: item[attribute.resourceId] as AttributeValue,
    [attribute.concurrencyId]: item[attribute.concurrencyId] as AttributeValue,
  };
}

async function moveRecord(store: CliStore, item: Item, request: StoredRequest): Promise<void> {
  const waitingAt =
    request.state === 'waiting' && request.queueKey !== undefined ? request.queueKey : undefined;
  try {
    await store.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: store.requestTableName,
              Item: item,
              ConditionExpression: 'attribute_not_exists(#resourceId)',
              ExpressionAttributeNames: { '#resourceId': attribute.resourceId },
            },
          },
          { Delete: { TableName: store.tableName, Key: keyOf(item) } },
          // Its entry at its old place: keys follow arrival, and every request that arrived before the
          // upgrade had its place already, so none that arrived since can hold it.
          ...(waitingAt === undefined
            ? []
            : [
                {
                  Put: {
                    TableName: store.requestTableName,
                    Item: toQueueItem({ ...request, queueKey: waitingAt }),
                  },
                },
              ]),
        ],
      }),
    );
  } catch (error) {
    const copied =
      error instanceof TransactionCanceledException &&
      error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';
    if (!copied) throw error;
    // Already in the request table (an earlier run's copy, which is newer): drop the old one.
    await store.client.send(new DeleteItemCommand({ TableName: store.tableName, Key: keyOf(item) }));
  }
}

/**
 * The human form of a migration report.
 *
 * @example
 * io.stdout.write(formatMigration(report)); // 'moved 2 requests from locks to locks_requests, dropped 2 other items (1204 scanned)'
 */
export function formatMigration(report: MigrationReport): string {
  return (
    `moved ${report.moved} requests from ${report.table} to ${report.requestTable}, ` +
    `dropped ${report.dropped} other items (${report.scannedItems} scanned)\n`
  );
}

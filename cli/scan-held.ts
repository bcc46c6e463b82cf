import { type AttributeValue, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { isHeld } from '../core/item.js';
import { attribute } from '../core/table.js';
import type { CliStore } from './connect.js';
import { printable, textTable } from './text-table.js';

/** A resource with at least one unexpired holder. */
export interface HeldResource {
  resourceId: string;
  held: number;
  /** Slot items stored for the resource, held or free: a lower bound of its concurrency. */
  slotsSeen: number;
}

/** What `dlm locks` reports; the `--json` output. */
export interface LocksReport {
  table: string;
  resources: HeldResource[];
  /** Items the Scan read: what it cost (about 1 read unit per 8 KB, eventually consistent). */
  scannedItems: number;
}

/**
 * Every resource that has an unexpired holder now, by a paginated Scan of the whole table. Its
 * cost grows with the table, not with the answer: a filter does not make a Scan cheaper. Only
 * the key and the lease end are fetched; waiting requests (negative slots) are filtered out.
 *
 * @example
 * const { resources } = await scanHeld(store);
 */
export async function scanHeld(store: CliStore): Promise<LocksReport> {
  const byResource = new Map<string, HeldResource>();
  let scannedItems = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const output: ScanCommandOutput = await store.client.send(
      new ScanCommand({
        TableName: store.tableName,
        ProjectionExpression: '#resourceId, #concurrencyId, #expires, #expiresMs',
        // Holders only: waiting requests and per-resource state live at negative ids.
        FilterExpression: '#concurrencyId >= :zero',
        ExpressionAttributeNames: {
          '#resourceId': attribute.resourceId,
          '#concurrencyId': attribute.concurrencyId,
          '#expires': attribute.expires,
          '#expiresMs': attribute.expiresMs,
        },
        ExpressionAttributeValues: { ':zero': { N: '0' } },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    scannedItems += output.ScannedCount ?? 0;
    // Judged at each page's arrival, as a holder count would be at that moment.
    const nowMs = store.clock();
    for (const item of output.Items ?? []) {
      const resourceId = item[attribute.resourceId]?.S ?? '';
      const entry = byResource.get(resourceId) ?? { resourceId, held: 0, slotsSeen: 0 };
      entry.slotsSeen += 1;
      if (isHeld(item, nowMs)) entry.held += 1;
      byResource.set(resourceId, entry);
    }
    startKey = output.LastEvaluatedKey;
  } while (startKey);
  const resources = [...byResource.values()]
    .filter((entry) => entry.held > 0)
    .sort((a, b) => (a.resourceId < b.resourceId ? -1 : a.resourceId > b.resourceId ? 1 : 0));
  return { table: store.tableName, resources, scannedItems };
}

/**
 * The human form of `dlm locks`.
 *
 * @example
 * io.stdout.write(formatLocks(await scanHeld(store)));
 */
export function formatLocks(report: LocksReport): string {
  const footer = `(scanned ${report.scannedItems} items of ${report.table})\n`;
  if (report.resources.length === 0) return `no resource is held\n${footer}`;
  const rows = report.resources.map((entry) => [
    printable(entry.resourceId),
    String(entry.held),
    String(entry.slotsSeen),
  ]);
  const count = report.resources.length;
  return `${textTable(['resource', 'held', 'slots seen'], rows)}${count} resource${count === 1 ? '' : 's'} held ${footer}`;
}

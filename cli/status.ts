import { isHeld, toHolder } from '../core/item.js';
import { readRateState } from '../core/rate.js';
import { readResourceLimit } from '../core/resource-limit.js';
import { attribute } from '../core/table.js';
import { readResource } from '../core/waiting/read-resource.js';
import { isWaiting } from '../core/waiting/request.js';
import type { WaitingStore } from '../core/waiting/waiting-store.js';
import { forcedAttribute } from './force-release.js';
import { printable, textTable, whenFromNow } from './text-table.js';

/** One unexpired holder as `dlm status` shows it. */
export interface HolderView {
  slot: number;
  owner: string | null;
  expiresAt: string;
  expiresInMs: number;
  fencingToken: number | null;
  /** When its lease began (the slot's `taken_ms`); null for a holder that wrote none (Python). */
  takenAt: string | null;
}

/** One waiting request as `dlm status` shows it: never its task token nor its release code. */
export interface WaiterView {
  position: number;
  arrivedAt: string;
  owner: string | null;
  /** ISO 8601; null when the request has no deadline of its own (the task's timeout decides). */
  waitUntil: string | null;
  concurrency: number;
  leaseSeconds: number;
}

/** The last forced release recorded on a slot (`dlm release --force`). */
export interface ForcedReleaseView {
  slot: number;
  forcedBy: string;
  forcedAt: string;
}

/** What `dlm status <resourceId>` reports; the `--json` output. */
export interface StatusReport {
  resourceId: string;
  table: string;
  now: string;
  /** The resource's recorded limit (`dlm limit`); null when none is recorded yet. */
  limit: number | null;
  /** Slots held: the permits in use (a holder of n permits shows as n rows of one owner). */
  held: number;
  /**
   * The start rate as the last rate-limited grant left it: the earliest moment (ISO 8601) of the
   * next start, and the rate it was counted with; null when no rate-limited grant used the resource.
   */
  rate: { nextStartAt: string; intervalMs: number; burst: number } | null;
  waiting: number;
  holders: HolderView[];
  waiters: WaiterView[];
  forcedReleases: ForcedReleaseView[];
}

/**
 * The holders and the waiting requests of a resource, from one consistent Query (and its limit,
 * from one read of its item, outside the slots that Query covers). Only display
 * fields are copied out of the items: the release codes and task tokens that the read returns
 * (and the request's sort key, derived from its release code) stay behind.
 *
 * @example
 * const report = await readStatus(store, 'partner-api');
 */
export async function readStatus(store: WaitingStore, resourceId: string): Promise<StatusReport> {
  return (await readStatusAndTokens(store, resourceId)).report;
}

/**
 * `readStatus`, and the fencing token of every slot item (held or free) from the same reads:
 * two consistent Queries (the slots, the requests; one more per further 1 MB page) and two
 * consistent GetItems (the limit, the rate). `dlm watch` counts grants from the tokens.
 *
 * @example
 * const { report, slotTokens } = await readStatusAndTokens(store, 'partner-api');
 */
export async function readStatusAndTokens(
  store: WaitingStore,
  resourceId: string,
): Promise<{ report: StatusReport; slotTokens: Map<number, number> }> {
  const [{ slots, requests }, limit, rate] = await Promise.all([
    readResource(store, resourceId),
    readResourceLimit(store, resourceId),
    readRateState(store, resourceId),
  ]);
  const nowMs = store.clock();
  const holders = [...slots.values()]
    .filter((item) => isHeld(item, nowMs))
    .map((item) => ({ holder: toHolder(item), takenMs: item[attribute.takenMs]?.N }))
    .sort((a, b) => a.holder.concurrencyId - b.holder.concurrencyId)
    .map(({ holder, takenMs }) => ({
      slot: holder.concurrencyId,
      owner: holder.owner ?? null,
      expiresAt: new Date(holder.expiresAtMs).toISOString(),
      expiresInMs: holder.expiresAtMs - nowMs,
      fencingToken: holder.fencingToken ?? null,
      takenAt: takenMs === undefined ? null : new Date(Number(takenMs)).toISOString(),
    }));
  // As the count step counts them.
  const waiters = requests
    .filter((request) => isWaiting(request, nowMs))
    .map((request, index) => ({
      position: index + 1,
      arrivedAt: new Date(request.arrivedMs).toISOString(),
      owner: request.owner ?? null,
      waitUntil: Number.isFinite(request.waitUntilMs) ? new Date(request.waitUntilMs).toISOString() : null,
      concurrency: request.concurrency,
      leaseSeconds: request.leaseMs / 1000,
    }));
  const forcedReleases = [...slots.entries()]
    .filter(([, item]) => item[forcedAttribute.by]?.S !== undefined)
    .sort(([a], [b]) => a - b)
    .map(([slot, item]) => ({
      slot,
      forcedBy: item[forcedAttribute.by]?.S as string,
      forcedAt: new Date(Number(item[forcedAttribute.atMs]?.N ?? 0)).toISOString(),
    }));
  const slotTokens = new Map<number, number>();
  for (const [slot, item] of slots) {
    const token = item[attribute.fencingToken]?.N;
    if (token !== undefined) slotTokens.set(slot, Number(token));
  }
  const report: StatusReport = {
    resourceId,
    table: store.tableName,
    now: new Date(nowMs).toISOString(),
    limit: limit ?? null,
    held: holders.length,
    rate:
      rate === undefined
        ? null
        : {
            nextStartAt: new Date(rate.nextStartAtMs).toISOString(),
            intervalMs: rate.intervalUs / 1000,
            burst: rate.intervalUs === 0 ? 1 : Math.round(rate.toleranceUs / rate.intervalUs) + 1,
          },
    waiting: waiters.length,
    holders,
    waiters,
    forcedReleases,
  };
  return { report, slotTokens };
}

/**
 * The human form of a status report: a summary line, the holders, the waiting requests.
 *
 * @example
 * io.stdout.write(formatStatus(await readStatus(store, 'partner-api')));
 */
export function formatStatus(report: StatusReport): string {
  const nowMs = Date.parse(report.now);
  const summary =
    `${printable(report.resourceId)} in ${report.table}: ${report.held} held, ${report.waiting} waiting\n` +
    `limit: ${report.limit ?? 'none recorded (the first take records its concurrency)'}\n` +
    (report.rate === null
      ? ''
      : `rate: one start per ${report.rate.intervalMs} ms, burst ${report.rate.burst}; next start ${
          Date.parse(report.rate.nextStartAt) <= nowMs
            ? 'now'
            : whenFromNow(Date.parse(report.rate.nextStartAt), nowMs)
        }\n`);
  const holders =
    report.holders.length === 0
      ? 'no holders\n'
      : textTable(
          ['slot', 'owner', 'expires', 'fencing token'],
          report.holders.map((holder) => [
            String(holder.slot),
            printable(holder.owner ?? undefined),
            whenFromNow(Date.parse(holder.expiresAt), nowMs),
            holder.fencingToken === null ? '-' : String(holder.fencingToken),
          ]),
        );
  const waiters =
    report.waiters.length === 0
      ? 'no waiting requests\n'
      : `waiting, oldest first (granted in this order):\n${textTable(
          ['#', 'arrived', 'owner', 'deadline'],
          report.waiters.map((waiter) => [
            String(waiter.position),
            whenFromNow(Date.parse(waiter.arrivedAt), nowMs),
            printable(waiter.owner ?? undefined),
            waiter.waitUntil === null
              ? "none (the task's timeout)"
              : whenFromNow(Date.parse(waiter.waitUntil), nowMs),
          ]),
        )}`;
  // Until a new holder's item replaces it, a slot keeps the record of its last forced release.
  const forced = report.forcedReleases
    .map(
      (record) =>
        `slot ${record.slot}: last forced free by ${printable(record.forcedBy)} ${whenFromNow(Date.parse(record.forcedAt), nowMs)}\n`,
    )
    .join('');
  return `${summary}\n${holders}\n${waiters}${forced ? `\n${forced}` : ''}`;
}

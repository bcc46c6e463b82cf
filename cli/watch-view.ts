import type { StatusReport } from './status.js';
import { printable, textTable } from './text-table.js';

/** One holder as `dlm watch` shows it. */
export interface WatchedHolder {
  slot: number;
  owner: string | null;
  /**
   * Since its lease began (the slot's `taken_ms`). A holder that wrote none (Python): since
   * this watch first saw it (same slot and fencing token), a lower bound for a holder already
   * there at the first refresh.
   */
  heldForMs: number;
  /** True when `heldForMs` is a lower bound: no `taken_ms`, and there at the watch's first refresh. */
  heldBeforeWatch: boolean;
  fencingToken: number | null;
  expiresAt: string;
}

/** One waiting request as `dlm watch` shows it, oldest first. */
export interface WatchedWaiter {
  position: number;
  owner: string | null;
  arrivedAt: string;
  waitedForMs: number;
  waitUntil: string | null;
}

/** One refresh of `dlm watch`; with `--json`, one line of it. */
export interface WatchRefresh {
  resourceId: string;
  table: string;
  now: string;
  refresh: number;
  limit: number | null;
  held: number;
  waiting: number;
  holders: WatchedHolder[];
  waiters: WatchedWaiter[];
  /** Grants counted from the slots' fencing tokens since the last refresh; null on the first. */
  grantsSinceLastRefresh: number | null;
  /** Those grants per minute over the last minute of refreshes; null on the first refresh. */
  grantsPerMinute: number | null;
  rateWindowSeconds: number;
  /** DynamoDB requests this refresh made (4 unless a Query needed a further 1 MB page). */
  reads: number;
}

/** Remembers when this watch first saw each holder, to say how long it has held. */
export class HolderClock {
  private firstSeen = new Map<string, { atMs: number; beforeWatch: boolean }>();
  private refreshes = 0;

  /** The report's holders with how long they held; forgets the holders that are gone. */
  holders(report: StatusReport, nowMs: number): WatchedHolder[] {
    const first = this.refreshes++ === 0;
    const seen = new Map<string, { atMs: number; beforeWatch: boolean }>();
    const holders = report.holders.map((holder) => {
      // A new holder of a slot has a new token; Python's items have none, their owner tells them apart.
      const key = `${holder.slot}:${holder.fencingToken ?? `owner:${holder.owner}`}`;
      const since =
        holder.takenAt === null
          ? (this.firstSeen.get(key) ?? { atMs: nowMs, beforeWatch: first })
          : { atMs: Date.parse(holder.takenAt), beforeWatch: false };
      seen.set(key, since);
      return {
        slot: holder.slot,
        owner: holder.owner,
        heldForMs: nowMs - since.atMs,
        heldBeforeWatch: since.beforeWatch,
        fencingToken: holder.fencingToken,
        expiresAt: holder.expiresAt,
      };
    });
    this.firstSeen = seen;
    return holders;
  }
}

/** The waiters of a report with how long each has waited, oldest first (the grant order). */
export function watchedWaiters(report: StatusReport, nowMs: number): WatchedWaiter[] {
  return report.waiters.map((waiter) => ({
    position: waiter.position,
    owner: waiter.owner,
    arrivedAt: waiter.arrivedAt,
    waitedForMs: Math.max(0, nowMs - Date.parse(waiter.arrivedAt)),
    waitUntil: waiter.waitUntil,
  }));
}

const seconds = (ms: number) => `${Math.floor(ms / 1000)}s`;

/**
 * The screen of one refresh.
 *
 * @example
 * io.stdout.write(formatWatch(refresh, 1000));
 */
export function formatWatch(refresh: WatchRefresh, intervalMs: number): string {
  const head =
    `dlm watch ${printable(refresh.resourceId)} in ${refresh.table}: refresh ${refresh.refresh}, every ${intervalMs / 1000} s, ${refresh.reads} reads (Ctrl-C to stop)\n` +
    `${refresh.now}: ${refresh.held} held, ${refresh.waiting} waiting; limit ${refresh.limit ?? 'none recorded'}\n` +
    (refresh.grantsPerMinute === null
      ? 'grants/min: - (counted from the next refresh on)\n'
      : `grants/min: ${refresh.grantsPerMinute} over the last ${refresh.rateWindowSeconds} s (from the slots' fencing tokens)\n`);
  const holders =
    refresh.holders.length === 0
      ? 'no holders\n'
      : textTable(
          ['slot', 'owner', 'held for', 'fencing token'],
          refresh.holders.map((holder) => [
            String(holder.slot),
            printable(holder.owner ?? undefined),
            `${holder.heldBeforeWatch ? '≥' : ''}${seconds(holder.heldForMs)}`,
            holder.fencingToken === null ? '-' : String(holder.fencingToken),
          ]),
        );
  const waiters =
    refresh.waiters.length === 0
      ? 'no waiting requests\n'
      : `waiting, oldest first (granted in this order):\n${textTable(
          ['#', 'waited for', 'owner'],
          refresh.waiters.map((waiter) => [
            String(waiter.position),
            seconds(waiter.waitedForMs),
            printable(waiter.owner ?? undefined),
          ]),
        )}`;
  const footnote = refresh.holders.some((holder) => holder.heldBeforeWatch)
    ? '≥: held before this watch began (the table keeps no grant time)\n'
    : '';
  return `${head}\n${holders}\n${waiters}${footnote ? `\n${footnote}` : ''}`;
}

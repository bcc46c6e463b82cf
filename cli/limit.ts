import { readResourceLimit, setResourceLimit } from '../core/resource-limit.js';
import type { LockStore } from '../core/store.js';
import { limitCacheMs } from '../core/throttle/verified-limits.js';
import { printable } from './text-table.js';

/** What `dlm limit <resourceId> [K]` reports; the `--json` output. */
export type LimitReport =
  /** The limit recorded now; null when none is (the first take will record its own). */
  | { resourceId: string; limit: number | null }
  /** A limit set on purpose: the one it replaced (null: none), the new one, and by whom. */
  | { resourceId: string; previous: number | null; limit: number; setBy: string };

/**
 * The resource's recorded limit (one read).
 *
 * @example
 * await showLimit(store, 'partner-api'); // { resourceId: 'partner-api', limit: 3 }
 */
export async function showLimit(store: LockStore, resourceId: string): Promise<LimitReport> {
  return { resourceId, limit: (await readResourceLimit(store, resourceId)) ?? null };
}

/**
 * Sets the resource's limit on purpose (one write), recording who did it.
 *
 * @example
 * await changeLimit(store, 'partner-api', 5, 'alice@ops-laptop'); // { previous: 3, limit: 5, ... }
 */
export async function changeLimit(
  store: LockStore,
  resourceId: string,
  limit: number,
  setBy: string,
): Promise<LimitReport> {
  const previous = await setResourceLimit(store, resourceId, limit, setBy);
  return { resourceId, previous: previous ?? null, limit, setBy };
}

/**
 * The human form of a limit report. A change says what it does not do: holders above a lowered
 * limit keep their slots, and running SQS throttles see it within their cache period.
 *
 * @example
 * io.stdout.write(formatLimit(report)); // 'partner-api: limit 3 -> 5 (set by alice@ops-laptop)'
 */
export function formatLimit(report: LimitReport): string {
  const resource = printable(report.resourceId);
  if (!('setBy' in report)) {
    return report.limit === null
      ? `${resource}: no limit recorded (the first take of the resource records its concurrency)\n`
      : `${resource}: limit ${report.limit}\n`;
  }
  const previous = report.previous === null ? 'none' : String(report.previous);
  return (
    `${resource}: limit ${previous} -> ${report.limit} (set by ${printable(report.setBy)})\n` +
    `Callers must now ask for concurrency ${report.limit}; others are refused. Holders above a lowered\n` +
    `limit keep their slots until they release them. Running SQS throttles see the change within ${limitCacheMs / 1000} s.\n`
  );
}

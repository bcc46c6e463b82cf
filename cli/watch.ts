import { setTimeout as sleep } from 'node:timers/promises';
import { countRequests } from '../local/count-requests.js';
import type { CliStore } from './connect.js';
import { readStatusAndTokens } from './status.js';
import { GrantRate } from './watch-rate.js';
import { formatWatch, HolderClock, type WatchRefresh, watchedWaiters } from './watch-view.js';

/** Where `dlm watch` writes; `isTTY` chooses the live screen over one block per refresh. */
export interface WatchIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
}

// The alternate screen keeps the operator's scrollback as it was; the cursor hides while drawing.
const enterScreen = '\u001b[?1049h\u001b[?25l';
const leaveScreen = '\u001b[?25h\u001b[?1049l';
const clearScreen = '\u001b[H\u001b[2J';

/**
 * Shows a resource live until `signal` aborts (Ctrl-C): each refresh makes the reads of
 * `dlm status` (4 requests: two consistent Queries, two consistent GetItems; a Query past 1 MB
 * takes one more page) and nothing else. On a terminal it redraws one screen and restores the
 * terminal at the end, also when a read fails.
 *
 * @example
 * await watchResource(store, 'partner-api', { intervalMs: 1000, json: false, io: process, signal });
 */
export async function watchResource(
  store: CliStore,
  resourceId: string,
  { intervalMs, json, io, signal }: { intervalMs: number; json: boolean; io: WatchIo; signal: AbortSignal },
): Promise<void> {
  const requests = countRequests(store.client);
  const rate = new GrantRate();
  const holderClock = new HolderClock();
  const live = !json && io.stdout.isTTY === true;
  if (live) io.stdout.write(enterScreen);
  try {
    for (let refresh = 1; !signal.aborted; refresh++) {
      const startedMs = store.clock();
      const readsBefore = requests.total();
      const { report, slotTokens } = await readStatusAndTokens(store, resourceId);
      if (signal.aborted) break;
      const nowMs = Date.parse(report.now);
      const { grantsSinceLastRefresh, grantsPerMinute, windowMs } = rate.record(slotTokens, nowMs);
      const view: WatchRefresh = {
        resourceId,
        table: report.table,
        now: report.now,
        refresh,
        limit: report.limit,
        held: report.held,
        waiting: report.waiting,
        holders: holderClock.holders(report, nowMs),
        waiters: watchedWaiters(report, nowMs),
        grantsSinceLastRefresh,
        grantsPerMinute,
        rateWindowSeconds: Math.round(windowMs / 1000),
        reads: requests.total() - readsBefore,
      };
      if (json) io.stdout.write(`${JSON.stringify(view)}\n`);
      else io.stdout.write(`${live ? clearScreen : refresh > 1 ? '\n' : ''}${formatWatch(view, intervalMs)}`);
      // Refreshes start an interval apart; a slow read does not make them pile up.
      const restMs = Math.max(0, startedMs + intervalMs - store.clock());
      await sleep(restMs, undefined, { signal }).catch(() => {});
    }
  } finally {
    if (live) io.stdout.write(`${leaveScreen}\n`);
  }
}

/**
 * A signal that aborts on the first SIGINT (Ctrl-C) while the watch runs, and its removal:
 * the other commands keep Node's default, which ends the process at once.
 *
 * @example
 * const interrupt = onInterrupt();
 * try { await watchResource(store, id, { ...options, signal: interrupt.signal }); } finally { interrupt.dispose(); }
 */
export function onInterrupt(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once('SIGINT', abort);
  return { signal: controller.signal, dispose: () => process.removeListener('SIGINT', abort) };
}

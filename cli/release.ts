import { countResource } from '../core/waiting/count-resource.js';
import type { CliStore } from './connect.js';
import { type ForceReleaseOutcome, forceReleaseSlot } from './force-release.js';
import { printable } from './text-table.js';

/** What `dlm release <resourceId> --slot N --force` reports; the `--json` output. */
export interface ReleaseReport {
  resourceId: string;
  slot: number;
  released: boolean;
  /** Why nothing was released: no item at that slot, or its lease had ended or been released. */
  reason?: 'absent' | 'free';
  /** The holder the override removed (or the last one, when not held). */
  previous?: { owner: string | null; expiresAt: string; fencingToken: number | null };
  /** Requests still waiting for the resource; the retry loop grants them, not this command. */
  waiting: number;
  /** Who the release is recorded as forced by, on the slot's item (only when released). */
  forcedBy?: string;
}

/**
 * Frees the slot and counts who waits for it. The freed slot is not handed to the oldest waiter
 * here: answering a workflow needs Step Functions, which the CLI does not talk to. The waiter's
 * retry loop finds the slot free on its next turn (within the back-off cap, 60 s by default).
 *
 * @example
 * const report = await releaseBySlot(store, 'partner-api', 0, 'alice@ops-laptop');
 */
export async function releaseBySlot(
  store: CliStore,
  resourceId: string,
  slot: number,
  forcedBy: string,
): Promise<ReleaseReport> {
  const outcome: ForceReleaseOutcome = await forceReleaseSlot(store, resourceId, slot, forcedBy);
  const { waiting } = await countResource(store, resourceId);
  const previous = outcome.previous && {
    owner: outcome.previous.owner ?? null,
    expiresAt: new Date(outcome.previous.expiresAtMs).toISOString(),
    fencingToken: outcome.previous.fencingToken ?? null,
  };
  return {
    resourceId,
    slot,
    released: outcome.kind === 'released',
    ...(outcome.kind === 'not-held' ? { reason: outcome.reason } : {}),
    ...(previous ? { previous } : {}),
    waiting,
    ...(outcome.kind === 'released' ? { forcedBy } : {}),
  };
}

/**
 * The human form of a release report.
 *
 * @example
 * io.stdout.write(formatRelease(report)); // 'released slot 0 of partner-api (held by host:42 …)'
 */
export function formatRelease(report: ReleaseReport): string {
  const target = `slot ${report.slot} of ${printable(report.resourceId)}`;
  if (!report.released) {
    const why = report.reason === 'absent' ? 'it was never taken or its item is gone' : 'its lease had ended';
    return `not held: ${target} is free already (${why}); nothing changed\n`;
  }
  const holder = report.previous;
  const by = holder
    ? ` (held by ${printable(holder.owner ?? undefined)} until ${holder.expiresAt}, fencing token ${holder.fencingToken ?? '-'})`
    : '';
  const after =
    report.waiting === 0
      ? 'No request is waiting.'
      : `${report.waiting} waiting request${report.waiting === 1 ? '' : 's'}: the oldest gets the slot through its retry loop (within about 60 s), not at once.`;
  const recorded = `Recorded on the slot as forced by ${printable(report.forcedBy)}.`;
  return `released ${target}${by}\nThe former holder is not told; its next extend fails with Lock.Lost.\n${recorded}\n${after}\n`;
}

import { fencingFloorPerMs } from '../core/operations/slot-conditions.js';

/*
 * Grants per minute as `dlm watch` sees them in the table, without any extra read: a slot's
 * fencing token changes with each new holder, and a release keeps the item (its lease ended), so
 * two refreshes' tokens show grants that came and went between them. How many: a workflow's
 * grant transaction writes the last token + 1, so its steps count exactly; a library take offers
 * a token from its clock (`now_ms * 1000`), so its step says "at least one". The figure is a
 * lower bound, exact for the workflow service's grants.
 */

/** A token step larger than this is a restart from the clock floor (the item was deleted), not grants. */
const largestCountedStep = fencingFloorPerMs;

/**
 * Grants between two reads of a resource's slot tokens (slot -> fencing token). A token step of
 * up to 1000 counts that many grants (+1 per grant); a larger step (a take offered from the
 * clock, or a restart after the item was deleted by TTL or Python's release), a lower token, or a
 * slot item that is new, counts one: a lower bound. Items without a
 * fencing token (written by Python) are not counted.
 *
 * @example
 * grantsBetween(new Map([[0, 5]]), new Map([[0, 8]])); // 3
 */
export function grantsBetween(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
): number {
  let grants = 0;
  for (const [slot, token] of after) {
    const previous = before.get(slot);
    if (previous === undefined) grants += 1;
    else if (token !== previous) {
      const step = token - previous;
      grants += step > 0 && step <= largestCountedStep ? step : 1;
    }
  }
  return grants;
}

/** The window grants per minute are averaged over. */
export const rateWindowMs = 60_000;

/**
 * Grants per minute over the last minute of refreshes (or since the first refresh, when the
 * watch is younger): the grants counted between refreshes, divided by the time they span.
 *
 * @example
 * const rate = new GrantRate();
 * rate.record(tokens, Date.now()); // { grantsSinceLastRefresh, grantsPerMinute, windowMs }
 */
export class GrantRate {
  private previousTokens: ReadonlyMap<number, number> | undefined;
  private windowStartMs = 0;
  private samples: Array<{ atMs: number; grants: number }> = [];

  /** Adds one refresh's tokens; null figures on the first refresh, which only sets the baseline. */
  record(
    tokens: ReadonlyMap<number, number>,
    nowMs: number,
  ): { grantsSinceLastRefresh: number | null; grantsPerMinute: number | null; windowMs: number } {
    const previous = this.previousTokens;
    this.previousTokens = tokens;
    if (previous === undefined) {
      this.windowStartMs = nowMs;
      return { grantsSinceLastRefresh: null, grantsPerMinute: null, windowMs: 0 };
    }
    const grants = grantsBetween(previous, tokens);
    this.samples.push({ atMs: nowMs, grants });
    // A dropped sample's time is where the window now starts: its grants came before it.
    while ((this.samples[0]?.atMs ?? nowMs) < nowMs - rateWindowMs) {
      this.windowStartMs = this.samples.shift()?.atMs ?? this.windowStartMs;
    }
    const windowMs = nowMs - this.windowStartMs;
    const total = this.samples.reduce((sum, sample) => sum + sample.grants, 0);
    const grantsPerMinute = windowMs > 0 ? Math.round((total / windowMs) * 60_000 * 10) / 10 : 0;
    return { grantsSinceLastRefresh: grants, grantsPerMinute, windowMs };
  }
}

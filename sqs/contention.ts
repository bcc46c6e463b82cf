/**
 * Keys this process recently found full (its take refused), for a while: only their holders
 * look for parked records, so an uncontended key costs no query. A key whose every throttled
 * record is seen by other containers only is missed: its parked records wait for their timers.
 *
 * @example
 * recentContention.saw('partner-api');
 * recentContention.recent('partner-api'); // true for the next minute
 */
class RecentContention {
  readonly #seenAtMs = new Map<string, number>();
  readonly #forMs = 60_000;
  readonly #max = 10_000;

  saw(key: string, nowMs = Date.now()): void {
    this.#seenAtMs.delete(key);
    this.#seenAtMs.set(key, nowMs);
    if (this.#seenAtMs.size > this.#max) this.#seenAtMs.delete(this.#seenAtMs.keys().next().value as string);
  }

  recent(key: string, nowMs = Date.now()): boolean {
    const seen = this.#seenAtMs.get(key);
    return seen !== undefined && nowMs - seen < this.#forMs;
  }
}

/** One per process: a warm container remembers the keys it found full. */
export const recentContention = new RecentContention();

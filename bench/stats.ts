/**
 * The value at quantile q (0..1) of a list of numbers; NaN for an empty list.
 *
 * @example
 * quantile([5, 1, 3], 0.5); // 3
 */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/**
 * The most intervals that overlap at any instant. An interval ending where another starts does
 * not overlap it (ends sort before starts): a slot handed over is not held twice.
 *
 * @example
 * maxOverlap([{ startMs: 0, endMs: 10 }, { startMs: 5, endMs: 15 }]); // 2
 */
export function maxOverlap(intervals: Array<{ startMs: number; endMs: number }>): number {
  const events = intervals.flatMap(({ startMs, endMs }) => [
    { at: startMs, delta: 1 },
    { at: endMs, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let most = 0;
  for (const event of events) {
    current += event.delta;
    most = Math.max(most, current);
  }
  return most;
}

/**
 * Milliseconds during which more than `limit` intervals overlap (touching ends do not overlap).
 *
 * @example
 * timeAbove([{ startMs: 0, endMs: 10 }, { startMs: 5, endMs: 15 }], 1); // 5
 */
export function timeAbove(intervals: Array<{ startMs: number; endMs: number }>, limit: number): number {
  const events = intervals.flatMap(({ startMs, endMs }) => [
    { at: startMs, delta: 1 },
    { at: endMs, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let above = 0;
  let since = 0;
  for (const event of events) {
    if (current > limit) above += event.at - since;
    current += event.delta;
    since = event.at;
  }
  return above;
}

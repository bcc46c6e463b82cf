/**
 * What a run of rate-limited grants shows, from their start times (epoch ms): the start rate
 * after the first burst ((n - burst) starts over the span from the first to the last), and the
 * most starts in any window of one period.
 *
 * @example
 * startRateFigures([0, 0, 200, 400], { burst: 2, periodSeconds: 1 }); // { perSecond: 5, busiestPeriod: 4, spanMs: 400 }
 */
export function startRateFigures(
  starts: number[],
  rate: { burst: number; periodSeconds: number },
): { perSecond: number; busiestPeriod: number; spanMs: number } {
  const sorted = [...starts].sort((a, b) => a - b);
  const periodMs = rate.periodSeconds * 1000;
  let busiestPeriod = 0;
  for (const [index, start] of sorted.entries()) {
    const within = sorted.slice(index).filter((other) => other < start + periodMs).length;
    busiestPeriod = Math.max(busiestPeriod, within);
  }
  const spanMs = (sorted.at(-1) ?? 0) - (sorted[0] ?? 0);
  return { perSecond: ((sorted.length - rate.burst) * 1000) / spanMs, busiestPeriod, spanMs };
}

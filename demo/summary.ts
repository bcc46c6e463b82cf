import { maxOverlap, quantile } from '../bench/stats.js';
import type { MetricsSummary } from './metrics-summary.js';
import type { ExecutionRecord } from './record.js';

/** The demo's findings; `ok` is false when an invariant broke. */
export interface DemoSummary {
  executions: number;
  concurrency: number;
  succeeded: number;
  /** Executions whose work step ran, so that were granted a slot. */
  granted: number;
  failedOnPurpose: number;
  unexpected: number;
  /** How the first unexpected failures failed. */
  unexpectedFailures: string[];
  mostHoldersAtOnce: number;
  waitMs: { p50: number; p95: number };
  releaseToGrantMs: { p50: number; p95: number; samples: number };
  slotsLeaked: number;
  waitersLeft: number;
  totalMs: number;
  timeline?: string;
  /** The same run as the functions' metric lines tell it (what the CloudWatch dashboard shows). */
  metrics?: MetricsSummary;
  ok: boolean;
}

/**
 * Reduces the records to the summary: the most holders at once (from the work intervals, which
 * only run while a slot is held), waits, release-to-grant latency on each slot, and leaks.
 */
export function summarize(
  records: ExecutionRecord[],
  concurrency: number,
  left: { held: number; waiting: number },
  totalMs: number,
): DemoSummary {
  const succeeded = records.filter((record) => record.status === 'SUCCEEDED').length;
  const failedOnPurpose = records.filter(
    (record) => record.failOnPurpose && record.status === 'FAILED',
  ).length;
  const mostHoldersAtOnce = maxOverlap(records.flatMap((record) => (record.work ? [record.work] : [])));
  const waits = records.flatMap((record) => (record.grant ? [record.grant.waitedMs] : []));
  const handoffs = releaseToGrant(records);
  const summary: DemoSummary = {
    executions: records.length,
    concurrency,
    succeeded,
    granted: records.filter((record) => record.grant).length,
    failedOnPurpose,
    unexpected: records.length - succeeded - failedOnPurpose,
    unexpectedFailures: records
      .filter((record) => record.status !== 'SUCCEEDED' && !record.failOnPurpose)
      .slice(0, 3)
      .map((record) => `#${record.index + 1} ${record.status}: ${record.failure ?? 'no cause given'}`),
    mostHoldersAtOnce,
    waitMs: { p50: quantileMs(waits, 0.5), p95: quantileMs(waits, 0.95) },
    releaseToGrantMs: {
      p50: quantile(handoffs, 0.5),
      p95: quantile(handoffs, 0.95),
      samples: handoffs.length,
    },
    slotsLeaked: left.held,
    waitersLeft: left.waiting,
    totalMs: Math.round(totalMs),
    ok: false,
  };
  summary.ok =
    mostHoldersAtOnce <= concurrency && left.held === 0 && left.waiting === 0 && summary.unexpected === 0;
  return summary;
}

/** On each slot, from the end of one holder's work to the grant of a next holder who was already waiting. */
function releaseToGrant(records: ExecutionRecord[]): number[] {
  const bySlot = new Map<number, ExecutionRecord[]>();
  for (const record of records) {
    if (record.grant && record.work)
      bySlot.set(record.grant.slot, [...(bySlot.get(record.grant.slot) ?? []), record]);
  }
  const gaps: number[] = [];
  for (const lane of bySlot.values()) {
    lane.sort((a, b) => (a.grant?.atMs ?? 0) - (b.grant?.atMs ?? 0));
    for (let index = 1; index < lane.length; index++) {
      const previous = lane[index - 1] as ExecutionRecord;
      const next = lane[index] as ExecutionRecord;
      const nextArrived = (next.grant?.atMs ?? 0) - (next.grant?.waitedMs ?? 0);
      if (nextArrived < (previous.work?.endMs ?? 0))
        gaps.push((next.grant?.atMs ?? 0) - (previous.work?.endMs ?? 0));
    }
  }
  return gaps;
}

/** A quantile in whole milliseconds; 0 when there is nothing to measure. */
function quantileMs(values: number[], q: number): number {
  return values.length === 0 ? 0 : Math.round(quantile(values, q));
}

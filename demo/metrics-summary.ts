import { quantile } from '../bench/stats.js';
import { metricName } from '../functions/lib/metrics.js';
import type { MetricPoint } from '../local/lambda/index.js';

/** What a dashboard of the run's metrics would show (sums and percentiles over the whole run). */
export interface MetricsSummary {
  grants: number;
  waitMs: { p50: number; p99: number };
  handOverMs: { p50: number; p99: number; samples: number };
  /** From each grant to its release. */
  holdMs: { p50: number; p99: number; samples: number };
  timeouts: number;
  slotsFreedByCleanup: number;
  requestsStranded: number;
  answersFailed: number;
  /** EMF lines read. */
  lines: number;
}

/**
 * Reduces the functions' metric values (parsed from their EMF lines) to the figures the
 * CloudWatch dashboard shows, so the demo shows what an operator will see.
 *
 * @example
 * summarizeMetrics(aws.lambda.metricLines.points(), aws.lambda.metricLines.lines().length);
 */
export function summarizeMetrics(points: MetricPoint[], lines: number): MetricsSummary {
  const values = (name: string) => points.filter((point) => point.name === name).map((point) => point.value);
  const sum = (name: string) => values(name).reduce((total, value) => total + value, 0);
  const at = (name: string, q: number) => {
    const all = values(name);
    return all.length === 0 ? 0 : Math.round(quantile(all, q));
  };
  return {
    grants: sum(metricName.grants),
    waitMs: { p50: at(metricName.waitTime, 0.5), p99: at(metricName.waitTime, 0.99) },
    handOverMs: {
      p50: at(metricName.handOverTime, 0.5),
      p99: at(metricName.handOverTime, 0.99),
      samples: values(metricName.handOverTime).length,
    },
    holdMs: {
      p50: at(metricName.holdTime, 0.5),
      p99: at(metricName.holdTime, 0.99),
      samples: values(metricName.holdTime).length,
    },
    timeouts: sum(metricName.timeouts),
    slotsFreedByCleanup: sum(metricName.slotsFreedByCleanup),
    requestsStranded: sum(metricName.requestsStranded),
    answersFailed: sum(metricName.answersFailed),
    lines,
  };
}

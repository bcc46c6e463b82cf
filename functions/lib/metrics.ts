import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type MetricName, metricsNamespace } from './metric-names.js';

export { type MetricName, metricName, metricsNamespace } from './metric-names.js';

/** Where EMF lines go: stdout (CloudWatch Logs extracts them) unless a sink is set. */
type Sink = (line: string) => void;
let sink: Sink | undefined;

/**
 * Sends the EMF lines to `sink` instead of stdout (the local Lambda runtime collects them), or
 * back to stdout with `undefined`.
 *
 * @example
 * useMetricsSink((line) => lines.push(line));
 */
export function useMetricsSink(next: Sink | undefined): void {
  sink = next;
}

/**
 * Which resources get a `resourceId` dimension, from `DLM_METRICS_RESOURCES` (comma-separated
 * ids, or `*` for all). Off by default: each resource so named adds one custom metric per metric
 * name (see the README's cardinality budget).
 */
function perResource(resourceId: string | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env.DLM_METRICS_RESOURCES?.trim();
  if (!raw || resourceId === undefined) return false;
  return raw === '*' || raw.split(',').some((id) => id.trim() === resourceId);
}

/**
 * Emits one metric value as its own EMF line. A Powertools `Metrics` per emission, not one per
 * container: the local runtime runs many invocations in one process, and a shared instance
 * would give one invocation's values another's `resourceId` dimension.
 *
 * @example
 * emitMetric(metricName.grants, 1, { resourceId: 'partner-api' });
 */
export function emitMetric(
  name: MetricName,
  value: number,
  {
    resourceId,
    unit = MetricUnit.Count,
  }: { resourceId?: string; unit?: (typeof MetricUnit)[keyof typeof MetricUnit] } = {},
): void {
  if (!Number.isFinite(value) || value < 0) return;
  // A metric never stops the work it measures: emitted between a grant's answer and its record,
  // a throw would leave the record for a retry to settle.
  try {
    // The `service` dimension: the deployment's name prefix (the stack sets it), so stages stay apart.
    const serviceName = process.env.DLM_METRICS_SERVICE || metricsNamespace;
    const metrics = new Metrics({ namespace: metricsNamespace, serviceName });
    if (resourceId !== undefined && perResource(resourceId)) metrics.addDimension('resourceId', resourceId);
    metrics.addMetric(name, unit, value);
    if (!sink) {
      metrics.publishStoredMetrics();
      return;
    }
    sink(JSON.stringify(metrics.serializeMetrics()));
    metrics.clearMetrics();
  } catch (error) {
    console.warn(`dynamo-dlm: metric ${name} not emitted: ${error instanceof Error ? error.message : error}`);
  }
}

/** A duration in milliseconds. */
export function emitMilliseconds(name: MetricName, ms: number, resourceId?: string): void {
  emitMetric(name, Math.round(ms), {
    unit: MetricUnit.Milliseconds,
    ...(resourceId === undefined ? {} : { resourceId }),
  });
}

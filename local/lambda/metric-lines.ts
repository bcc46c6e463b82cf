/** One metric value read back from an EMF line (CloudWatch embedded metric format). */
export interface MetricPoint {
  namespace: string;
  name: string;
  unit: string;
  value: number;
  /** The line's dimensions (`service`, and `resourceId` where opted in). */
  dimensions: Record<string, string>;
  timestampMs: number;
}

/**
 * The EMF lines the local functions wrote, as CloudWatch Logs would receive them from a deployed
 * Lambda's stdout, and the metric values CloudWatch would extract from them.
 *
 * @example
 * const lines = new MetricLines();
 * lines.add(emfLine);
 * lines.points().filter((point) => point.name === 'Grants').length;
 */
export class MetricLines {
  readonly #lines: string[] = [];

  add(line: string): void {
    this.#lines.push(line);
  }

  /** The raw lines, oldest first. */
  lines(): readonly string[] {
    return this.#lines;
  }

  /** Every metric value of every line, as CloudWatch's extraction reads them. */
  points(): MetricPoint[] {
    return this.#lines.flatMap(parseEmfLine);
  }

  clear(): void {
    this.#lines.length = 0;
  }
}

/**
 * The metric values of one EMF line: each metric named in `_aws.CloudWatchMetrics`, its value
 * (or each of its values) at the top level, with the dimensions its directive lists.
 *
 * @example
 * parseEmfLine('{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"dynamo-dlm","Dimensions":[["service"]],"Metrics":[{"Name":"Grants","Unit":"Count"}]}]},"service":"dynamo-dlm","Grants":1}');
 */
export function parseEmfLine(line: string): MetricPoint[] {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return [];
  }
  const aws = parsed._aws as
    | {
        Timestamp?: number;
        CloudWatchMetrics?: Array<{
          Namespace: string;
          Dimensions?: string[][];
          Metrics: Array<{ Name: string; Unit?: string }>;
        }>;
      }
    | undefined;
  if (!aws?.CloudWatchMetrics) return [];
  return aws.CloudWatchMetrics.flatMap((directive) => {
    const dimensions: Record<string, string> = {};
    for (const name of directive.Dimensions?.flat() ?? []) dimensions[name] = String(parsed[name]);
    return directive.Metrics.flatMap((metric) => {
      const raw = parsed[metric.Name];
      const values = Array.isArray(raw) ? raw : [raw];
      return values
        .filter((value): value is number => typeof value === 'number')
        .map((value) => ({
          namespace: directive.Namespace,
          name: metric.Name,
          unit: metric.Unit ?? 'None',
          value,
          dimensions,
          timestampMs: aws.Timestamp ?? 0,
        }));
    });
  });
}

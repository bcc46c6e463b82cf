import { metricName, metricsNamespace } from '../functions/lib/metric-names.js';

/** What the component deploys to watch the locks. Every part is optional. */
export interface ObservabilityOptions {
  /** A CloudWatch dashboard of the functions' metrics. Default true ($3 a month past an account's 3 free dashboards). */
  dashboard?: boolean;
  /**
   * Alarm (`<prefix>-retry-dead-letters`) when the retry queue's dead-letter queue is not empty:
   * retry messages that failed 5 times. Default true. The component creates it (`deadLetterAlarm`).
   */
  deadLetterAlarm?: boolean;
  /** Alarm when the sweeper finds requests stranded past their next step. Default true. */
  strandedAlarm?: boolean;
  /** Alarm when the p99 wait for a slot over 5 minutes passes this many milliseconds. Default: no alarm. */
  waitP99AlarmMs?: number;
  /**
   * Resources whose metrics also carry a `resourceId` dimension (`DLM_METRICS_RESOURCES`), or
   * `'*'` for all. Default none: each one adds a custom metric per metric name (README, "Metrics").
   */
  perResource?: string[] | '*';
}

/** The component's resources the dashboard and alarms read. */
export interface ObservedResources {
  /** The component's name prefix: the metrics' `service` dimension, and the alarms' names. */
  prefix: string;
  deadLetterQueue: aws.sqs.Queue;
}

/** What `observe` created: each absent when its option turned it off. */
export interface Observability {
  dashboard?: aws.cloudwatch.Dashboard;
  strandedAlarm?: aws.cloudwatch.MetricAlarm;
  waitP99Alarm?: aws.cloudwatch.MetricAlarm;
}

/**
 * The functions' environment for their metrics: the `service` dimension and the opted-in
 * resources.
 *
 * @example
 * metricsEnvironment('app-prod', { perResource: ['partner-api'] }); // { DLM_METRICS_SERVICE: 'app-prod', DLM_METRICS_RESOURCES: 'partner-api' }
 */
export function metricsEnvironment(
  prefix: string,
  options: ObservabilityOptions = {},
): Record<string, string> {
  const { perResource } = options;
  if (Array.isArray(perResource) && perResource.some((id) => id.length === 0 || id.includes(',')))
    throw new TypeError('Expected `observability.perResource` to be resource ids without commas, or "*"');
  const resources = perResource === '*' ? '*' : (perResource ?? []).join(',');
  return { DLM_METRICS_SERVICE: prefix, ...(resources ? { DLM_METRICS_RESOURCES: resources } : {}) };
}

/**
 * The dashboard and the alarms of one `DynamoDlm`, as its children. The alarms notify
 * `alarmActions`, the component's alarm topic.
 *
 * @example
 * this.observability = observe(name, { prefix, deadLetterQueue }, args, this); // args: the component's
 */
export function observe(
  logicalName: string,
  resources: ObservedResources,
  component: { observability?: ObservabilityOptions; alarmActions?: $util.Input<string>[] } = {},
  parent?: $util.Resource,
): Observability {
  const options = component.observability ?? {};
  const { waitP99AlarmMs } = options;
  if (waitP99AlarmMs !== undefined && !(Number.isFinite(waitP99AlarmMs) && waitP99AlarmMs > 0))
    throw new TypeError(
      `Expected \`observability.waitP99AlarmMs\` to be a positive number of milliseconds, got ${waitP99AlarmMs}`,
    );
  const opts = parent ? { parent } : {};
  const dimensions = { service: resources.prefix };
  const alarm = (
    suffix: string,
    args: Omit<aws.cloudwatch.MetricAlarmArgs, 'namespace' | 'dimensions' | 'evaluationPeriods'>,
  ) =>
    new aws.cloudwatch.MetricAlarm(
      `${logicalName}${suffix}Alarm`,
      {
        namespace: metricsNamespace,
        dimensions,
        evaluationPeriods: 1,
        // No data means nothing happened: no grant waited, the sweeper found nothing.
        treatMissingData: 'notBreaching',
        alarmActions: component.alarmActions ?? [],
        ...args,
      },
      opts,
    );
  const observed: Observability = {};
  if (options.strandedAlarm ?? true)
    observed.strandedAlarm = alarm('Stranded', {
      name: `${resources.prefix}-requests-stranded`,
      alarmDescription:
        'dynamo-dlm: the sweeper found requests whose retry turn or answer was lost; see the sweeper and retry logs',
      metricName: metricName.requestsStranded,
      statistic: 'Sum',
      period: 300,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
    });
  if (waitP99AlarmMs !== undefined)
    observed.waitP99Alarm = alarm('WaitP99', {
      name: `${resources.prefix}-wait-p99`,
      alarmDescription: `dynamo-dlm: p99 wait for a slot above ${waitP99AlarmMs} ms over 5 minutes`,
      metricName: metricName.waitTime,
      extendedStatistic: 'p99',
      period: 300,
      threshold: waitP99AlarmMs,
      comparisonOperator: 'GreaterThanThreshold',
    });
  if (options.dashboard ?? true)
    observed.dashboard = new aws.cloudwatch.Dashboard(
      `${logicalName}Dashboard`,
      {
        dashboardName: `${resources.prefix}-locks`,
        dashboardBody: $util.jsonStringify(
          dashboardBody(
            resources.prefix,
            resources.deadLetterQueue.name,
            aws.getRegionOutput({}, opts).region,
          ),
        ),
      },
      opts,
    );
  return observed;
}

/** One graph of metrics of the namespace, each `[name, stat]`. */
function graph(
  title: string,
  service: string,
  metrics: Array<[string, string]>,
  region: $util.Input<string>,
  position: { x: number; y: number },
) {
  return {
    type: 'metric',
    ...position,
    width: 12,
    height: 6,
    properties: {
      title,
      region,
      view: 'timeSeries',
      period: 60,
      metrics: metrics.map(([name, stat]) => [metricsNamespace, name, 'service', service, { stat }]),
    },
  };
}

function dashboardBody(
  service: string,
  deadLetterQueueName: $util.Input<string>,
  region: $util.Input<string>,
) {
  return {
    widgets: [
      graph(
        'Grants and time-outs a minute',
        service,
        [
          [metricName.grants, 'Sum'],
          [metricName.timeouts, 'Sum'],
        ],
        region,
        { x: 0, y: 0 },
      ),
      graph(
        'Wait for a slot (ms)',
        service,
        [
          [metricName.waitTime, 'p50'],
          [metricName.waitTime, 'p99'],
        ],
        region,
        { x: 12, y: 0 },
      ),
      graph(
        'Hand-over, release to next grant (ms)',
        service,
        [
          [metricName.handOverTime, 'p50'],
          [metricName.handOverTime, 'p99'],
        ],
        region,
        { x: 0, y: 6 },
      ),
      graph(
        'Hold, grant to release (ms)',
        service,
        [
          [metricName.holdTime, 'p50'],
          [metricName.holdTime, 'p99'],
        ],
        region,
        { x: 0, y: 18 },
      ),
      graph(
        'Trouble',
        service,
        [
          [metricName.slotsFreedByCleanup, 'Sum'],
          [metricName.requestsStranded, 'Sum'],
          [metricName.answersFailed, 'Sum'],
          [metricName.throttledRecords, 'Sum'],
        ],
        region,
        { x: 12, y: 6 },
      ),
      {
        type: 'metric',
        x: 0,
        y: 12,
        width: 12,
        height: 6,
        properties: {
          title: 'Retry dead-letter queue',
          region,
          view: 'timeSeries',
          period: 300,
          metrics: [
            [
              'AWS/SQS',
              'ApproximateNumberOfMessagesVisible',
              'QueueName',
              deadLetterQueueName,
              { stat: 'Maximum' },
            ],
          ],
        },
      },
    ],
  };
}

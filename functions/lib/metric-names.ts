// No imports: the stacks (dashboard, alarms) read these names without loading Powertools.

/** The CloudWatch namespace of every dynamo-dlm metric. */
export const metricsNamespace = 'dynamo-dlm';

/** The metric names, as the dashboard and alarms (`stacks/observability.ts`) read them. */
export const metricName = {
  grants: 'Grants',
  waitTime: 'WaitTime',
  handOverTime: 'HandOverTime',
  holdTime: 'HoldTime',
  timeouts: 'Timeouts',
  slotsFreedByCleanup: 'SlotsFreedByCleanup',
  requestsStranded: 'RequestsStranded',
  answersFailed: 'AnswersFailed',
  throttledRecords: 'ThrottledRecords',
} as const;

export type MetricName = (typeof metricName)[keyof typeof metricName];

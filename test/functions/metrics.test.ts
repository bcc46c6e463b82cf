import { afterEach, describe, expect, it } from 'vitest';
import { emitMetric, emitMilliseconds, metricName, useMetricsSink } from '../../functions/lib/metrics.js';
import { parseEmfLine } from '../../local/lambda/index.js';

const collected = () => {
  const lines: string[] = [];
  useMetricsSink((line) => lines.push(line));
  return lines;
};

afterEach(() => {
  useMetricsSink(undefined);
  delete process.env.DLM_METRICS_RESOURCES;
  delete process.env.DLM_METRICS_SERVICE;
});

describe('the functions’ metrics (EMF lines)', () => {
  it('carry only the service dimension unless the resource is opted in', () => {
    const lines = collected();
    process.env.DLM_METRICS_SERVICE = 'app-prod';
    emitMetric(metricName.grants, 1, { resourceId: 'partner-api' });
    process.env.DLM_METRICS_RESOURCES = 'other, partner-api';
    emitMilliseconds(metricName.waitTime, 12.4, 'partner-api');
    emitMilliseconds(metricName.waitTime, 7, 'not-opted-in');
    const points = lines.flatMap(parseEmfLine);
    expect(points).toEqual([
      expect.objectContaining({
        namespace: 'dynamo-dlm',
        name: 'Grants',
        unit: 'Count',
        value: 1,
        dimensions: { service: 'app-prod' },
      }),
      expect.objectContaining({
        name: 'WaitTime',
        unit: 'Milliseconds',
        value: 12,
        dimensions: { service: 'app-prod', resourceId: 'partner-api' },
      }),
      expect.objectContaining({ name: 'WaitTime', value: 7, dimensions: { service: 'app-prod' } }),
    ]);
  });

  it("'*' opts every resource in; a negative duration (clock skew) is not written", () => {
    const lines = collected();
    process.env.DLM_METRICS_RESOURCES = '*';
    emitMilliseconds(metricName.handOverTime, -3, 'a');
    emitMetric(metricName.timeouts, 1, { resourceId: 'a' });
    expect(lines.flatMap(parseEmfLine).map((point) => [point.name, point.dimensions])).toEqual([
      ['Timeouts', { service: 'dynamo-dlm', resourceId: 'a' }],
    ]);
  });
});

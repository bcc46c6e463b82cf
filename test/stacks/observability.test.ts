import { describe, expect, it } from 'vitest';
import { metricName, metricsNamespace } from '../../functions/lib/metric-names.js';
import { loadStacks, type Registered, registeredCount, settled } from './pulumi-mocks.js';

/** What one `DynamoDlm` with these args asks AWS to create, as Pulumi's mocks record it. */
async function deploy(name: string, args: Record<string, unknown>): Promise<Registered[]> {
  const { DynamoDlm } = await loadStacks();
  const mark = registeredCount();
  const locks = new DynamoDlm(name, { namePrefix: name.toLowerCase(), existingTable: false, ...args });
  return settled([locks], mark);
}

const alarms = (resources: Registered[]) =>
  resources.filter((resource) => resource.type === 'aws:cloudwatch/metricAlarm:MetricAlarm');
const dashboards = (resources: Registered[]) =>
  resources.filter((resource) => resource.type === 'aws:cloudwatch/dashboard:Dashboard');
function environmentOf(resources: Registered[], functionName: string): Record<string, string> {
  const found = resources.find(
    (resource) => resource.type === 'aws:lambda/function:Function' && resource.inputs.name === functionName,
  );
  if (!found) throw new Error(`no function named ${functionName}`);
  return (found.inputs.environment as { variables: Record<string, string> }).variables;
}

describe('the dashboard and alarms (stacks/observability.ts)', () => {
  it('by default: a dashboard of the metrics and the stranded-requests alarm to the alarm topic, no wait alarm', async () => {
    const topic = 'arn:aws:sns:us-east-1:123456789012:ops';
    const resources = await deploy('ObsDefault', { alarmActions: [topic] });
    const stranded = alarms(resources).find((alarm) => alarm.name === 'ObsDefaultStrandedAlarm');
    expect(stranded?.inputs).toMatchObject({
      name: 'obsdefault-requests-stranded',
      namespace: metricsNamespace,
      metricName: metricName.requestsStranded,
      dimensions: { service: 'obsdefault' },
      statistic: 'Sum',
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
      alarmActions: [topic],
    });
    expect(alarms(resources).map((alarm) => alarm.name)).not.toContain('ObsDefaultWaitP99Alarm');
    // The retry queue's dead-letter queue not empty, to the same topic.
    expect(
      alarms(resources).find((alarm) => alarm.name === 'ObsDefaultDeadLetterAlarm')?.inputs,
    ).toMatchObject({
      name: 'obsdefault-retry-dead-letters',
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
      alarmActions: [topic],
    });
    const [dashboard] = dashboards(resources);
    expect(dashboard?.inputs.dashboardName).toBe('obsdefault-locks');
    const body = JSON.parse(String(dashboard?.inputs.dashboardBody)) as {
      widgets: Array<{ properties: { metrics: unknown[][] } }>;
    };
    const graphed = body.widgets.flatMap((widget) => widget.properties.metrics.map((metric) => metric[1]));
    for (const name of Object.values(metricName)) expect(graphed).toContain(name);
    expect(graphed).toContain('ApproximateNumberOfMessagesVisible');
    // The functions emit under the same service dimension the dashboard reads, no resource dimension.
    const env = environmentOf(resources, 'obsdefault-acquire');
    expect(env.DLM_METRICS_SERVICE).toBe('obsdefault');
    expect(env.DLM_METRICS_RESOURCES).toBeUndefined();
  }, 60_000);

  it('with a p99 threshold, alarms on the p99 wait; each part, the dead-letter alarm too, can be turned off', async () => {
    const resources = await deploy('ObsTuned', {
      observability: {
        waitP99AlarmMs: 2_000,
        strandedAlarm: false,
        dashboard: false,
        deadLetterAlarm: false,
        perResource: ['partner-api'],
      },
    });
    const names = alarms(resources).map((alarm) => alarm.name);
    expect(names).toContain('ObsTunedWaitP99Alarm');
    expect(names).not.toContain('ObsTunedStrandedAlarm');
    expect(names).not.toContain('ObsTunedDeadLetterAlarm');
    expect(alarms(resources).find((alarm) => alarm.name === 'ObsTunedWaitP99Alarm')?.inputs).toMatchObject({
      metricName: metricName.waitTime,
      extendedStatistic: 'p99',
      threshold: 2_000,
      dimensions: { service: 'obstuned' },
    });
    expect(dashboards(resources)).toEqual([]);
    expect(environmentOf(resources, 'obstuned-release').DLM_METRICS_RESOURCES).toBe('partner-api');
  }, 60_000);

  it('refuses a threshold that is not a positive number, naming the field', async () => {
    await expect(deploy('ObsBad', { observability: { waitP99AlarmMs: -1 } })).rejects.toThrow(
      'observability.waitP99AlarmMs',
    );
  });
});

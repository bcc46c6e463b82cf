import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { acquireState, releaseState } from '../core/steps/states.js';
import { countResource } from '../core/waiting/count-resource.js';
import { useClients } from '../functions/lib/clients.js';
import { countRequests } from '../local/count-requests.js';
import { startLocalAws } from '../local/start-local-aws.js';
import type { BenchRow } from './core-bench.js';
import { countingDynamoDbClient } from './measure.js';
import { startExecutions, waitForAll } from './run-executions.js';
import { quantile } from './stats.js';

interface WorkRecord {
  /** Epoch ms: when the slot was granted (lease end minus lease length), when the work started and ended. */
  grantMs: number;
  startMs: number;
  endMs: number;
  waitedMs: number;
}

const leaseSeconds = 60;

/**
 * The workflow steps on the local AWS: a mutex, one holder (1 s of work, and until all the others
 * wait) and `waiters` executions started at once behind it, each doing `workMs` of work. Measured twice in one run, with the release handing the slot
 * on and with the back-off loop alone: release-to-next-grant latency (the end of one holder's
 * work step to the start of the next one's), out-of-order grants, and the requests each
 * contended acquire costs.
 */
export async function runWorkflowBench(
  dynamodbEndpoint: string,
  waiters: number,
  log: (line: string) => void,
  {
    workMs = 50,
    modes = ['handoff', 'back-off loop alone'],
  }: { workMs?: number; modes?: Array<'handoff' | 'back-off loop alone'> } = {},
): Promise<BenchRow[]> {
  const invocations = new Map<string, number>();
  const aws = await startLocalAws({
    dynamodbEndpoint,
    tableName: `bench_workflow_${Date.now()}`,
    // The stack's defaults: the back-off loop alone is measured as it would run when deployed.
    retry: { baseSeconds: 1, capSeconds: 60 },
    logger: () => {},
    onInvoke: (name) => invocations.set(name, (invocations.get(name) ?? 0) + 1),
  });
  const dynamodb = countingDynamoDbClient(aws.endpoints.dynamodb);
  // The bench's own reads (the queue's length, what is left) go through a client that is not counted.
  const store = {
    client: countingDynamoDbClient(aws.endpoints.dynamodb).client,
    tableName: aws.tableName,
    requestTableName: aws.requestTableName,
    clock: Date.now,
    logger: { warn() {} },
  };
  const sqs = new SQSClient({
    endpoint: aws.endpoints.sqs,
    region: aws.region,
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: 1_000 } },
  });
  const sqsCounts = countRequests(sqs).counts;
  // This run's endpoints: a client made for an earlier local AWS would talk to a stopped one.
  useClients({
    dynamodb: dynamodb.client,
    sqs,
    sfn: new SFNClient({
      endpoint: aws.endpoints.stepfunctions,
      region: aws.region,
      requestHandler: { httpAgent: { keepAlive: true, maxSockets: 1_000 } },
    }),
  });
  const records = new Map<string, WorkRecord[]>();
  /** Resources whose first work step has begun: the holder is in, the waiters may start. */
  const atWork = new Set<string>();
  const workArn = aws.lambda.register({
    name: 'bench-work',
    // The holder works until the whole queue waits behind it.
    timeoutSeconds: 900,
    handler: async (event: {
      resourceId: string;
      workMs: number;
      /** The holder's work lasts until this many requests wait behind it (the queue is whole). */
      untilQueued?: number;
      lock: { waitedMs: number; expiresAt: string };
    }) => {
      const startMs = Date.now();
      atWork.add(event.resourceId);
      await new Promise((resolve) => setTimeout(resolve, event.workMs));
      while (event.untilQueued && (await countResource(store, event.resourceId)).waiting < event.untilQueued)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const list = records.get(event.resourceId) ?? [];
      const grantMs = Date.parse(event.lock.expiresAt) - leaseSeconds * 1000;
      list.push({ grantMs, startMs, endMs: Date.now(), waitedMs: event.lock.waitedMs });
      records.set(event.resourceId, list);
      return {};
    },
  });
  const sfn = new SFNClient({ endpoint: aws.endpoints.stepfunctions, region: aws.region });
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({
      name: 'bench-mutex',
      roleArn: 'arn:aws:iam::000000000000:role/local',
      definition: JSON.stringify({
        StartAt: 'Acquire',
        States: {
          Acquire: acquireState({
            functionArn: aws.functions.acquire,
            resourceId: { path: '$.resourceId' },
            leaseSeconds,
            waitSeconds: 600,
            next: 'Work',
          }),
          Work: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: workArn, 'Payload.$': '$' },
            ResultPath: null,
            Next: 'Release',
          },
          Release: releaseState({ functionArn: aws.functions.release, end: true }),
        },
      }),
    }),
  );
  const rows: BenchRow[] = [];
  try {
    for (const mode of modes) {
      process.env.DLM_HANDOFF = mode === 'handoff' ? 'on' : 'off';
      const resourceId = `bench-${mode.replace(/\W+/g, '-')}`;
      const before = snapshot(dynamodb, sqsCounts, invocations);
      const started = performance.now();
      // The holder first, so that all the others queue behind it: arrival order is then clear.
      const [holder] = await startExecutions(sfn, stateMachineArn as string, [
        { resourceId, workMs: 1_000, untilQueued: waiters },
      ]);
      while (!atWork.has(resourceId)) await new Promise((resolve) => setTimeout(resolve, 10));
      const queued = await startExecutions(
        sfn,
        stateMachineArn as string,
        Array(waiters).fill({ resourceId, workMs }),
      );
      await waitForAll(sfn, [holder as string, ...queued]);
      const after = snapshot(dynamodb, sqsCounts, invocations);
      const work = (records.get(resourceId) ?? []).sort((a, b) => a.grantMs - b.grantMs);
      // From the end of one holder's work (its release follows) to the grant of the next holder.
      const latencies = work
        .slice(1)
        .map((record, index) => record.grantMs - (work[index] as WorkRecord).endMs);
      // The same, to the start of the next holder's work step (adds Step Functions resuming it).
      const toWork = work.slice(1).map((record, index) => record.startMs - (work[index] as WorkRecord).endMs);
      const outOfOrder = countOutOfOrder(work);
      const executions = work.length;
      const elapsedMs = performance.now() - started;
      const left = await countResource(store, resourceId);
      log(
        `${mode}: ${executions} executions in ${Math.round(performance.now() - started)} ms; ` +
          `release-to-grant p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p99 ${quantile(latencies, 0.99).toFixed(0)} ms`,
      );
      rows.push(
        {
          case: `release-to-next-grant p50, ${waiters} waiters, ${mode}`,
          value: quantile(latencies, 0.5),
          unit: 'ms',
        },
        {
          case: `release-to-next-grant p99, ${waiters} waiters, ${mode}`,
          value: quantile(latencies, 0.99),
          unit: 'ms',
        },
        { case: `release-to-next-work-start p50, ${mode}`, value: quantile(toWork, 0.5), unit: 'ms' },
        {
          case: `out-of-order grants, ${mode}`,
          value: outOfOrder / executions,
          unit: 'share',
          note: 'target 0 (no lease expires here)',
        },
        ...perAcquire(mode, before, after, executions),
        ...drainRows(mode, waiters, toWork, work, elapsedMs),
        {
          case: `left held or waiting, ${mode}`,
          value: left.held + left.waiting,
          unit: 'requests',
          note: 'target 0',
        },
      );
    }
  } finally {
    delete process.env.DLM_HANDOFF;
    sfn.destroy();
    await aws.stop();
  }
  const handoffP50 = rows.find(
    (row) => row.case.startsWith('release-to-next-grant p50') && row.case.endsWith('handoff'),
  );
  const loopP50 = rows.find(
    (row) => row.case.startsWith('release-to-next-grant p50') && row.case.endsWith('alone'),
  );
  if (handoffP50 && loopP50) {
    rows.push({
      case: 'p50 speed-up of handoff over the back-off loop',
      value: loopP50.value / handoffP50.value,
      unit: 'ratio',
      note: 'target >= 10',
    });
  }
  return rows;
}

/**
 * How a long queue drains: the overhead of a hand-over cycle (one holder's work ends, the next
 * one's starts) while the queue is still long and once it is short, and the whole run against
 * the work it did.
 */
function drainRows(
  mode: string,
  waiters: number,
  toWork: number[],
  work: WorkRecord[],
  elapsedMs: number,
): BenchRow[] {
  if (waiters < 100) return [];
  const long = toWork.slice(0, 50);
  const short = toWork.slice(-10);
  const workMs = work.reduce((sum, record) => sum + record.endMs - record.startMs, 0);
  // The holder's work lasts until the whole queue waits: the start-up.
  const startUpMs = work[0] ? work[0].endMs - work[0].startMs : 0;
  return [
    { case: `start-up until ${waiters} wait (the holder's work), ${mode}`, value: startUpMs, unit: 'ms' },
    { case: `the others' work, ${waiters} executions, ${mode}`, value: workMs - startUpMs, unit: 'ms' },
    {
      case: `hand-over cycle p50, first 50 of ${waiters} (W ≈ ${waiters}), ${mode}`,
      value: quantile(long, 0.5),
      unit: 'ms',
    },
    {
      case: `hand-over cycle p95, first 50 of ${waiters} (W ≈ ${waiters}), ${mode}`,
      value: quantile(long, 0.95),
      unit: 'ms',
    },
    { case: `hand-over cycle p50, last 10 (W ≤ 10), ${mode}`, value: quantile(short, 0.5), unit: 'ms' },
    { case: `hand-over cycle p95, last 10 (W ≤ 10), ${mode}`, value: quantile(short, 0.95), unit: 'ms' },
    {
      case: `wall time over the start-up plus the work, ${waiters + 1} executions, ${mode}`,
      value: elapsedMs / workMs,
      unit: 'ratio',
    },
  ];
}

type Snapshot = Record<string, number>;

function snapshot(
  dynamo: { writes(): number; reads(): number },
  sqs: Map<string, number>,
  lambda: Map<string, number>,
): Snapshot {
  return {
    writes: dynamo.writes(),
    reads: dynamo.reads(),
    sqsSends: sqs.get('SendMessage') ?? 0,
    lambda: [...lambda.values()].reduce((total, count) => total + count, 0),
    retryInvocations: lambda.get('dynamo-dlm-retry') ?? 0,
  };
}

function perAcquire(mode: string, before: Snapshot, after: Snapshot, executions: number): BenchRow[] {
  const per = (key: string) => ((after[key] ?? 0) - (before[key] ?? 0)) / executions;
  return [
    { case: `per acquire+release, ${mode}: DynamoDB writes`, value: per('writes'), unit: 'requests' },
    { case: `per acquire+release, ${mode}: DynamoDB reads`, value: per('reads'), unit: 'requests' },
    { case: `per acquire+release, ${mode}: SQS SendMessage`, value: per('sqsSends'), unit: 'requests' },
    {
      case: `per acquire+release, ${mode}: Lambda invocations (steps + retry)`,
      value: per('lambda'),
      unit: 'invocations',
    },
  ];
}

/**
 * Grants given while an earlier-arrived request still waited. Arrival is when the request was
 * recorded as waiting (grant - waitedMs; waitedMs runs from the record to the answer, which
 * follows the grant within a few ms, hence the small tolerance).
 */
function countOutOfOrder(work: WorkRecord[]): number {
  const arrivals = work.map((record) => record.grantMs - record.waitedMs);
  return arrivals.filter((arrival, index) => arrivals.slice(index + 1).some((later) => later < arrival - 10))
    .length;
}

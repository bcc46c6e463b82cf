import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { exampleStateMachine } from '../core/steps/example-state-machine.js';
import { countResource } from '../core/waiting/count-resource.js';
import { type ExampleWorkInput, handler as exampleWork } from '../functions/example-work.js';
import { parseEmfLine } from '../local/lambda/index.js';
import type { LocalAws } from '../local/start-local-aws.js';
import { summarizeMetrics } from './metrics-summary.js';
import { type ExecutionRecord, exampleLeaseMs } from './record.js';
import { type DemoSummary, summarize } from './summary.js';
import { timelineSvg } from './timeline-svg.js';

/** What the demo runs. */
export interface DemoOptions {
  executions: number;
  concurrency: number;
  /** Each work step takes between workMs and 2 × workMs. */
  workMs: number;
  /** Every n-th execution fails on purpose (0: none). */
  failEvery: number;
  resourceId: string;
  timelinePath?: string;
  /** One line per change of the counts, for a live view. */
  onProgress?: (line: string) => void;
}

/** How fast the demo starts executions (see the loop that starts them). */
const startsPerSecond = 100;
const warmUpStarts = 100;
const warmUpStartsPerSecond = 20;

/** When the execution `index` starts, after the first: a warm-up, then the steady rate. */
function startDelayMs(index: number): number {
  const warm = Math.min(index, warmUpStarts);
  return (warm * 1000) / warmUpStartsPerSecond + ((index - warm) * 1000) / startsPerSecond;
}

type WorkEvent = ExampleWorkInput & {
  index: number;
  lock: { concurrencyId: number; expiresAt: string; waitedMs: number };
};

/**
 * Runs `executions` executions of the example state machine (the one `sst deploy` creates,
 * built by `exampleStateMachine`) against one resource with `concurrency` slots on a local AWS,
 * and answers what happened. The work function is the deployed example's, wrapped to record
 * when each execution held its slot.
 *
 * @example
 * const summary = await runWorkflowDemo(aws, { executions: 24, concurrency: 3, workMs: 1000, failEvery: 8, resourceId: 'demo' });
 */
export async function runWorkflowDemo(aws: LocalAws, options: DemoOptions): Promise<DemoSummary> {
  const records: ExecutionRecord[] = [];
  const workName = `dynamo-dlm-example-work-${options.resourceId}`;
  const workArn = aws.lambda.register({
    name: workName,
    timeoutSeconds: 70,
    handler: async (event: WorkEvent) => {
      const record = records[event.index] as ExecutionRecord;
      record.grant = {
        atMs: Date.parse(event.lock.expiresAt) - exampleLeaseMs,
        slot: event.lock.concurrencyId,
        waitedMs: event.lock.waitedMs,
      };
      const work = { startMs: Date.now(), endMs: Date.now() };
      record.work = work;
      try {
        return await exampleWork(event);
      } finally {
        work.endMs = Date.now();
      }
    },
  });
  const sfn = new SFNClient({ endpoint: aws.endpoints.stepfunctions, region: aws.region });
  const dynamodb = new DynamoDBClient({ endpoint: aws.endpoints.dynamodb, region: aws.region });
  const store = {
    client: dynamodb,
    tableName: aws.tableName,
    requestTableName: aws.requestTableName,
    clock: Date.now,
    logger: { warn: () => {} },
  };
  const ended = new Map<string, { status: string; atMs: number; failure?: string }>();
  const unsubscribe = aws.onExecutionStatusChange((event) => {
    if (event.detail.status !== 'RUNNING')
      ended.set(event.detail.executionArn, {
        status: event.detail.status,
        atMs: Date.now(),
        ...(event.detail.error ? { failure: failureOf(event.detail.error, event.detail.cause) } : {}),
      });
  });
  try {
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: `dynamo-dlm-example-${options.resourceId}`,
        roleArn: 'arn:aws:iam::000000000000:role/local',
        definition: JSON.stringify(
          exampleStateMachine({ functions: aws.functions, workFunctionArn: workArn }),
        ),
      }),
    );
    // This run's metric lines only (a test's local AWS may have run others before).
    const firstMetricLine = aws.lambda.metricLines.lines().length;
    const started = Date.now();
    for (let index = 0; index < options.executions; index++) {
      // Every function of the local AWS runs in this one process: a thousand acquires at once
      // would queue behind each other past their timeout, where on AWS each would have its own
      // Lambda. Arrivals come at most `startsPerSecond` a second, after a slower first 100
      // while DynamoDB Local's JVM is still cold.
      const dueMs = started + startDelayMs(index);
      if (dueMs > Date.now()) await new Promise((resolve) => setTimeout(resolve, dueMs - Date.now()));
      const failOnPurpose = options.failEvery > 0 && (index + 1) % options.failEvery === 0;
      const input = {
        index,
        resourceId: options.resourceId,
        concurrency: options.concurrency,
        workMs: Math.round(options.workMs * (1 + Math.random())),
        fail: failOnPurpose,
      };
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
      );
      records.push({ index, executionArn: executionArn as string, failOnPurpose, startedMs: Date.now() });
      if ((index + 1) % startsPerSecond === 0 && index + 1 < options.executions)
        options.onProgress?.(`started ${index + 1} of ${options.executions}`);
    }
    let last = '';
    while (ended.size < records.length) {
      const waiting = records.filter((record) => !record.work).length;
      const holding = records.filter(
        (record) => record.work && record.work.endMs === record.work.startMs,
      ).length;
      const failed = [...ended.values()].filter((end) => end.status !== 'SUCCEEDED').length;
      const done = ended.size - failed;
      const line = `waiting ${waiting}  holding ${holding}/${options.concurrency}  done ${done}  failed ${failed}`;
      if (line !== last) options.onProgress?.(line);
      last = line;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const record of records) {
      const end = ended.get(record.executionArn);
      record.status = end?.status;
      if (end?.failure) record.failure = end.failure;
      record.endedMs = end?.atMs;
    }
    // The release step runs after the status of the work: give the last releases a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const summary = summarize(
      records,
      options.concurrency,
      await countResource(store, options.resourceId),
      Date.now() - started,
    );
    const lines = aws.lambda.metricLines.lines().slice(firstMetricLine);
    summary.metrics = summarizeMetrics(lines.flatMap(parseEmfLine), lines.length);
    if (options.timelinePath) {
      mkdirSync(dirname(options.timelinePath), { recursive: true });
      const title = `${options.executions} executions, one resource, concurrency ${options.concurrency}: at most ${summary.mostHoldersAtOnce} held at once`;
      writeFileSync(options.timelinePath, timelineSvg(records, options.concurrency, title));
      summary.timeline = options.timelinePath;
    }
    return summary;
  } finally {
    unsubscribe();
    sfn.destroy();
    dynamodb.destroy();
  }
}

/** `error: message` of a failed execution (a Lambda's cause is its error JSON: its message is enough). */
function failureOf(error: string, cause: string | null | undefined): string {
  try {
    const parsed = JSON.parse(cause ?? '') as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return `${error}: ${parsed.errorMessage}`;
  } catch {
    // Not JSON: the cause as it is.
  }
  return `${error}: ${(cause ?? '').slice(0, 200)}`;
}

import { parseArgs } from 'node:util';
import { JavaMissingError } from '../local/dynamodb/java.js';
import { startLocalAws } from '../local/start-local-aws.js';
import type { DemoSummary } from './summary.js';
import { runWorkflowDemo } from './workflow-demo.js';

const usage = `usage: npm start -- [--executions N] [--concurrency K] [--work-ms MS] [--json] [--keep]
  --executions N   workflow executions competing for one resource (1..10000, default 24)
  --concurrency K  slots of the resource (1..1000, default 3)
  --work-ms MS     each work step takes MS to 2×MS milliseconds (1..60000, default 1000)
  --json           the summary as one JSON object on the last line
  --keep           leave the local AWS running afterwards and print its endpoints`;

/** `npm start`: workflows competing for one lock on the embedded local AWS. */
async function main(): Promise<number> {
  let options: { executions: number; concurrency: number; workMs: number; json: boolean; keep: boolean };
  try {
    const { values } = parseArgs({
      options: {
        executions: { type: 'string', default: '24' },
        concurrency: { type: 'string', default: '3' },
        'work-ms': { type: 'string', default: '1000' },
        json: { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
      },
    });
    options = {
      executions: integer(values.executions, 'executions', 1, 10_000),
      concurrency: integer(values.concurrency, 'concurrency', 1, 1000),
      workMs: integer(values['work-ms'], 'work-ms', 1, 60_000),
      json: values.json,
      keep: values.keep,
    };
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const say = options.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  say('Starting the local AWS (DynamoDB Local, SQS, Step Functions, Lambda)…');
  const aws = await startLocalAws({ logger: () => {} });
  try {
    say(
      `${options.executions} executions of the example workflow compete for "demo-partner-api" (concurrency ${options.concurrency}), every 8th fails on purpose:`,
    );
    const summary = await runWorkflowDemo(aws, {
      ...options,
      failEvery: 8,
      resourceId: 'demo-partner-api',
      timelinePath: 'out/timeline.svg',
      onProgress: (line) => say(`  ${line}`),
    });
    if (options.json) console.log(JSON.stringify(summary));
    else printSummary(summary);
    if (options.keep) {
      console.error(
        `\nThe local AWS keeps running (Ctrl-C stops it):\n  export AWS_ENDPOINT_URL_DYNAMODB=${aws.endpoints.dynamodb}\n  export AWS_ENDPOINT_URL_SQS=${aws.endpoints.sqs}\n  export AWS_ENDPOINT_URL_SFN=${aws.endpoints.stepfunctions}`,
      );
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
    return summary.ok ? 0 : 1;
  } finally {
    await aws.stop();
  }
}

function printSummary(summary: DemoSummary): void {
  console.log(`
Summary
  most holders at once   ${summary.mostHoldersAtOnce} (limit ${summary.concurrency})${summary.mostHoldersAtOnce > summary.concurrency ? '  VIOLATION' : ''}
  executions             ${summary.succeeded} succeeded, ${summary.failedOnPurpose} failed on purpose, ${summary.unexpected} unexpected${summary.unexpectedFailures.map((failure) => `\n                           ${failure}`).join('')}
  wait                   p50 ${summary.waitMs.p50} ms, p95 ${summary.waitMs.p95} ms
  release to next grant  p50 ${summary.releaseToGrantMs.p50} ms, p95 ${summary.releaseToGrantMs.p95} ms (${summary.releaseToGrantMs.samples} handoffs)
  slots leaked           ${summary.slotsLeaked}${summary.waitersLeft ? ` (and ${summary.waitersLeft} waiters left)` : ''}
  total                  ${(summary.totalMs / 1000).toFixed(1)} s
  timeline               ${summary.timeline ?? '-'}
${summary.metrics ? metricsLines(summary.metrics) : ''}
${summary.ok ? 'All invariants held.' : 'AN INVARIANT BROKE: see above.'}`);
}

/** The metric lines' figures, as the dashboard would show them. */
function metricsLines(metrics: NonNullable<DemoSummary['metrics']>): string {
  return `
From the functions' metric lines (${metrics.lines} EMF lines, namespace dynamo-dlm: what the dashboard shows)
  grants                 ${metrics.grants}
  wait                   p50 ${metrics.waitMs.p50} ms, p99 ${metrics.waitMs.p99} ms
  hand-over              p50 ${metrics.handOverMs.p50} ms, p99 ${metrics.handOverMs.p99} ms (${metrics.handOverMs.samples})
  hold                   p50 ${metrics.holdMs.p50} ms, p99 ${metrics.holdMs.p99} ms (${metrics.holdMs.samples})
  timeouts               ${metrics.timeouts}
  slots freed by cleanup ${metrics.slotsFreedByCleanup}
  stranded (sweeper)     ${metrics.requestsStranded}
  answers failed         ${metrics.answersFailed}
`;
}

function integer(raw: string | undefined, name: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(
      `Expected --${name} to be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

try {
  process.exitCode = await main();
} catch (error) {
  if (error instanceof JavaMissingError) {
    console.error(error.message);
    process.exitCode = 1;
  } else throw error;
}

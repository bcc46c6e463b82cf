import { startDynamoDbLocal } from '../local/dynamodb/start-dynamodb-local.js';
import { runAcquireBench } from './acquire-bench.js';
import { type BenchRow, runCoreBench } from './core-bench.js';
import { runQueueBench } from './queue-bench.js';
import { runRateBench } from './rate-bench.js';
import { runRateWorkflowBench } from './rate-workflow-bench.js';
import { runSlotBusyBench } from './slot-busy-bench.js';
import { runSqsBench } from './sqs-bench.js';
import { runWorkflowBench } from './workflow-bench.js';

/**
 * `npm run bench [-- --json] [-- --seconds N] [-- --parked W] [-- --only core|rate|workflow|sqs]`: every
 * benchmark in one run on one local AWS, so that ratios compare like with like on a noisy shared
 * machine; `--only` runs one group alone.
 */
const args = process.argv.slice(2);
const json = args.includes('--json');
const secondsIndex = args.indexOf('--seconds');
const seconds = secondsIndex >= 0 ? Number(args[secondsIndex + 1]) : 4;
const parkedIndex = args.indexOf('--parked');
const parked = parkedIndex >= 0 ? Number(args[parkedIndex + 1]) : 1_000;
const groups = ['core', 'rate', 'workflow', 'sqs'] as const;
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
if (
  !Number.isFinite(seconds) ||
  seconds <= 0 ||
  !Number.isInteger(parked) ||
  parked < 100 ||
  parked > 10_000 ||
  (only !== undefined && !(groups as readonly string[]).includes(only))
) {
  console.error(
    `usage: npm run bench -- [--json] [--seconds N] [--parked W] [--only ${groups.join('|')}]   (N > 0, seconds per case; W in 100..10000 executions parked on one mutex, default 1000)`,
  );
  process.exit(2);
}
const runs = (group: (typeof groups)[number]) => only === undefined || only === group;
const log = (line: string) => console.error(`[bench] ${line}`);

// A shared machine under load may need more than a minute for the JVM to answer.
const dynamodb = await startDynamoDbLocal({ readyTimeoutMs: 90_000 });
const rows: BenchRow[] = [];
try {
  log(`DynamoDB Local at ${dynamodb.endpoint}; ${seconds} s per case`);
  if (runs('core')) rows.push(...(await runCoreBench(dynamodb.endpoint, seconds, log)));
  if (runs('rate')) {
    rows.push(...(await runRateBench(dynamodb.endpoint, seconds, log)));
    rows.push(...(await runRateWorkflowBench(dynamodb.endpoint, log)));
  }
  if (runs('workflow')) {
    rows.push(...(await runWorkflowBench(dynamodb.endpoint, 20, log)));
    rows.push(...(await runQueueBench(dynamodb.endpoint, log)));
    rows.push(...(await runAcquireBench(dynamodb.endpoint, log)));
    // A long queue drained through the steps: the grant's cost must not grow with the queue.
    rows.push(
      ...(await runWorkflowBench(dynamodb.endpoint, parked, log, { workMs: 20, modes: ['handoff'] })),
    );
  }
  if (runs('sqs')) {
    rows.push(...(await runSqsBench({ dynamodb: dynamodb.endpoint }, seconds, log)));
    rows.push(...(await runSlotBusyBench(dynamodb.endpoint, log)));
  }
} finally {
  await dynamodb.stop();
}

const width = Math.max(...rows.map((row) => row.case.length));
console.log(`${'case'.padEnd(width)}  ${'value'.padStart(10)}  unit`);
for (const row of rows) {
  const value = row.unit === 'ratio' || row.value < 10 ? row.value.toFixed(2) : row.value.toFixed(0);
  console.log(
    `${row.case.padEnd(width)}  ${value.padStart(10)}  ${row.unit}${row.note ? `  (${row.note})` : ''}`,
  );
}
if (json) console.log(JSON.stringify({ node: process.version, seconds, rows }));

import { startDynamoDbLocal } from '../local/dynamodb/start-dynamodb-local.js';
import { type BenchRow, runCoreBench } from './core-bench.js';
import { runSqsBench } from './sqs-bench.js';
import { runWorkflowBench } from './workflow-bench.js';

/**
 * `npm run bench [-- --json] [-- --seconds N]`: every benchmark in one run on one local AWS,
 * so that ratios compare like with like on a noisy shared machine.
 */
const args = process.argv.slice(2);
const json = args.includes('--json');
const secondsIndex = args.indexOf('--seconds');
const seconds = secondsIndex >= 0 ? Number(args[secondsIndex + 1]) : 4;
if (!Number.isFinite(seconds) || seconds <= 0) {
  console.error('usage: npm run bench -- [--json] [--seconds N]   (N > 0, seconds per case)');
  process.exit(2);
}
const log = (line: string) => console.error(`[bench] ${line}`);

const dynamodb = await startDynamoDbLocal();
let rows: BenchRow[] = [];
try {
  log(`DynamoDB Local at ${dynamodb.endpoint}; ${seconds} s per case`);
  rows = await runCoreBench(dynamodb.endpoint, seconds, log);
  rows.push(...(await runWorkflowBench(dynamodb.endpoint, 20, log)));
  rows.push(...(await runSqsBench({ dynamodb: dynamodb.endpoint }, seconds, log)));
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

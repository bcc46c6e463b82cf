import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbLock } from '../core/dynamo-db-lock.js';
import { createLockTable } from '../core/table.js';
import { startDynamoDbLocal } from '../local/dynamodb/start-dynamodb-local.js';

/**
 * The library on its own: workers in this process compete for one resource with a few slots on
 * an embedded DynamoDB Local; each records when it held the lock, and the summary checks that
 * no more than `concurrency` ever held it at once.
 */
export async function runLibraryDemo(options: { workers: number; concurrency: number; workMs: number }) {
  const dynamodb = await startDynamoDbLocal();
  const client = new DynamoDBClient({
    endpoint: dynamodb.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await createLockTable(client, 'dynamo_dlm_locks');
    console.log(
      `DynamoDB Local at ${dynamodb.endpoint}: ${options.workers} workers, concurrency ${options.concurrency}`,
    );
    const intervals: Array<{ worker: number; slot: number; start: number; end: number; waitedMs: number }> =
      [];
    const started = performance.now();
    let holding = 0;
    let done = 0;
    const progress = () =>
      process.stdout.write(
        `\r  holding ${holding}  waiting ${options.workers - holding - done}  done ${done}   `,
      );
    await Promise.all(
      Array.from({ length: options.workers }, async (_, worker) => {
        const lock = new DynamoDbLock('demo-partner-api', {
          client,
          concurrency: options.concurrency,
          owner: `worker-${worker}`,
        });
        const asked = performance.now();
        const lease = await lock.acquire({ timeoutMs: 120_000 });
        const start = performance.now();
        holding++;
        progress();
        await new Promise((resolve) => setTimeout(resolve, options.workMs * (0.5 + Math.random())));
        const end = performance.now();
        await lock.release();
        holding--;
        done++;
        progress();
        intervals.push({ worker, slot: lease.concurrencyId, start, end, waitedMs: start - asked });
      }),
    );
    process.stdout.write('\n');
    const most = maxConcurrent(intervals);
    const waits = intervals.map((interval) => interval.waitedMs).sort((a, b) => a - b);
    const p = (q: number) => Math.round(waits[Math.min(waits.length - 1, Math.floor(q * waits.length))] ?? 0);
    console.log(`most holders at once: ${most} (limit ${options.concurrency})`);
    console.log(
      `wait p50 ${p(0.5)} ms, p95 ${p(0.95)} ms; total ${Math.round(performance.now() - started)} ms`,
    );
    const left = await new DynamoDbLock('demo-partner-api', { client }).count();
    console.log(`slots still held at the end: ${left}`);
    return most <= options.concurrency && left === 0;
  } finally {
    client.destroy();
    await dynamodb.stop();
  }
}

function maxConcurrent(intervals: Array<{ start: number; end: number }>): number {
  const events = intervals.flatMap(({ start, end }) => [
    { at: start, delta: 1 },
    { at: end, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let most = 0;
  for (const event of events) {
    current += event.delta;
    most = Math.max(most, current);
  }
  return most;
}

import { startDynamoDbLocal } from '../local/dynamodb/start-dynamodb-local.js';
import { runWorkflowBench } from './workflow-bench.js';

const n = Number(process.argv[2] ?? 1000);
const d = await startDynamoDbLocal();
try {
  for (const r of await runWorkflowBench(d.endpoint, n, (l) => console.error(l), {
    workMs: 20,
    modes: ['handoff'],
  }))
    console.log(r.case, r.value.toFixed(2), r.unit);
} finally {
  await d.stop();
}

// Started by orphan.test.ts in a process of its own, which the test then kills with SIGKILL.
import { startDynamoDbLocal } from '../../../local/dynamodb/start-dynamodb-local.js';

const dynamodb = await startDynamoDbLocal({ readyTimeoutMs: 60_000 });
console.log(`java pid ${dynamodb.pid}`);
// Stays until killed: the test checks that DynamoDB Local goes with it.
setInterval(() => {}, 60_000);

import { JavaMissingError } from './dynamodb/java.js';
import { startLocalAws } from './start-local-aws.js';

/**
 * `npm run local`: the local AWS with the service set up, until Ctrl-C. Prefers the usual ports
 * (DynamoDB 8000, SQS 9324, Step Functions 8083) and takes free ones when they are taken.
 */
const startedAt = performance.now();
try {
  const aws = await startLocalAws({
    ports: { dynamodb: 8000, sqs: 9324, stepfunctions: 8083 },
    logger: (line) => console.error(`[lambda] ${line}`),
  });
  const readyMs = Math.round(performance.now() - startedAt);
  console.log(`Local AWS ready in ${readyMs} ms (region ${aws.region}, table ${aws.tableName})`);
  console.log(`  DynamoDB        ${aws.endpoints.dynamodb}`);
  console.log(`  SQS             ${aws.endpoints.sqs}   retry queue ${aws.retryQueueUrl}`);
  console.log(`  Step Functions  ${aws.endpoints.stepfunctions}`);
  for (const [step, arn] of Object.entries(aws.functions)) console.log(`  ${step.padEnd(15)} ${arn}`);
  console.log('\nPoint the AWS SDK and CLI at it:');
  console.log(`export AWS_ENDPOINT_URL_DYNAMODB=${aws.endpoints.dynamodb}`);
  console.log(`export AWS_ENDPOINT_URL_SQS=${aws.endpoints.sqs}`);
  console.log(`export AWS_ENDPOINT_URL_SFN=${aws.endpoints.stepfunctions}`);
  console.log(`export AWS_REGION=${aws.region} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local`);
  console.log('\nCtrl-C stops everything.');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local AWS…`);
    await aws.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} catch (error) {
  if (error instanceof JavaMissingError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

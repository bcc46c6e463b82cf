import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createLockTable, createRequestTable } from '../core/create-tables.js';
import { requestTableNameFor } from '../core/waiting/waiting-store.js';
import { useMetricsSink } from '../functions/lib/metrics.js';
import { startDynamoDbLocal } from './dynamodb/start-dynamodb-local.js';
import { serviceFunctions } from './functions.js';
import { type LocalFunctionDefinition, LocalLambdaRuntime, type LocalLogger } from './lambda/index.js';
import { everySeconds, scheduledEvent } from './schedule.js';
import { startLocalSqs } from './sqs/index.js';
import { type EngineName, type LocalStepFunctions, startLocalStepFunctions } from './stepfunctions/index.js';

/** Options of `startLocalAws`; all optional. */
export interface LocalAwsOptions {
  /** Preferred ports; a taken or 0 port means any free one. Default: any free port. */
  ports?: { dynamodb?: number; sqs?: number; stepfunctions?: number };
  /** Use this DynamoDB (for example an already running DynamoDB Local) instead of starting one. */
  dynamodbEndpoint?: string;
  /** Lock table name. Default `dynamo_dlm_locks`. */
  tableName?: string;
  /** Back-off of the retry loop in seconds. Default base 1, cap 60 (AWS defaults of the stack). */
  retry?: { baseSeconds?: number; capSeconds?: number };
  /** One-line events of the local Lambda runtime. Default: stderr, silent under vitest. */
  logger?: LocalLogger;
  /** Called at every invocation of a service function, with its name (to count them). */
  onInvoke?: (functionName: string) => void;
  /**
   * Seconds between runs of the sweeper (`dynamo-dlm-sweeper`), which re-drives waiting requests
   * whose retry turn or answer is overdue, as the stack's `rate(1 minute)` schedule does. A run
   * still going when the next is due makes that one skipped; the first run is one period after
   * the start. `0` runs no sweeper (a test that wants to call it itself). Default 60.
   */
  sweepSeconds?: number;
  /** Engine of the local Step Functions (see `startLocalStepFunctions`). Default `'own'`. */
  stepFunctionsEngine?: EngineName;
}

/** The running local AWS. */
export interface LocalAws {
  endpoints: { dynamodb: string; sqs: string; stepfunctions: string };
  /** ARNs of the steps, for `dynamo-dlm/steps` or a hand-written definition. */
  functions: { acquire: string; release: string; count: string; extend: string };
  tableName: string;
  /** The table of waiting requests (task tokens): only the service's functions use it. */
  requestTableName: string;
  retryQueueUrl: string;
  deadLetterQueueUrl: string;
  region: string;
  /** The in-process Lambda runtime: register your own functions (work steps, SQS consumers). */
  lambda: LocalLambdaRuntime;
  /** Execution status change events, as EventBridge would deliver them. */
  onExecutionStatusChange: LocalStepFunctions['onExecutionStatusChange'];
  /** Stops every server and poller that was started, and DynamoDB Local's Java process. */
  stop(): Promise<void>;
}

const region = 'us-east-1';
const accountId = '000000000000';

/**
 * Starts DynamoDB Local (Java), SQS and Step Functions on 127.0.0.1 with the service set up in
 * them: the lock table, the retry queue and its consumer, the functions `dynamo-dlm-acquire`,
 * `-release`, `-count` and `-extend`, the cleanup of failed executions, and the sweeper on its
 * schedule (`sweepSeconds`). It points this process's AWS SDK clients at them through
 * `AWS_ENDPOINT_URL_*`, so the functions run unchanged.
 *
 * @example
 * const aws = await startLocalAws();
 * const sfn = new SFNClient({ endpoint: aws.endpoints.stepfunctions });
 * // ... CreateStateMachine with acquireState({ functionArn: aws.functions.acquire, ... })
 * await aws.stop();
 */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const sweepSeconds = options.sweepSeconds ?? 60;
  if (!(Number.isFinite(sweepSeconds) && sweepSeconds >= 0)) {
    throw new TypeError(
      `Expected \`sweepSeconds\` to be 0 (no sweeper) or a positive number, got ${JSON.stringify(sweepSeconds)}`,
    );
  }
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const stopOne of stops.reverse()) await stopOne().catch(() => {});
  };
  try {
    process.env.AWS_REGION ??= region;
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    let dynamodbEndpoint = options.dynamodbEndpoint;
    if (!dynamodbEndpoint) {
      const dynamodb = await startDynamoDbLocal({ port: options.ports?.dynamodb ?? 0 });
      stops.push(dynamodb.stop);
      dynamodbEndpoint = dynamodb.endpoint;
    }
    const sqs = await startLocalSqs({ port: options.ports?.sqs ?? 0, region, accountId });
    stops.push(sqs.stop);
    const lambda = new LocalLambdaRuntime({
      region,
      accountId,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    stops.push(() => lambda.stop());
    // The functions' metric lines go to this runtime, as a Lambda's stdout goes to CloudWatch Logs.
    useMetricsSink((line) => lambda.metricLines.add(line));
    stops.push(async () => useMetricsSink(undefined));
    const stepFunctions = await startLocalStepFunctions({
      lambda,
      port: options.ports?.stepfunctions ?? 0,
      region,
      accountId,
      ...(options.stepFunctionsEngine ? { engine: options.stepFunctionsEngine } : {}),
    });
    stops.push(stepFunctions.stop);
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_SFN: stepFunctions.endpoint,
    });

    const tableName = options.tableName ?? 'dynamo_dlm_locks';
    const dynamodbClient = new DynamoDBClient({ endpoint: dynamodbEndpoint, region });
    const requestTableName = requestTableNameFor(tableName);
    await createLockTable(dynamodbClient, tableName);
    await createRequestTable(dynamodbClient, requestTableName);
    dynamodbClient.destroy();
    const queues = await createRetryQueues(sqs.endpoint);

    // In-process functions share this process's environment: this is their configuration.
    Object.assign(process.env, {
      DLM_TABLE_NAME: tableName,
      DLM_REQUEST_TABLE_NAME: requestTableName,
      DLM_RETRY_QUEUE_URL: queues.retryQueueUrl,
      DLM_RETRY_BASE_SECONDS: String(options.retry?.baseSeconds ?? 1),
      DLM_RETRY_CAP_SECONDS: String(options.retry?.capSeconds ?? 60),
    });
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    const arns = Object.fromEntries(
      Object.entries(serviceFunctions).map(([key, definition]) => [
        key,
        lambda.register(counted(definition, options.onInvoke)),
      ]),
    ) as Record<keyof typeof serviceFunctions, string>;
    // The EventBridge rule of the stack: failed, timed-out and aborted executions -> cleanup.
    stepFunctions.onExecutionStatusChange(async (event) => {
      if (['FAILED', 'TIMED_OUT', 'ABORTED'].includes(event.detail.status)) {
        await lambda.invoke(arns.cleanup, event);
      }
    });
    lambda.addSqsEventSource({
      functionName: serviceFunctions.retry.name,
      queueUrl: queues.retryQueueUrl,
      batchSize: 10,
      maxConcurrency: 2,
      sqsEndpoint: sqs.endpoint,
    });
    // The stack's schedule rule: the sweeper, every sweepSeconds, one run at a time.
    if (sweepSeconds > 0) {
      const ruleArn = `arn:aws:events:${region}:${accountId}:rule/${serviceFunctions.sweeper.name}`;
      const sweeps = everySeconds(sweepSeconds, () =>
        lambda.invoke(arns.sweeper, scheduledEvent(ruleArn, region, accountId)),
      );
      stops.push(sweeps.stop);
    }

    return {
      endpoints: { dynamodb: dynamodbEndpoint, sqs: sqs.endpoint, stepfunctions: stepFunctions.endpoint },
      functions: { acquire: arns.acquire, release: arns.release, count: arns.count, extend: arns.extend },
      tableName,
      requestTableName,
      ...queues,
      region,
      lambda,
      onExecutionStatusChange: (listener) => stepFunctions.onExecutionStatusChange(listener),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The function, reporting each invocation to `onInvoke` when there is one. */
function counted(
  definition: LocalFunctionDefinition,
  onInvoke?: (functionName: string) => void,
): LocalFunctionDefinition {
  const { handler } = definition;
  if (!onInvoke || !handler) return definition;
  return {
    ...definition,
    handler: (event, context) => {
      onInvoke(definition.name);
      return handler(event, context);
    },
  };
}

/** The retry queue and its dead-letter queue, as the stack creates them. */
async function createRetryQueues(endpoint: string) {
  const sqs = new SQSClient({ endpoint, region });
  try {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'dynamo-dlm-retry-dlq' }));
    const deadLetterQueueUrl = dlq.QueueUrl as string;
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const retry = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'dynamo-dlm-retry',
        Attributes: {
          // Six times the consumer's timeout, as AWS recommends for an event source.
          VisibilityTimeout: String(6 * serviceFunctions.retry.timeoutSeconds),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 5 }),
        },
      }),
    );
    return { retryQueueUrl: retry.QueueUrl as string, deadLetterQueueUrl };
  } finally {
    sqs.destroy();
  }
}

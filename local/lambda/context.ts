import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/**
 * The context a local handler receives: Lambda's `Context`, plus the function's configured
 * `environment`. In-process handlers share `process.env`, so the environment cannot be applied
 * while they run; it is only shown here.
 *
 * @example
 * const handler = async (event: unknown, context: Context) =>
 *   (context as LocalLambdaContext).environment.TABLE_NAME;
 */
export interface LocalLambdaContext extends Context {
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * What {@link createLambdaContext} needs to know about one invocation.
 *
 * @example
 * const input: ContextInput = { functionName: 'f', invokedFunctionArn: arn, memoryLimitInMB: 128,
 *   deadlineMs: Date.now() + 3000, environment: {}, settle: (error, result) => {} };
 */
export interface ContextInput {
  functionName: string;
  invokedFunctionArn: string;
  memoryLimitInMB: number;
  /** Epoch milliseconds at which the invocation times out. */
  deadlineMs: number;
  environment: Readonly<Record<string, string>>;
  /** How `done`/`fail`/`succeed` end the invocation, as they still do on Lambda. */
  settle(error: unknown, result?: unknown): void;
}

/**
 * Builds a real-looking Lambda context for one invocation.
 *
 * @example
 * const context = createLambdaContext({ functionName: 'f', invokedFunctionArn: arn,
 *   memoryLimitInMB: 128, deadlineMs: Date.now() + 3000, environment: {}, settle: () => {} });
 * context.getRemainingTimeInMillis(); // about 3000
 */
export function createLambdaContext(input: ContextInput): LocalLambdaContext {
  const { settle } = input;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: input.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: input.invokedFunctionArn,
    memoryLimitInMB: String(input.memoryLimitInMB),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${input.functionName}`,
    logStreamName: logStreamName(),
    environment: input.environment,
    getRemainingTimeInMillis: () => Math.max(0, input.deadlineMs - Date.now()),
    done: (error?: Error, result?: unknown) => settle(error ?? null, result),
    fail: (error: Error | string) => settle(error),
    succeed: (result: unknown) => settle(null, result),
  };
}

/** `2024/05/01/[$LATEST]` followed by 32 hex digits, like Lambda's stream names. */
function logStreamName(): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

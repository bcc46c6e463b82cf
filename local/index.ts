export { JavaMissingError } from './dynamodb/java.js';
export { type LocalDynamoDb, startDynamoDbLocal } from './dynamodb/start-dynamodb-local.js';
export { type LocalFunctionDefinition, LocalLambdaRuntime } from './lambda/index.js';
export { type LocalAws, type LocalAwsOptions, startLocalAws } from './start-local-aws.js';
export type { ExecutionStatusChangeEvent } from './stepfunctions/index.js';

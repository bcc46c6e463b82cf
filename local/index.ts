export { JavaMissingError } from './dynamodb/java.js';
export { type LocalDynamoDb, startDynamoDbLocal } from './dynamodb/start-dynamodb-local.js';
export { type LocalFunctionDefinition, LocalLambdaRuntime } from './lambda/index.js';
export { LocalPackagesMissingError } from './optional-packages.js';
export type { LocalAws, LocalAwsOptions } from './start-local-aws.js';
export { startLocalAws } from './start-local-aws-checked.js';
export type { ExecutionStatusChangeEvent } from './stepfunctions/index.js';

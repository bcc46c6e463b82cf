export type { LocalLambdaContext } from './context.js';
export { LambdaFunctionError, LambdaServiceError } from './errors.js';
export type { LocalFunctionDefinition, LocalHandler } from './local-function.js';
export type { LocalLogger } from './logger.js';
export { MetricLines, type MetricPoint, parseEmfLine } from './metric-lines.js';
export { LocalLambdaRuntime, type LocalLambdaRuntimeOptions, type SqsEventSourceHandle } from './runtime.js';
export { type BatchOutcome, batchOutcome, toSqsRecord } from './sqs-event.js';
export type { SqsEventSourceOptions } from './sqs-event-source-options.js';

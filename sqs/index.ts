/**
 * `dynamo-dlm/sqs`: a concurrency limit for SQS-triggered Lambda handlers, per key, shared by any
 * number of queues and functions, without sleeping and without pushing throttled messages toward
 * the dead-letter queue.
 *
 * @example
 * import { limitConcurrency } from 'dynamo-dlm/sqs';
 * export const handler = limitConcurrency(async (record) => work(record), { key: () => 'partner-api', concurrency: 3 });
 */
export { ResourceLimitMismatchError } from '../core/resource-limit.js';
export { attemptAttribute, throttleAttempts } from './attempts.js';
export { ConcurrencyLimitedError } from './errors.js';
export { limitConcurrency, type ThrottledSqsHandler } from './limit-concurrency.js';
export { limitRecordConcurrency, type PowertoolsRecordHandler } from './limit-record-concurrency.js';
export { type ConcurrencyLimitOptions, type ThrottleSqsClient, throttleDefaults } from './options.js';
export type { ThrottledRecordHandler } from './run-batch.js';

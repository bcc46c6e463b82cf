/**
 * `dynamo-dlm/sqs`: a concurrency limit (and a start rate) for SQS-triggered Lambda handlers, per key, shared by any
 * number of queues and functions, without sleeping and without pushing throttled messages toward
 * the dead-letter queue.
 *
 * @example
 * import { limitConcurrency } from 'dynamo-dlm/sqs';
 * export const handler = limitConcurrency(async (record) => work(record), { key: () => 'partner-api', concurrency: 3 });
 */
export type { Rate } from '../core/rate.js';
export { ResourceLimitMismatchError } from '../core/resource-limit.js';
export { attemptAttribute, throttleAttempts } from './attempts.js';
export { ConcurrencyLimitedError } from './errors.js';
export { limitConcurrency, type ThrottledSqsHandler } from './limit-concurrency.js';
export { limitRecordConcurrency, type PowertoolsRecordHandler } from './limit-record-concurrency.js';
export {
  type ConcurrencyLimitOptions,
  type RateLimitOptions,
  type ThrottleOptions,
  type ThrottleOptionsBase,
  type ThrottleSqsClient,
  throttleDefaults,
} from './options.js';
export type { RateLimitedRecordHandler, ThrottledRecordHandler } from './run-batch.js';

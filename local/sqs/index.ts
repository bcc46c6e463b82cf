export { type LocalSqs, type LocalSqsOptions, startLocalSqs } from './start-local-sqs.js';

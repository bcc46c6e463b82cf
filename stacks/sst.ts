/**
 * `dynamo-dlm/sst`: the service as one SST component, for another team's `sst.config.ts`. The
 * code runs inside SST's build of that config, which provides `$util`, `aws`, `sst` and `$app`.
 *
 * @example
 * // sst.config.ts, in run():
 * const { DynamoDlm } = await import('dynamo-dlm/sst');
 * const locks = new DynamoDlm('Locks');
 * new sst.aws.Function('Worker', { handler: 'src/worker.handler', link: [locks] });
 */
export {
  DynamoDlm,
  type DynamoDlmArgs,
  linkedTableActions,
  type StepFunctionArns,
  sweepSchedule,
} from './dynamo-dlm.js';
export { executionFailedPattern } from './event-rules.js';
export {
  type AcquireTaskOptions,
  acquireTask,
  countTask,
  extendTask,
  releaseTask,
  type WithLockTasksOptions,
  withLockTasks,
} from './sst-steps.js';
export type { DynamoDlmTransform, Transform } from './transform.js';

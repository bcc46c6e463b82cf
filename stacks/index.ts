import { defaultSourceRoot } from './bundle.js';
import { DynamoDlm } from './dynamo-dlm.js';
import { ExampleWorkflow } from './example.js';

export {
  DynamoDlm,
  type DynamoDlmArgs,
  executionFailedPattern,
  type StepFunctionArns,
  sweepSchedule,
} from './dynamo-dlm.js';
export { ExampleWorkflow, type ExampleWorkflowArgs } from './example.js';

/**
 * The settings of one `sst deploy`, read from its environment, so that each stage can have its
 * own: `DLM_TABLE_NAME` (default `dynamo_dlm_locks`), `DLM_EXISTING_TABLE=true` to use that table
 * as it is (e.g. shared with Python dynamo-dlm), `DLM_ALARM_TOPIC_ARN` for the dead-letter alarm.
 *
 * @example
 * DLM_TABLE_NAME=locks_dev npx sst deploy --stage dev
 */
export interface DeploySettings {
  tableName?: string;
  existingTable: boolean;
  alarmTopicArn?: string;
}

/** Reads `DeploySettings` from an environment. */
export function deploySettings(env: NodeJS.ProcessEnv = process.env): DeploySettings {
  const existing = env.DLM_EXISTING_TABLE ?? 'false';
  if (existing !== 'true' && existing !== 'false') {
    throw new TypeError(`Expected DLM_EXISTING_TABLE to be true or false, got ${JSON.stringify(existing)}`);
  }
  return {
    ...(env.DLM_TABLE_NAME ? { tableName: env.DLM_TABLE_NAME } : {}),
    existingTable: existing === 'true',
    ...(env.DLM_ALARM_TOPIC_ARN ? { alarmTopicArn: env.DLM_ALARM_TOPIC_ARN } : {}),
  };
}

/**
 * This repository's deployment: the service and the example workflow.
 *
 * @example
 * const { locks, example } = createService(deploySettings());
 */
export function createService(settings: DeploySettings = deploySettings()) {
  const sourceRoot = defaultSourceRoot();
  const locks = new DynamoDlm('Locks', {
    ...(settings.tableName ? { tableName: settings.tableName } : {}),
    existingTable: settings.existingTable,
    ...(settings.alarmTopicArn ? { alarmActions: [settings.alarmTopicArn] } : {}),
    sourceRoot,
  });
  const example = new ExampleWorkflow('Example', {
    service: locks,
    namePrefix: `${$app.name}-${$app.stage}`,
    sourceRoot,
  });
  return { locks, example };
}

/**
 * Deploys `createService` and returns the outputs `sst deploy` prints.
 *
 * @example
 * // sst.config.ts
 * async run() { return (await import('./stacks/index.js')).deployService(); }
 */
export function deployService(settings: DeploySettings = deploySettings()) {
  const { locks, example } = createService(settings);
  return {
    tableName: locks.tableName,
    retryQueueUrl: locks.retryQueue.url,
    deadLetterQueueUrl: locks.deadLetterQueue.url,
    acquireFunctionArn: locks.steps.acquire,
    releaseFunctionArn: locks.steps.release,
    countFunctionArn: locks.steps.count,
    extendFunctionArn: locks.steps.extend,
    retryFunctionArn: locks.functions.retry.function.arn,
    cleanupFunctionArn: locks.functions.cleanup.function.arn,
    sweeperFunctionArn: locks.functions.sweeper.function.arn,
    exampleStateMachineArn: example.stateMachine.arn,
  };
}

import { defaultSourceRoot } from './bundle.js';
import { DynamoDlm, defaultPrefix } from './dynamo-dlm.js';
import { ExampleWorkflow, exampleStateMachineName } from './example.js';

export {
  DynamoDlm,
  type DynamoDlmArgs,
  linkedTableActions,
  type StepFunctionArns,
  sweepSchedule,
} from './dynamo-dlm.js';
export { executionFailedPattern } from './event-rules.js';
export { ExampleWorkflow, type ExampleWorkflowArgs } from './example.js';
export type { DynamoDlmTransform, Transform } from './transform.js';

/**
 * The settings of one `sst deploy`, read from its environment, so that each stage can have its
 * own: `DLM_TABLE_NAME` (default `<app>-<stage>-locks`), `DLM_EXISTING_TABLE=true` to use that table
 * as it is (e.g. shared with Python dynamo-dlm), `DLM_ALARM_TOPIC_ARN` for the dead-letter alarm,
 * and `DLM_REMOVE_TABLES=true`, the one way to let `sst remove` delete the tables (README).
 *
 * @example
 * DLM_TABLE_NAME=locks_dev npx sst deploy --stage dev
 */
export interface DeploySettings {
  tableName?: string;
  existingTable: boolean;
  alarmTopicArn?: string;
  /** Deploy the tables without deletion protection and without retention, so a removal deletes them. */
  removeTables: boolean;
}

/** Reads `DeploySettings` from an environment. */
export function deploySettings(env: NodeJS.ProcessEnv = process.env): DeploySettings {
  return {
    ...(env.DLM_TABLE_NAME ? { tableName: env.DLM_TABLE_NAME } : {}),
    existingTable: flag(env, 'DLM_EXISTING_TABLE'),
    ...(env.DLM_ALARM_TOPIC_ARN ? { alarmTopicArn: env.DLM_ALARM_TOPIC_ARN } : {}),
    removeTables: flag(env, 'DLM_REMOVE_TABLES'),
  };
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = env[name] ?? 'false';
  if (value !== 'true' && value !== 'false') {
    throw new TypeError(`Expected ${name} to be true or false, got ${JSON.stringify(value)}`);
  }
  return value === 'true';
}

/**
 * This repository's deployment: the service and the example workflow.
 *
 * @example
 * const { locks, example } = createService(deploySettings());
 */
export function createService(settings: DeploySettings = deploySettings()) {
  const sourceRoot = defaultSourceRoot();
  const namePrefix = defaultPrefix();
  const locks = new DynamoDlm('Locks', {
    ...(settings.tableName ? { tableName: settings.tableName } : {}),
    existingTable: settings.existingTable,
    ...(settings.alarmTopicArn ? { alarmActions: [settings.alarmTopicArn] } : {}),
    // The example is this deployment's only caller: no other state machine's tasks are answered.
    callerStateMachineNames: [exampleStateMachineName(namePrefix)],
    ...(settings.removeTables ? { retainTable: false, deletionProtection: false } : {}),
    sourceRoot,
  });
  const example = new ExampleWorkflow('Example', { service: locks, namePrefix, sourceRoot });
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
    requestTableName: locks.requestTableName,
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

import type { FunctionSpec } from '../functions/catalog.js';
import { lockTable } from './table.js';

/** One statement of an IAM policy. */
export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
}

/** An IAM policy document. */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** The resolved ARNs a function's policy names. */
export interface PolicyResources {
  /** The lock table, shared with Python dynamo-dlm. */
  tableArn: string;
  /** The request table, which only these functions may read or write. */
  requestTableArn: string;
  retryQueueArn: string;
  logGroupArn: string;
  /**
   * The state machines whose tasks the function may answer. The Service Authorization Reference
   * lists no resource type for `SendTaskSuccess`/`Failure`/`Heartbeat` (which, by its own rule,
   * means `*`); Step Functions nevertheless authorizes them against the ARN of the state machine
   * that issued the task token (its AccessDenied names `...:stateMachine:<name>`, and CDK's
   * `grantTaskResponse` scopes to it). If AWS ever stopped doing so, this fails closed: answers
   * are refused and the tasks end by their own timeouts. See README, "IAM".
   */
  callerStateMachineArns: string[];
  /**
   * The executions whose status the function may ask (`states:DescribeExecution`), as a pattern:
   * every execution of the account in the region (`arn:<partition>:states:<region>:<account>:execution:*`).
   * Not narrowed to the caller state machines: the cleanup hears of every failed execution of the
   * account and must learn, for any of them, that it holds nothing here.
   */
  executionArns: string[];
}

/** What the retry queue's event source mapping does with the function's role. */
export const queueConsumerActions = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'];

/** The ARN of a table's global secondary index. */
export function indexArn(tableArn: string, indexName: string): string {
  return `${tableArn}/index/${indexName}`;
}

/**
 * The least-privilege policy of one function: its actions on each table's ARN, each index
 * query on that index's ARN, the retry queue's actions on that queue, task answers on the caller
 * state machines, `DescribeExecution` on the account's executions, and its own log group. No
 * wildcard action, no `*` resource.
 *
 * @example
 * functionPolicy(lockFunctions.count, resources);
 * // { Statement: [{ Sid: 'LockTable', Action: ['dynamodb:Query'], ... }, { Sid: 'RequestTable', ... }, ...] }
 */
export function functionPolicy(
  spec: FunctionSpec,
  resources: PolicyResources,
  options: { consumesRetryQueue?: boolean } = {},
): PolicyDocument {
  const statements: PolicyStatement[] = [];
  const allow = (Sid: string, Action: string[], Resource: string[]) =>
    statements.push({ Sid, Effect: 'Allow', Action, Resource });
  const itemActions = (actions: string[]) => actions.map((action) => `dynamodb:${action}`).sort();
  if (spec.table.length > 0) allow('LockTable', itemActions(spec.table), [resources.tableArn]);
  if (spec.requestTable.length > 0) {
    allow('RequestTable', itemActions(spec.requestTable), [resources.requestTableArn]);
  }
  const ownerIndexes = [
    ...(spec.ownerIndex ? [indexArn(resources.tableArn, lockTable.ownerIndex)] : []),
    ...(spec.requestOwnerIndex ? [indexArn(resources.requestTableArn, lockTable.ownerIndex)] : []),
  ];
  if (ownerIndexes.length > 0) allow('OwnerIndex', ['dynamodb:Query'], ownerIndexes);
  if (spec.requestDueIndex) {
    allow('DueIndex', ['dynamodb:Query'], [indexArn(resources.requestTableArn, lockTable.dueIndex)]);
  }
  const queueActions = [
    ...(spec.sendsRetries ? ['sqs:SendMessage'] : []),
    ...(options.consumesRetryQueue ? queueConsumerActions : []),
  ];
  if (queueActions.length > 0) allow('RetryQueue', queueActions.sort(), [resources.retryQueueArn]);
  if (spec.taskAnswers.length > 0) {
    allow(
      'AnswerTasks',
      spec.taskAnswers.map((action) => `states:${action}`),
      resources.callerStateMachineArns,
    );
  }
  if (spec.describesExecutions) {
    allow('DescribeExecutions', ['states:DescribeExecution'], resources.executionArns);
  }
  // The log group is created by the stack, so neither logs:CreateLogGroup nor a `*` resource.
  allow('Logs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [`${resources.logGroupArn}:*`]);
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * The policy of the example state machine: invoke exactly the functions its definition names.
 *
 * @example
 * invokePolicy([acquireArn, releaseArn, workArn]);
 */
export function invokePolicy(functionArns: string[]): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'InvokeSteps', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: functionArns },
    ],
  };
}

/** The trust policy that lets a service assume a role. */
export function assumedBy(service: 'lambda.amazonaws.com' | 'states.amazonaws.com'): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });
}

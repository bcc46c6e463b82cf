import type { FunctionSpec } from './functions.js';

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
  tableArn: string;
  ownerIndexArn: string;
  dueIndexArn: string;
  retryQueueArn: string;
  logGroupArn: string;
  /**
   * The state machines whose tasks the function may answer. `SendTask*` are evaluated against
   * the ARN of the state machine that issued the task token (an AccessDenied names
   * `...:stateMachine:<name>`), so a pattern of state machine ARNs scopes them.
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

/**
 * The least-privilege policy of one function: its table actions on the table's ARN, each index
 * query on that index's ARN, the retry queue's actions on that queue, task answers on the caller
 * state machines, `DescribeExecution` on the account's executions, and its own log group. No
 * wildcard action, no `*` resource.
 *
 * @example
 * functionPolicy(lockFunctions.count, resources); // { Statement: [{ Sid: 'LockTable', Action: ['dynamodb:Query'], ... }, ...] }
 */
export function functionPolicy(
  spec: FunctionSpec,
  resources: PolicyResources,
  options: { consumesRetryQueue?: boolean } = {},
): PolicyDocument {
  const statements: PolicyStatement[] = [];
  const allow = (Sid: string, Action: string[], Resource: string[]) =>
    statements.push({ Sid, Effect: 'Allow', Action, Resource });
  if (spec.table.length > 0) {
    allow('LockTable', spec.table.map((action) => `dynamodb:${action}`).sort(), [resources.tableArn]);
  }
  if (spec.ownerIndex) allow('OwnerIndex', ['dynamodb:Query'], [resources.ownerIndexArn]);
  if (spec.dueIndex) allow('DueIndex', ['dynamodb:Query'], [resources.dueIndexArn]);
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

import { type Transform, transformed } from './transform.js';

/** An EventBridge rule that invokes one function, and the permission that lets it. */
export interface FunctionRule {
  rule: aws.cloudwatch.EventRule;
  target: aws.cloudwatch.EventTarget;
  permission: aws.lambda.Permission;
}

/**
 * A rule (`<logicalName>Rule`) with its target and the Lambda permission for that rule alone,
 * so nothing but this rule may invoke the function through EventBridge.
 *
 * @example
 * ruleToFunction('LocksSweep', { name: 'p-sweeper', scheduleExpression: 'rate(1 minute)' }, sweeper, this);
 */
export function ruleToFunction(
  logicalName: string,
  ruleArgs: aws.cloudwatch.EventRuleArgs,
  fn: aws.lambda.Function,
  parent: $util.Resource,
  transform?: Transform<aws.cloudwatch.EventRuleArgs>,
): FunctionRule {
  const rule = new aws.cloudwatch.EventRule(
    ...transformed(transform, `${logicalName}Rule`, ruleArgs, { parent }),
  );
  const target = new aws.cloudwatch.EventTarget(
    `${logicalName}Target`,
    { rule: rule.name, arn: fn.arn },
    { parent },
  );
  const permission = new aws.lambda.Permission(
    `${logicalName}Permission`,
    {
      action: 'lambda:InvokeFunction',
      function: fn.name,
      principal: 'events.amazonaws.com',
      sourceArn: rule.arn,
    },
    { parent },
  );
  return { rule, target, permission };
}

/**
 * The EventBridge pattern of the executions whose locks the cleanup function frees: Step
 * Functions' events (only AWS may put `aws.*` sources) of this account, and, when the callers
 * are named, of those state machines only (`*` in an ARN is a wildcard, as in IAM).
 *
 * @example
 * executionFailedPattern('123456789012', ['arn:aws:states:eu-west-1:123456789012:stateMachine:orders-*']);
 */
export function executionFailedPattern(account: string, callerStateMachineArns?: string[]) {
  const stateMachineArn = callerStateMachineArns?.map((arn) => (arn.includes('*') ? { wildcard: arn } : arn));
  return {
    source: ['aws.states'],
    'detail-type': ['Step Functions Execution Status Change'],
    account: [account],
    detail: {
      status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
      ...(stateMachineArn ? { stateMachineArn } : {}),
    },
  };
}

/**
 * Whether a "Step Functions Execution Status Change" event could come from Step Functions for
 * this deployment. It is no proof (whoever may invoke the cleanup can write any payload, which is
 * why `DescribeExecution` decides what is freed); it stops what EventBridge would never route
 * here: another source (only AWS may put `aws.*` events), another account's bus, or, when the
 * stack names its callers, a state machine that is not one of them.
 */

/** The state machines whose events the cleanup heeds, set by the stack; absent: all of the account. */
export const callerStateMachinesVariable = 'DLM_CALLER_STATE_MACHINE_ARNS';

/** The fields of the event this check reads. */
export interface StatusEventOrigin {
  source?: unknown;
  account?: unknown;
  detail?: { stateMachineArn?: unknown } | null;
}

/**
 * Why the event is not one Step Functions sent to this function, or undefined when it may be.
 * The function's own account is the fifth field of the ARN it was invoked by.
 *
 * @example
 * const why = foreignEventReason(event, context.invokedFunctionArn);
 * if (why) return logger.warn('ignored a status event', { why });
 */
export function foreignEventReason(
  event: StatusEventOrigin,
  invokedFunctionArn: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (event.source !== 'aws.states') return `its source is ${JSON.stringify(event.source)}, not aws.states`;
  const ownAccount = invokedFunctionArn?.split(':')[4];
  if (!ownAccount) return 'the function does not know its own account (no invokedFunctionArn)';
  if (event.account !== ownAccount)
    return `its account ${JSON.stringify(event.account)} is not ${ownAccount}`;
  const callers = (env[callerStateMachinesVariable] ?? '').split(',').filter((arn) => arn !== '');
  if (callers.length === 0) return undefined;
  const machine = event.detail?.stateMachineArn;
  if (typeof machine === 'string' && callers.some((pattern) => matchesArnPattern(pattern, machine))) {
    return undefined;
  }
  return `its state machine ${JSON.stringify(machine)} is not a caller of this deployment`;
}

/** IAM's and EventBridge's wildcard rule: `*` matches any run of characters, nothing else is special. */
function matchesArnPattern(pattern: string, arn: string): boolean {
  const literal = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${literal.join('.*')}$`).test(arn);
}

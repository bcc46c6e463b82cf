import { SfnError } from './errors.js';

/**
 * Where the local endpoint pretends to live; part of every ARN it makes.
 *
 * @example
 * const scope: ArnScope = { region: 'us-east-1', accountId: '000000000000' };
 */
export interface ArnScope {
  region: string;
  accountId: string;
}

/**
 * The ARN of a state machine.
 *
 * @example
 * stateMachineArn(scope, 'orders'); // 'arn:aws:states:us-east-1:000000000000:stateMachine:orders'
 */
export function stateMachineArn(scope: ArnScope, name: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:stateMachine:${name}`;
}

/**
 * The ARN of an execution.
 *
 * @example
 * executionArn(scope, 'orders', 'run-1'); // 'arn:aws:states:us-east-1:000000000000:execution:orders:run-1'
 */
export function executionArn(scope: ArnScope, machineName: string, name: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:execution:${machineName}:${name}`;
}

const ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:(stateMachine|execution):([^:]+)(?::([^:]+))?$/;

/**
 * Checks that `arn` is a well-formed ARN of the given kind, so a malformed one answers `InvalidArn`
 * (as AWS does) rather than "does not exist".
 *
 * @example
 * assertArn('arn:aws:states:us-east-1:000000000000:execution:orders:run-1', 'execution');
 * assertArn('nope', 'execution'); // throws SfnError InvalidArn
 */
export function assertArn(arn: string, kind: 'stateMachine' | 'execution'): void {
  const match = ARN.exec(arn);
  const ok =
    match && match[1] === kind && (kind === 'execution' ? match[3] !== undefined : match[3] === undefined);
  if (!ok) throw new SfnError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${arn}'`);
}

// AWS's documented rule for state machine and execution names.
const FORBIDDEN_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\p{Cc}]/u;

/**
 * Checks a state machine or execution name as AWS does (1..80 characters, no whitespace,
 * brackets, wildcards, punctuation from the forbidden list or control characters).
 *
 * @example
 * assertName('run-1'); // ok
 * assertName('run 1'); // throws SfnError InvalidName
 */
export function assertName(name: string): void {
  if (name.length === 0 || name.length > 80 || FORBIDDEN_NAME.test(name)) {
    throw new SfnError('InvalidName', `Invalid Name: '${name}'`);
  }
}

import { hostname, userInfo } from 'node:os';
import { UsageError } from './usage.js';

/**
 * The operator's identity when no `--forced-by` / `--set-by` is given: `user@host`.
 *
 * @example
 * defaultOperator(); // 'alice@ops-laptop'
 */
export function defaultOperator(): string {
  return `${userInfo().username}@${hostname()}`;
}

/**
 * Who an override is recorded as (a forced release, a limit): a name an operator can be found
 * by, `user@host` by default. Printable ASCII only, as it is printed back by `dlm status`.
 *
 * @example
 * operatorFrom('alice (INC-123)', '--forced-by'); // 'alice (INC-123)'
 */
export function operatorFrom(value: string | undefined, option: string): string {
  if (value === undefined) return defaultOperator();
  if (!/^[\x21-\x7e][\x20-\x7e]{0,255}$/.test(value)) {
    throw new UsageError(
      `${option} must be 1 to 256 printable ASCII characters, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

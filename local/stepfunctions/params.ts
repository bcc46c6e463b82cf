import { SfnError } from './errors.js';

/**
 * A parsed request body of the JSON 1.0 protocol.
 *
 * @example
 * const body: Body = { stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:orders' };
 */
export type Body = Record<string, unknown>;

function invalid(key: string, constraint: string, value: unknown): SfnError {
  const shown = value === undefined ? 'null' : `'${String(value).slice(0, 64)}'`;
  return new SfnError(
    'ValidationException',
    `1 validation error detected: Value ${shown} at '${key}' failed to satisfy constraint: ${constraint}`,
  );
}

/**
 * An optional string member, checked against AWS's length limit (UTF-8 bytes where AWS says so).
 *
 * @example
 * optionalString(body, 'cause', 32768); // string | undefined
 */
export function optionalString(
  body: Body,
  key: string,
  maxLength: number,
  bytes = false,
): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(key, 'Member must be a string', value);
  const length = bytes ? Buffer.byteLength(value) : value.length;
  if (length > maxLength)
    throw invalid(key, `Member must have length less than or equal to ${maxLength}`, value);
  return value;
}

/**
 * A required string member of at least one character.
 *
 * @example
 * requiredString(body, 'taskToken', 2048);
 */
export function requiredString(body: Body, key: string, maxLength: number, bytes = false): string {
  const value = optionalString(body, key, maxLength, bytes);
  if (value === undefined) throw invalid(key, 'Member must not be null', value);
  if (value.length === 0) throw invalid(key, 'Member must have length greater than or equal to 1', value);
  return value;
}

/**
 * An optional integer member within `[min, max]`.
 *
 * @example
 * optionalInteger(body, 'maxResults', 0, 1000); // number | undefined
 */
export function optionalInteger(body: Body, key: string, min: number, max: number): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(key, `Member must be an integer between ${min} and ${max}`, value);
  }
  return value;
}

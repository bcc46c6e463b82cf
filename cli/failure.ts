import { LockStoreError } from '../core/errors.js';

/**
 * One line that says what went wrong with a DynamoDB call, in words an operator can act on.
 * Secrets never appear: the SDK's messages carry no credentials, and the CLI sends no release
 * code or task token in a request it could echo.
 *
 * @example
 * describeFailure(error, { tableName: 'dynamo_dlm_locks', where: 'http://localhost:8000' });
 * // 'table dynamo_dlm_locks not found at http://localhost:8000'
 */
export function describeFailure(error: unknown, context: { tableName: string; where: string }): string {
  // The lock operations wrap what DynamoDB said; the original error names the problem.
  const cause = error instanceof LockStoreError && error.cause instanceof Error ? error.cause : error;
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as Error & { code?: string }).code;
  switch (cause.name) {
    case 'ResourceNotFoundException':
      return `table ${context.tableName} not found at ${context.where}`;
    case 'CredentialsProviderError':
      return `no AWS credentials (${cause.message}); configure a profile or AWS_ACCESS_KEY_ID`;
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'ExpiredTokenException':
      return `access denied by ${context.where}: ${cause.message}`;
  }
  if (/region is missing/i.test(cause.message)) return 'no AWS region: pass --region or set AWS_REGION';
  if (code !== undefined && /^E[A-Z]+$/.test(code))
    return `cannot reach DynamoDB at ${context.where} (${code})`;
  return `${cause.name}: ${cause.message.split('\n')[0]}`;
}

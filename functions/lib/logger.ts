import { Logger } from '@aws-lambda-powertools/logger';

/** Structured JSON logs (Powertools); the level comes from `POWERTOOLS_LOG_LEVEL`. */
export const logger = new Logger({ serviceName: 'dynamo-dlm' });

/**
 * A task token is a bearer credential: logs carry only its last 8 characters.
 *
 * @example
 * logger.info('granted', { task: tokenHint(taskToken) });
 */
export function tokenHint(taskToken: string): string {
  return `…${taskToken.slice(-8)}`;
}

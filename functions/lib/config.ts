import { defaults } from '../../core/defaults.js';
import { requestTableNameFor } from '../../core/waiting/waiting-store.js';

/** The functions' settings, from their environment (set by the stack, or by the local AWS). */
export interface FunctionConfig {
  tableName: string;
  /** The table of waiting requests, which only the functions' roles may read and write. */
  requestTableName: string;
  retryQueueUrl: string | undefined;
  /** Back-off of the retry loop, in seconds: full jitter in [0, min(cap, base * 2^attempt)]. */
  retryBaseSeconds: number;
  retryCapSeconds: number;
  /** Whether a release hands the slot to the oldest waiter at once (default); off leaves it to the retry loop. */
  handoff: boolean;
}

/** SQS message timers end at 15 minutes. */
export const maxDelaySeconds = 900;

/**
 * Reads the configuration from `process.env` at call time (tests and the local AWS set it late).
 *
 * @example
 * const { tableName } = readConfig();
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): FunctionConfig {
  const base = positiveNumber(env.DLM_RETRY_BASE_SECONDS, 1, 'DLM_RETRY_BASE_SECONDS');
  const cap = positiveNumber(env.DLM_RETRY_CAP_SECONDS, 60, 'DLM_RETRY_CAP_SECONDS');
  if (cap > maxDelaySeconds)
    throw new Error(`DLM_RETRY_CAP_SECONDS must be at most ${maxDelaySeconds}, got ${cap}`);
  const tableName = env.DLM_TABLE_NAME || defaults.tableName;
  return {
    tableName,
    requestTableName: env.DLM_REQUEST_TABLE_NAME || requestTableNameFor(tableName),
    retryQueueUrl: env.DLM_RETRY_QUEUE_URL || undefined,
    retryBaseSeconds: base,
    retryCapSeconds: cap,
    handoff: env.DLM_HANDOFF !== 'off',
  };
}

function positiveNumber(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number of seconds, got "${raw}"`);
  return value;
}

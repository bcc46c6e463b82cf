/**
 * Module-wide defaults, read when a lock is created; change them once at start-up, as with
 * Python dynamo-dlm's `DEFAULT_TABLE_NAME` and `DEFAULT_DURATION`.
 *
 * @example
 * import { defaults } from 'dynamo-dlm';
 * defaults.tableName = 'locks';
 * defaults.duration = 30; // seconds
 */
export const defaults: { tableName: string; duration: number } = {
  tableName: 'dynamo_dlm_locks',
  duration: 10,
};

/** Limits shared by the library, the workflow steps and the SQS throttle. */
export const limits = {
  resourceIdMaxBytes: 1024,
  /** The owner is a key of the owner index: at most this many bytes of UTF-8. */
  ownerMaxBytes: 1024,
  concurrencyMax: 1000,
  durationMaxSeconds: 43_200,
} as const;

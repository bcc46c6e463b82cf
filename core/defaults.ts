/**
 * Module-wide defaults, read when a lock is created; change them once at start-up, as with
 * Python dynamo-dlm's `DEFAULT_TABLE_NAME` and `DEFAULT_DURATION`.
 *
 * @example
 * import { defaults } from 'dynamo-dlm';
 * defaults.tableName = 'locks';
 * defaults.duration = 30; // seconds
 */
export const defaults: { tableName: string; duration: number; maxClockSkewMs: number } = {
  tableName: 'dynamo_dlm_locks',
  duration: 10,
  /**
   * The most that two clients' clocks may differ, in ms: a holder is told a lease that ends this
   * much before the end stored for the others, so that no taker whose clock runs up to this much
   * ahead finds the slot free while the holder still believes it holds it. 100 ms: EC2 and Lambda
   * keep time with the Amazon Time Sync Service, within a few milliseconds of UTC; a host that
   * syncs with public NTP over the internet is typically within 10 to 50 ms; 100 covers both
   * with room. Raise it for clients whose clocks are less well kept. A lock whose lease is
   * shorter than ten times this uses a tenth of its lease instead (set the lock's own
   * `maxClockSkewMs` to go beyond); the SQS throttle adds it to its leases as it is.
   */
  maxClockSkewMs: 100,
};

/** Limits shared by the library, the workflow steps and the SQS throttle. */
export const limits = {
  resourceIdMaxBytes: 1024,
  /** The owner is a key of the owner index: at most this many bytes of UTF-8. */
  ownerMaxBytes: 1024,
  concurrencyMax: 1000,
  durationMaxSeconds: 43_200,
} as const;

import { LockError } from '../core/errors.js';

/**
 * Thrown by a record handler from {@link limitRecordConcurrency} for a FIFO record that found no
 * free slot (it was hidden for `delaySeconds`), or a standard-queue record that could not be
 * re-queued: Powertools' batch processor then reports it in `batchItemFailures`.
 *
 * @example
 * catch (error) { if (error instanceof ConcurrencyLimitedError) console.log(error.key, error.delaySeconds); }
 */
export class ConcurrencyLimitedError extends LockError {
  override name = 'ConcurrencyLimitedError';
  constructor(
    readonly key: string,
    readonly delaySeconds: number,
    options?: ErrorOptions,
  ) {
    super(`No free slot for "${key}"; the message returns in about ${delaySeconds} s`, options);
  }
}

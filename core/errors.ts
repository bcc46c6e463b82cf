/**
 * Base class of every error this package throws on purpose.
 *
 * @example
 * try { await lock.acquire({ timeoutMs: 1000 }); } catch (error) { if (error instanceof LockError) ... }
 */
export class LockError extends Error {
  override name = 'LockError';
}

/**
 * An acquire did not get a slot before its deadline (or its signal aborted it).
 *
 * @example
 * catch (error) { if (error instanceof LockTimeoutError) console.log(error.waitedMs); }
 */
export class LockTimeoutError extends LockError {
  override name = 'LockTimeoutError';
  constructor(
    readonly resourceId: string,
    readonly waitedMs: number,
    options?: ErrorOptions,
  ) {
    super(`Could not acquire "${resourceId}" within ${waitedMs} ms`, options);
  }
}

/**
 * The lease is gone: it expired and another holder took the slot, or it was released.
 * Raised by `extend`; whatever the caller protects may already be used by someone else.
 *
 * @example
 * catch (error) { if (error instanceof LockLostError) abortTheWork(); }
 */
export class LockLostError extends LockError {
  override name = 'LockLostError';
  constructor(
    readonly resourceId: string,
    /** The slot whose lease was lost; undefined when the object held no lease at all. */
    readonly concurrencyId: number | undefined,
    options?: ErrorOptions,
  ) {
    super(
      concurrencyId === undefined
        ? `No lease on "${resourceId}" is held by this object (never acquired, or released)`
        : `The lease on "${resourceId}" slot ${concurrencyId} was lost (expired and taken, or released)`,
      options,
    );
  }
}

/**
 * `withLock` aborts its function's signal with this when the lease is about to end and will not be
 * renewed: no `refreshMs` was set, or a refresh failed for a reason other than a lost lease (the
 * `cause`; the lease may still hold, but nothing keeps it alive). Raised before `expiresAtMs`, so the
 * function can stop while the slot is still its own.
 *
 * @example
 * await withLock('report', {}, async (lease, signal) => { signal.throwIfAborted(); }); // LeaseEndingError near the end
 */
export class LeaseEndingError extends LockError {
  override name = 'LeaseEndingError';
  constructor(
    readonly resourceId: string,
    readonly concurrencyId: number,
    /** The lease end, epoch milliseconds. */
    readonly expiresAtMs: number,
    options?: ErrorOptions,
  ) {
    super(
      options?.cause === undefined
        ? `The lease on "${resourceId}" slot ${concurrencyId} ends at ${new Date(expiresAtMs).toISOString()} and is not refreshed (set refreshMs to keep it)`
        : `The lease on "${resourceId}" slot ${concurrencyId} ends at ${new Date(expiresAtMs).toISOString()}: its refresh failed (${describeCause(options.cause)})`,
      options,
    );
  }
}

/**
 * An option or argument is out of its allowed range; the message names the field.
 * Thrown before any request is sent.
 *
 * @example
 * new DynamoDbLock('x', { concurrency: 0 }); // InvalidLockOptionError: Expected `concurrency` to be an integer from 1 to 1000, got 0
 */
export class InvalidLockOptionError extends TypeError {
  override name = 'InvalidLockOptionError';
  constructor(
    readonly field: string,
    expected: string,
    readonly value: unknown,
  ) {
    super(`Expected \`${field}\` to be ${expected}, got ${describe(value)}`);
  }
}

/**
 * DynamoDB failed in a way retries did not cure (access denied, missing table, throttling past
 * the deadline). The SDK error is the `cause`.
 *
 * @example
 * catch (error) { if (error instanceof LockStoreError) console.error(error.cause); }
 */
export class LockStoreError extends LockError {
  override name = 'LockStoreError';
  /** True when DynamoDB kept throttling the call: it was refused, so nothing of it landed. */
  readonly throttled: boolean;
  constructor(message: string, options?: ErrorOptions & { throttled?: boolean }) {
    super(message, options);
    this.throttled = options?.throttled ?? false;
  }
}

/**
 * `acquire()` on a lock object that already holds a lease; release it first, or use another object.
 *
 * @example
 * await lock.acquire(); await lock.acquire(); // LockAlreadyHeldError
 */
export class LockAlreadyHeldError extends LockError {
  override name = 'LockAlreadyHeldError';
  constructor(
    readonly resourceId: string,
    /** True when the object was still acquiring (one object holds one lease at a time). */
    readonly acquiring = false,
  ) {
    super(
      acquiring
        ? `This DynamoDbLock is already acquiring "${resourceId}"; one object holds one lease at a time (use one object per concurrent holder)`
        : `This DynamoDbLock already holds "${resourceId}"; release it before acquiring again`,
    );
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 40 ? `a string of ${Buffer.byteLength(value)} bytes` : JSON.stringify(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return typeof value;
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  busyHere,
  heldHere,
  markWriting,
  noteReleased,
  recallHint,
  rememberFreed,
  rememberHint,
  spokenFor,
  takeFreed,
} from './contention-hints.js';
import { defaults } from './defaults.js';
import { InvalidLockOptionError, LockAlreadyHeldError, LockLostError, LockTimeoutError } from './errors.js';
import type { Holder, Lease } from './lease.js';
import { type AcquireBackoff, acquireLease, type ProcessNeighbours } from './operations/acquire.js';
import { acquirePermits } from './operations/acquire-permits.js';
import { extendSlot } from './operations/extend-slot.js';
import { readHolders } from './operations/read-slots.js';
import { releaseLease } from './operations/release-slot.js';
import { type Rate, type RateCell, rateCell, readRateState, validateRate } from './rate.js';
import { newReleaseCode } from './release-code.js';
import { type Clock, consoleLogger, type LockClient, type LockLogger, type LockStore } from './store.js';
import {
  validateBackoff,
  validateCallable,
  validateClockSkew,
  validateConcurrency,
  validateDuration,
  validateKnownOptions,
  validateOwner,
  validatePermits,
  validateResourceId,
  validateTableName,
  validateTimeoutMs,
} from './validate.js';

/** Options of `new DynamoDbLock(resourceId, options)`; all optional. */
export interface DynamoDbLockOptions {
  /** How many holders at once (a counting semaphore); 1 makes a mutex. Default 1. */
  concurrency?: number;
  /** Lease length in seconds, fractions allowed, at most 43200. Default `defaults.duration` (10). */
  duration?: number;
  /** Default `defaults.tableName` (`dynamo_dlm_locks`). */
  tableName?: string;
  /** A DynamoDB client; default `new DynamoDBClient({})` (region and endpoint from the environment). */
  client?: LockClient;
  /**
   * Stored with the lease for `holders()` and the `dlm` CLI. Default: none. The attribute is the
   * key of the `owner-index` (which finds a failed workflow's slots), so on AWS setting it costs
   * one index write per acquire.
   */
  owner?: string;
  /** Where throttling and lost-lease warnings go. Default: stderr. */
  logger?: LockLogger;
  /** Waiting between attempts in `acquire`. Default base 25 ms, cap 1000 ms, full jitter. */
  backoff?: Partial<AcquireBackoff>;
  /** Epoch milliseconds; for tests that need to stand on a lease boundary. Default `Date.now`. */
  clock?: Clock;
  /**
   * The most that the clocks of this lock's clients may differ, in ms. The lease this object
   * reports (`acquire`, `extend`, `lease`) ends this much before the end stored for the others:
   * stop the protected work by `lease.expiresAtMs`. Whole ms below the lease's length. Default
   * `defaults.maxClockSkewMs` (100), but at most a tenth of the lease.
   */
  maxClockSkewMs?: number;
  /**
   * At most `limit` grants per `periodSeconds` on this resource, up to `burst` at once (GCRA,
   * counted in the same transaction as the grant, when granted). Every client of the resource
   * should pass the same rate; Python dynamo-dlm clients ignore it. Default: no rate.
   */
  rate?: Rate;
  /** How many of the `concurrency` slots one acquire takes, all or none (1..concurrency). Default 1. */
  permits?: number;
}

/** Options of `acquire()`. */
export interface AcquireOptions {
  /** Give up after this many milliseconds with `LockTimeoutError`. Default: wait for ever, like dynamo-dlm. */
  timeoutMs?: number;
  /** Abort the wait; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Every option of `DynamoDbLockOptions`, to refuse misspelt ones. */
const lockOptionNames = [
  'concurrency',
  'duration',
  'tableName',
  'client',
  'owner',
  'logger',
  'backoff',
  'clock',
  'maxClockSkewMs',
  'rate',
  'permits',
] as const;

const defaultBackoff: AcquireBackoff = { baseMs: 25, capMs: 1_000 };
let sharedClient: DynamoDBClient | undefined;

/**
 * A distributed lock with `concurrency` slots on one resource, stored in DynamoDB in the table
 * layout of Python dynamo-dlm v2, so Node and Python processes honour the same locks.
 * One object holds at most one lease at a time.
 *
 * @example
 * const lock = new DynamoDbLock('partner-api', { concurrency: 2, duration: 30 });
 * await lock.acquire({ timeoutMs: 60_000 });
 * try { await callPartner(); } finally { await lock.release(); }
 */
export class DynamoDbLock implements AsyncDisposable {
  readonly resourceId: string;
  readonly concurrency: number;
  readonly duration: number;
  readonly tableName: string;
  readonly owner: string | undefined;
  /** How much earlier than its stored end this object's lease is reported to end (ms). */
  readonly maxClockSkewMs: number;
  /** The start rate, with its burst filled in; undefined when the lock has none. */
  readonly rate: Required<Rate> | undefined;
  /** Slots taken by one acquire. */
  readonly permits: number;
  readonly #rateCell: RateCell | undefined;
  /** The rate's TAT as this object last knew it (µs): guesses the form of the next update. */
  #lastTatUs: number | undefined;
  readonly #store: LockStore;
  readonly #backoff: AcquireBackoff;
  /** The other objects of this process on this resource, as the process's hints know them. */
  readonly #neighbours: ProcessNeighbours = {
    takeFreed: () => takeFreed(this.tableName, this.resourceId),
    spokenFor: (concurrencyId, readStartedMs) =>
      spokenFor(this.tableName, this.resourceId, concurrencyId, readStartedMs),
    markWriting: (concurrencyId) => markWriting(this.tableName, this.resourceId, concurrencyId),
    busy: (concurrencyId) => busyHere(this.tableName, this.resourceId, concurrencyId),
  };
  #lease: Lease | undefined;
  #acquiring = false;
  /** The slot held last and its token there: tried first next time, above that token. */
  #lastSlot: { concurrencyId: number; fencingToken: number } | undefined;
  #lastAcquireContended = false;
  #blindFirst = false;

  constructor(resourceId: string, options: DynamoDbLockOptions = {}) {
    validateKnownOptions(options, lockOptionNames);
    this.resourceId = validateResourceId(resourceId);
    this.concurrency = validateConcurrency(options.concurrency ?? 1);
    this.duration = validateDuration(options.duration ?? defaults.duration);
    this.tableName = validateTableName(options.tableName ?? defaults.tableName);
    this.owner = validateOwner(options.owner);
    this.permits = validatePermits(options.permits ?? 1, this.concurrency);
    this.rate = options.rate === undefined ? undefined : validateRate(options.rate);
    this.#rateCell = this.rate && rateCell(this.rate);
    const durationMs = Math.round(this.duration * 1000);
    // A short lease keeps most of itself: the module default takes at most a tenth of it.
    this.maxClockSkewMs =
      options.maxClockSkewMs === undefined
        ? Math.min(
            validateClockSkew(defaults.maxClockSkewMs, Infinity, 'defaults.maxClockSkewMs'),
            Math.floor(durationMs / 10),
          )
        : validateClockSkew(options.maxClockSkewMs, durationMs);
    this.#backoff = validateBackoff({ ...defaultBackoff, ...options.backoff });
    if (options.client !== undefined) validateCallable(options.client, 'client', 'send');
    if (options.clock !== undefined) validateCallable(options.clock, 'clock');
    if (options.logger !== undefined) validateCallable(options.logger, 'logger', 'warn');
    sharedClient ??= options.client ? undefined : new DynamoDBClient({});
    this.#store = {
      client: options.client ?? (sharedClient as DynamoDBClient),
      tableName: this.tableName,
      clock: options.clock ?? Date.now,
      logger: options.logger ?? consoleLogger,
    };
  }

  /** The lease this object holds, or undefined; it ends `maxClockSkewMs` before its stored end. */
  get lease(): Lease | undefined {
    return this.#lease && this.#toldOf(this.#lease);
  }

  /**
   * The lease as its holder is told it: ending `maxClockSkewMs` early. A client whose clock runs
   * that much ahead takes the slot by the stored end, and only then (its `expires_ms < now`).
   * The object keeps the stored lease, which release and extend identify by code and token.
   */
  #toldOf(stored: Lease): Lease {
    return { ...stored, expiresAtMs: stored.expiresAtMs - this.maxClockSkewMs };
  }

  /**
   * Waits until a slot is free and takes it. Rejects with `LockTimeoutError` after `timeoutMs`,
   * with the signal's reason when it aborts, `LockAlreadyHeldError` if this object holds a lease
   * or is acquiring one (one object, one lease: use an object per concurrent holder).
   *
   * @example
   * const lease = await lock.acquire({ timeoutMs: 5_000 });
   */
  async acquire(options: AcquireOptions = {}): Promise<Lease> {
    const timeoutMs = validateTimeoutMs(options.timeoutMs ?? Number.POSITIVE_INFINITY);
    if (this.#lease) throw new LockAlreadyHeldError(this.resourceId);
    // Set before the first await: a second call meanwhile would take a second slot, whose lease
    // this object could never release (it keeps one).
    if (this.#acquiring) throw new LockAlreadyHeldError(this.resourceId, true);
    options.signal?.throwIfAborted();
    this.#acquiring = true;
    try {
      return await this.#take(timeoutMs, options.signal);
    } finally {
      this.#acquiring = false;
    }
  }

  async #take(timeoutMs: number, signal: AbortSignal | undefined): Promise<Lease> {
    const deadlineMs = this.#store.clock() + timeoutMs;
    // Throttling is not retried past the caller's deadline (tryAcquire's is now).
    const store = Number.isFinite(deadlineMs)
      ? { ...this.#store, throttledUntilMs: deadlineMs }
      : this.#store;
    // This object's own history first; a fresh object learns from the process's last acquire.
    // A slot another object of this process just released is the best guess for a blind write.
    const hint = this.#lastSlot === undefined ? recallHint(this.tableName, this.resourceId) : undefined;
    const freed = hint ? takeFreed(this.tableName, this.resourceId) : undefined;
    // The process's last slot is a poor guess while another object of this process still holds it.
    const lastHeldHere =
      hint !== undefined && heldHere(this.tableName, this.resourceId, hint.lastSlot.concurrencyId);
    const expectContention =
      !this.#blindFirst &&
      freed === undefined &&
      (this.#lastAcquireContended || (hint?.contended ?? false) || lastHeldHere);
    const writeFirst = this.#blindFirst;
    this.#blindFirst = false;
    const preferredSlot = this.#lastSlot ?? freed ?? hint?.lastSlot;
    // A rate or several permits take a transaction; the plain lock keeps its single write.
    const outcome =
      this.#rateCell !== undefined || this.permits > 1
        ? await acquirePermits(store, {
            resourceId: this.resourceId,
            concurrency: this.concurrency,
            permits: this.permits,
            releaseCode: newReleaseCode(),
            durationMs: Math.round(this.duration * 1000),
            ...(this.owner === undefined ? {} : { owner: this.owner }),
            ...(this.#rateCell === undefined ? {} : { rate: this.#rateCell }),
            ...(this.#lastTatUs === undefined ? {} : { lastTatUs: this.#lastTatUs }),
            ...(preferredSlot === undefined ? {} : { preferredSlot }),
            expectContention,
            deadlineMs,
            backoff: this.#backoff,
            ...(signal ? { signal } : {}),
          })
        : await acquireLease(store, {
            resourceId: this.resourceId,
            concurrency: this.concurrency,
            releaseCode: newReleaseCode(),
            durationMs: Math.round(this.duration * 1000),
            ...(this.owner === undefined ? {} : { owner: this.owner }),
            ...(preferredSlot === undefined ? {} : { preferredSlot }),
            expectContention,
            writeFirst,
            deadlineMs,
            backoff: this.#backoff,
            neighbours: this.#neighbours,
            ...(signal ? { signal } : {}),
          });
    if ('tatUs' in outcome && typeof outcome.tatUs === 'number') this.#lastTatUs = outcome.tatUs;
    this.#lastAcquireContended = outcome.contended;
    const { concurrencyId, fencingToken } = outcome.lease;
    this.#lastSlot = { concurrencyId, fencingToken };
    rememberHint(this.tableName, this.resourceId, { contended: outcome.contended, lastSlot: this.#lastSlot });
    this.#lease = outcome.lease;
    return this.#toldOf(outcome.lease);
  }

  /**
   * Takes a slot if one is free now; answers false otherwise. Contention is a result, not an error.
   *
   * @example
   * if (await lock.tryAcquire()) { try { await work(); } finally { await lock.release(); } }
   */
  async tryAcquire(): Promise<boolean> {
    if (this.#lease || this.#acquiring) return false;
    try {
      // A free slot is taken by the blind write alone: tryAcquire never reads first.
      this.#blindFirst = true;
      await this.acquire({ timeoutMs: 0 });
      return true;
    } catch (error) {
      if (error instanceof LockTimeoutError) return false;
      throw error;
    }
  }

  /**
   * Frees the slot. Answers false, logs a warning and leaves the new holder alone when the lease
   * had expired and was taken by another; answers false at once when nothing is held. Safe to call twice.
   *
   * @example
   * await lock.release();
   */
  async release(): Promise<boolean> {
    const lease = this.#lease;
    if (!lease) return false;
    // Every permit is freed on its own conditional write: one taken over leaves the others free.
    const released = (
      await Promise.all(
        (lease.slots ?? [lease]).map((hold) => releaseLease(this.#store, { ...lease, ...hold })),
      )
    ).every(Boolean);
    this.#lease = undefined;
    noteReleased(this.tableName, this.resourceId, lease.concurrencyId);
    if (released)
      rememberFreed(this.tableName, this.resourceId, {
        concurrencyId: lease.concurrencyId,
        fencingToken: lease.fencingToken,
      });
    if (!released) {
      this.#store.logger.warn(
        'release found the lease taken by another holder: it had expired before release; the new holder keeps it',
        { resourceId: this.resourceId, concurrencyId: lease.concurrencyId },
      );
    }
    return released;
  }

  /**
   * Moves the lease end to `seconds` from now (default: the lock's duration).
   * Rejects with `LockLostError` if the lease was released or taken by another.
   *
   * @example
   * await lock.extend(60);
   */
  async extend(seconds: number = this.duration): Promise<Lease> {
    const durationMs = Math.round(validateDuration(seconds, 'seconds') * 1000);
    // The holder's lease ends the clock bound early: an extension within it would end at once.
    if (durationMs <= this.maxClockSkewMs)
      throw new InvalidLockOptionError(
        'seconds',
        `longer than maxClockSkewMs (${this.maxClockSkewMs} ms)`,
        seconds,
      );
    const lease = this.#lease;
    if (!lease) throw new LockLostError(this.resourceId, undefined);
    try {
      const extended = await Promise.all(
        (lease.slots ?? [lease]).map((hold) => extendSlot(this.#store, { ...lease, ...hold }, durationMs)),
      );
      this.#lease = { ...lease, expiresAtMs: Math.min(...extended.map((slot) => slot.expiresAtMs)) };
      return this.#toldOf(this.#lease);
    } catch (error) {
      if (error instanceof LockLostError) this.#lease = undefined;
      throw error;
    }
  }

  /**
   * How many unexpired holders the resource has now (consistent read).
   *
   * @example
   * console.log(`${await lock.count()} of ${lock.concurrency} slots in use`);
   */
  async count(): Promise<number> {
    return (await this.holders()).length;
  }

  /**
   * The earliest moment (epoch ms) at which the resource's start rate allows the next grant, as
   * the last rate-limited grant left it (consistent read); at or before now: at once. Undefined
   * when no rate-limited grant was ever made on the resource.
   *
   * @example
   * const at = await lock.nextStartAtMs();
   */
  async nextStartAtMs(): Promise<number | undefined> {
    return (await readRateState(this.#store, this.resourceId))?.nextStartAtMs;
  }

  /**
   * Every unexpired holder: slot, owner, lease end, fencing token.
   *
   * @example
   * for (const holder of await lock.holders()) console.log(holder.concurrencyId, holder.owner);
   */
  async holders(): Promise<Holder[]> {
    return readHolders(this.#store, this.resourceId);
  }

  /** Releases on `await using` scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}

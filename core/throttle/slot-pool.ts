import { LockLostError } from '../errors.js';
import type { Lease } from '../lease.js';
import { extendSlot } from '../operations/extend-slot.js';
import { releaseLease } from '../operations/release-slot.js';
import type { LockStore } from '../store.js';
import type { RateGate } from './rate-gate.js';
import type { SlotMemory } from './slot-memory.js';
import { takeFromTable } from './take-from-table.js';
import type { VerifiedLimits } from './verified-limits.js';

/**
 * What {@link SlotPool} needs besides the store.
 *
 * @example
 * const options: SlotPoolOptions = { memory: new SlotMemory(), limits: new VerifiedLimits(), owner: 'worker:1', leaseEndFor: (now) => now + 30_000 };
 */
export interface SlotPoolOptions {
  /** The process-wide memory of slots (shared by the pools of successive invocations). */
  memory: SlotMemory;
  /** The process-wide memory of resource limits: every take is checked against its resource's. */
  limits: VerifiedLimits;
  /** Stored with each lease, for `holders()`. */
  owner?: string;
  /**
   * The epoch ms a lease must last until for a piece of work that starts now: the work's
   * longest run (`leaseSeconds`), or the invocation's deadline when that is sooner.
   */
  leaseEndFor(nowMs: number): number;
  /** The resources' start rate: each record's start is counted in the write of its slot. */
  rate?: RateGate;
}

/**
 * A slot, or none: then `retryAfterMs` is how long until the first lease seen ends, or
 * `rateNotBeforeMs` when the start rate allows the next start (epoch ms).
 *
 * @example
 * const taken: SlotTake = await pool.take('tenant-1', 1, { wait: false });
 * if (!taken.lease) console.log('throttled; a lease ends in', taken.retryAfterMs, 'ms');
 */
export type SlotTake =
  | { lease: Lease }
  | { lease?: undefined; retryAfterMs?: number; rateNotBeforeMs?: number };

/**
 * A record may start now: under `lease` (absent for a rate without slots); or the lease was lost;
 * or the rate allows the record's start only at `notBeforeMs` (the lease, if any, is still the
 * caller's, to give back).
 *
 * @example
 * const start = await pool.startRecord(lease);
 * if (start.kind === 'ready') await work(start.lease);
 */
export type RecordStart =
  | { kind: 'ready'; lease: Lease }
  | { kind: 'lost' }
  | { kind: 'rate-limited'; notBeforeMs: number };

/** The pool's view of one resource within one invocation. */
interface ResourceState {
  /** Leases of this resource held by this pool's workers, and takes of it in flight. */
  busy: number;
  /** Workers waiting for one of those leases; handed over without a write (undefined: none comes). */
  waiters: Array<(lease: Lease | undefined) => void>;
  /** This invocation found no free slot and has freed none since: do not ask the table again. */
  full: boolean;
  nextExpiryMs?: number;
}

/**
 * The lock slots of one invocation of the SQS throttle: takes slots without ever waiting on
 * another process, hands a held slot from one worker of the invocation to the next without a
 * write, and releases what is left. A take whose concurrency is not the resource's recorded
 * limit is refused (`ResourceLimitMismatchError`), before any slot is written.
 *
 * Cost: an uncontended take is one blind conditional write (to the slot this process freed last)
 * and its release one more. A refused write is followed by one consistent read and writes only to
 * slots that read saw free; a resource found full is not asked again in this invocation until the
 * pool frees one of its slots itself. The limit is read once per resource and minute per process
 * (`VerifiedLimits`), not per take. With a start rate (`RateGate`), each write is a transaction
 * of the slot and the rate item, and every record after the first on a held lease counts its
 * start with one more (`startRecord`); without one, nothing of the rate is read or written.
 *
 * @example
 * const pool = new SlotPool(store, { memory, limits, leaseEndFor: (now) => now + 30_000 });
 * const taken = await pool.take('tenant-1', 1, { wait: false });
 * if (taken.lease) { try { await work(); } finally { await pool.giveBack(taken.lease); } }
 */
export class SlotPool {
  readonly #store: LockStore;
  readonly #options: SlotPoolOptions;
  readonly #resources = new Map<string, ResourceState>();
  /** Leases taken with a start counted that no record has used yet (by release code). */
  readonly #unspentStarts = new Set<string>();

  constructor(store: LockStore, options: SlotPoolOptions) {
    this.#store = store;
    this.#options = options;
  }

  /**
   * Takes a slot of `resourceId`. With `wait`, a resource that is full while a worker of this
   * pool holds one of its slots waits for that worker to give it back (no process ever waits
   * on another one); otherwise it answers at once with no lease. A resource this pool found full
   * is not asked again until the pool frees one of its slots, unless `recheck`. Throws
   * `ResourceLimitMismatchError` when `concurrency` is not the resource's limit.
   */
  async take(
    resourceId: string,
    concurrency: number,
    { wait, recheck = false }: { wait: boolean; recheck?: boolean },
  ): Promise<SlotTake> {
    // Before anything of the resource is counted or written: a refused take holds nothing.
    await this.#options.limits.verify(this.#store, resourceId, concurrency);
    const state = this.#state(resourceId);
    if (!state.full || recheck) {
      // Counted while in flight: a worker that finds the resource full meanwhile waits for it.
      state.busy++;
      let taken: SlotTake;
      try {
        taken = await takeFromTable(this.#store, this.#options, resourceId, concurrency);
      } catch (error) {
        this.#drop(state);
        throw error;
      }
      if (taken.lease) {
        // With a rate, its take counted the start of its first record.
        if (this.#options.rate) this.#unspentStarts.add(taken.lease.releaseCode);
        return taken;
      }
      this.#drop(state);
      // The rate, not the slots, said no: a sibling's lease would need a start it refuses too.
      if (taken.rateNotBeforeMs !== undefined) return taken;
      state.full = true;
      if (taken.retryAfterMs !== undefined) state.nextExpiryMs = this.#store.clock() + taken.retryAfterMs;
    }
    if (wait && state.busy > 0) {
      const handedOver = await new Promise<Lease | undefined>((resolve) => state.waiters.push(resolve));
      if (handedOver) return { lease: handedOver };
    }
    const nowMs = this.#store.clock();
    return state.nextExpiryMs !== undefined && state.nextExpiryMs > nowMs
      ? { retryAfterMs: state.nextExpiryMs - nowMs }
      : {};
  }

  /** Whether records start only when the rate counts them: a failed write then runs nothing. */
  get countsStarts(): boolean {
    return this.#options.rate !== undefined;
  }

  /**
   * Readies a held lease for the next record: without a rate, `ensureCovers`. With one, the
   * lease's own take counted the first record's start; every further record on it counts its
   * start with a write to its slot (`RateGate.start`), which also makes the lease cover it.
   */
  async startRecord(lease: Lease): Promise<RecordStart> {
    const rate = this.#options.rate;
    if (!rate || this.#unspentStarts.delete(lease.releaseCode)) {
      const covered = await this.ensureCovers(lease);
      return covered ? { kind: 'ready', lease: covered } : { kind: 'lost' };
    }
    const expiresAtMs = Math.max(lease.expiresAtMs, this.#options.leaseEndFor(this.#store.clock()));
    const start = await rate.start(this.#store, lease.resourceId, { ...lease, expiresAtMs });
    if (start.kind === 'counted') return { kind: 'ready', lease: { ...lease, expiresAtMs } };
    if (start.kind === 'rate-limited') return start;
    this.#lost(lease);
    return { kind: 'lost' };
  }

  /** A record's start under a rate with no slots: one conditional write of the rate item. */
  async startWithoutSlot(
    resourceId: string,
  ): Promise<{ kind: 'ready'; lease?: undefined } | { kind: 'rate-limited'; notBeforeMs: number }> {
    const rate = this.#options.rate;
    if (!rate) throw new Error('startWithoutSlot needs a rate');
    const start = await rate.start(this.#store, resourceId);
    return start.kind === 'rate-limited' ? start : { kind: 'ready' };
  }

  /**
   * Makes sure the lease lasts for a piece of work that starts now, extending it if needed
   * (one write). Undefined when the lease was lost meanwhile: its slot must not be used.
   */
  async ensureCovers(lease: Lease): Promise<Lease | undefined> {
    const nowMs = this.#store.clock();
    const neededEndMs = this.#options.leaseEndFor(nowMs);
    if (lease.expiresAtMs >= neededEndMs) return lease;
    try {
      const extended = await extendSlot(this.#store, lease, neededEndMs - nowMs);
      // An extend moves the end only: the token stays the one this lease was granted with.
      return { ...lease, expiresAtMs: extended.expiresAtMs };
    } catch (error) {
      if (!(error instanceof LockLostError)) throw error;
      this.#lost(lease);
      return undefined;
    }
  }

  #lost(lease: Lease): void {
    this.#store.logger.warn('SQS throttle: a lease ended between two records and was taken; not using it', {
      resourceId: lease.resourceId,
      concurrencyId: lease.concurrencyId,
    });
    this.#forget(lease, false);
  }

  /**
   * Gives a lease back: to a worker of this pool waiting for the same resource, else to the
   * table (one write). Never throws: a failed release leaves a lease that ends by itself.
   */
  async giveBack(lease: Lease): Promise<void> {
    const state = this.#state(lease.resourceId);
    const waiter = state.waiters.shift();
    if (waiter) {
      waiter(lease);
      return;
    }
    let released = false;
    try {
      released = await releaseLease(this.#store, lease);
      if (!released) {
        this.#store.logger.warn(
          'SQS throttle: the lease had ended before its release (another holder may have run meanwhile); make leaseSeconds cover the handler',
          { resourceId: lease.resourceId, concurrencyId: lease.concurrencyId },
        );
      }
    } catch (error) {
      this.#store.logger.warn('SQS throttle: release failed; the lease ends by itself', {
        resourceId: lease.resourceId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    this.#forget(lease, released);
  }

  /** The lease is no longer this pool's: update the counts and the process memory. */
  #forget(lease: Lease, freed: boolean): void {
    // A start counted for it and not used stays counted: the rate errs on the strict side.
    this.#unspentStarts.delete(lease.releaseCode);
    const state = this.#state(lease.resourceId);
    if (freed) state.full = false;
    this.#options.memory.released(this.#store.tableName, lease.resourceId, lease.concurrencyId, freed);
    this.#drop(state);
  }

  /** One lease (or take in flight) fewer; with none left, nothing will be handed over to waiters. */
  #drop(state: ResourceState): void {
    state.busy--;
    if (state.busy === 0) for (const waiter of state.waiters.splice(0)) waiter(undefined);
  }

  #state(resourceId: string): ResourceState {
    let state = this.#resources.get(resourceId);
    if (!state) {
      state = { busy: 0, waiters: [], full: false };
      this.#resources.set(resourceId, state);
    }
    return state;
  }
}

import { LockLostError, LockStoreError } from '../errors.js';
import type { Lease } from '../lease.js';
import { extendSlot } from '../operations/extend-slot.js';
import { readVacancy } from '../operations/read-slots.js';
import { releaseLease, releaseSlot } from '../operations/release-slot.js';
import { takeSlot } from '../operations/take-slot.js';
import { newReleaseCode } from '../release-code.js';
import type { LockStore } from '../store.js';
import type { SlotMemory } from './slot-memory.js';
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
}

/**
 * A slot, or none free: then `retryAfterMs` is how long until the first lease seen ends.
 *
 * @example
 * const taken: SlotTake = await pool.take('tenant-1', 1, { wait: false });
 * if (!taken.lease) console.log('throttled; a lease ends in', taken.retryAfterMs, 'ms');
 */
export type SlotTake = { lease: Lease } | { lease?: undefined; retryAfterMs?: number };

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

/** How many slots seen free by a read to try before giving up; others race for the same ones. */
const writesAfterRead = 2;

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
 * (`VerifiedLimits`), not per take.
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

  constructor(store: LockStore, options: SlotPoolOptions) {
    this.#store = store;
    this.#options = options;
  }

  /**
   * Takes a slot of `resourceId`. With `wait`, a resource that is full while a worker of this
   * pool holds one of its slots waits for that worker to give it back (no process ever waits
   * on another one); otherwise it answers at once with no lease. Throws
   * `ResourceLimitMismatchError` when `concurrency` is not the resource's limit.
   */
  async take(resourceId: string, concurrency: number, { wait }: { wait: boolean }): Promise<SlotTake> {
    // Before anything of the resource is counted or written: a refused take holds nothing.
    await this.#options.limits.verify(this.#store, resourceId, concurrency);
    const state = this.#state(resourceId);
    if (!state.full) {
      // Counted while in flight: a worker that finds the resource full meanwhile waits for it.
      state.busy++;
      let taken: SlotTake;
      try {
        taken = await this.#takeFromTable(resourceId, concurrency);
      } catch (error) {
        this.#drop(state);
        throw error;
      }
      if (taken.lease) return taken;
      this.#drop(state);
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
      this.#store.logger.warn('SQS throttle: a lease ended between two records and was taken; not using it', {
        resourceId: lease.resourceId,
        concurrencyId: lease.concurrencyId,
      });
      this.#forget(lease, false);
      return undefined;
    }
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

  async #takeFromTable(resourceId: string, concurrency: number): Promise<SlotTake> {
    const { memory } = this.#options;
    const { tableName } = this.#store;
    // Every slot is held in this process: the table cannot say otherwise, so do not ask it.
    if (memory.heldCount(tableName, resourceId, concurrency) >= concurrency) return {};
    const blind = memory.candidate(tableName, resourceId, concurrency);
    if (blind !== undefined) {
      const lease = await this.#write(resourceId, blind);
      if (lease) return { lease };
    }
    const vacancy = await readVacancy(this.#store, resourceId, concurrency);
    const free = shuffle(
      vacancy.free.filter((slot) => slot !== blind && !memory.isHeld(tableName, resourceId, slot)),
    );
    // Mostly free: the next take may write blind again. Otherwise keep reading first.
    memory.setContended(tableName, resourceId, free.length * 2 < concurrency);
    for (const slot of free.slice(0, writesAfterRead)) {
      const lease = await this.#write(resourceId, slot, vacancy.tokens.get(slot));
      if (lease) return { lease };
    }
    memory.setContended(tableName, resourceId, true);
    const nowMs = this.#store.clock();
    return vacancy.nextExpiryMs === undefined
      ? {}
      : { retryAfterMs: Math.max(0, vacancy.nextExpiryMs - nowMs) };
  }

  /** One conditional write; a write whose answer was lost is undone on the way out. */
  async #write(resourceId: string, slot: number, seenFencingToken?: number): Promise<Lease | undefined> {
    const { memory, owner } = this.#options;
    const nowMs = this.#store.clock();
    const request = {
      resourceId,
      concurrencyId: slot,
      releaseCode: newReleaseCode(),
      durationMs: Math.max(1, this.#options.leaseEndFor(nowMs) - nowMs),
      ...(owner === undefined ? {} : { owner }),
      ...(seenFencingToken === undefined ? {} : { seenFencingToken }),
    };
    const { tableName } = this.#store;
    // Reserved before the write, so that a concurrent take in this process picks another slot.
    memory.taken(tableName, resourceId, slot);
    try {
      const result = await takeSlot(this.#store, request);
      if (result.granted) return result.lease;
      memory.released(tableName, resourceId, slot, false);
      memory.setContended(tableName, resourceId, true);
      return undefined;
    } catch (error) {
      memory.released(tableName, resourceId, slot, false);
      if (error instanceof LockStoreError) await releaseSlot(this.#store, request).catch(() => {});
      throw error;
    }
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

function shuffle<T>(items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [items[index], items[other]] = [items[other] as T, items[index] as T];
  }
  return items;
}

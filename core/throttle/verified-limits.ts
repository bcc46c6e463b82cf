import { ResourceLimitMismatchError, resourceLimitFor } from '../resource-limit.js';
import type { LockStore } from '../store.js';

/**
 * How long a process trusts a resource limit it read: the delay before a `dlm limit` change is
 * seen by a warm throttle. A read per message would double the cost of an uncontended message
 * (two writes) for a fact that changes by hand, rarely.
 */
export const limitCacheMs = 60_000;

/** At about 100 bytes a limit, at most a megabyte or so per process. */
const rememberedLimits = 10_000;

/** A resource's limit as this process last read it. */
interface RememberedLimit {
  /** Shared by every take that asks meanwhile: one read per resource, however many records. */
  limit: Promise<number>;
  untilMs: number;
  /** The concurrencies already refused and logged in this period: one line, not one per message. */
  refused: Set<number>;
}

/**
 * Per-process memory of the limits recorded for resources (`core/resource-limit.ts`), so that
 * the SQS throttle checks every take against the resource's own limit without a read per
 * message: one read per resource and `ttlMs` (and, for a resource with none recorded yet, the
 * write that records the asking throttle's). Bounded: past `maxLimits` resources the least
 * recently used is forgotten.
 *
 * @example
 * const limits = new VerifiedLimits();
 * await limits.verify(store, 'partner-api', 3); // ResourceLimitMismatchError when the limit is not 3
 */
export class VerifiedLimits {
  readonly #limits = new Map<string, RememberedLimit>();
  readonly #ttlMs: number;
  readonly #maxLimits: number;

  constructor({ ttlMs = limitCacheMs, maxLimits = rememberedLimits } = {}) {
    this.#ttlMs = ttlMs;
    this.#maxLimits = maxLimits;
  }

  /**
   * Resolves when `concurrency` is the limit recorded for the resource (recording it when none
   * is); throws `ResourceLimitMismatchError` otherwise, and logs it once per period.
   */
  async verify(store: LockStore, resourceId: string, concurrency: number): Promise<void> {
    const remembered = this.#remembered(store, resourceId, concurrency);
    const limit = await remembered.limit;
    if (limit === concurrency) return;
    const error = new ResourceLimitMismatchError(resourceId, concurrency, limit);
    if (!remembered.refused.has(concurrency)) {
      remembered.refused.add(concurrency);
      store.logger.warn(`SQS throttle: records of this key are not processed: ${error.message}`, {
        resourceId,
        concurrency,
        limit,
      });
    }
    throw error;
  }

  /** How many resources are remembered (for tests). */
  get size(): number {
    return this.#limits.size;
  }

  #remembered(store: LockStore, resourceId: string, concurrency: number): RememberedLimit {
    const key = `${store.tableName}\u0000${resourceId}`;
    const nowMs = store.clock();
    const known = this.#limits.get(key);
    // Map order is insertion order: re-inserting keeps the least recently used first.
    this.#limits.delete(key);
    if (known && known.untilMs > nowMs) {
      this.#limits.set(key, known);
      return known;
    }
    const remembered: RememberedLimit = {
      limit: resourceLimitFor(store, resourceId, concurrency),
      untilMs: nowMs + this.#ttlMs,
      refused: new Set(),
    };
    this.#limits.set(key, remembered);
    if (this.#limits.size > this.#maxLimits) this.#limits.delete(this.#limits.keys().next().value as string);
    // A failed read is not remembered: the next take asks the table again.
    remembered.limit.catch(() => {
      if (this.#limits.get(key) === remembered) this.#limits.delete(key);
    });
    return remembered;
  }
}

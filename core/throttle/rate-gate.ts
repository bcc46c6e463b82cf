import { sleep } from '../backoff.js';
import type { Lease } from '../lease.js';
import { type CountStartResult, countStart } from '../operations/count-start.js';
import type { SlotLease } from '../operations/release-slot.js';
import { takePermits } from '../operations/take-permits.js';
import type { TakeSlotRequest } from '../operations/take-slot.js';
import { guessRateForm, type Rate, type RateCell, type RateForm, rateCell } from '../rate.js';
import type { LockStore } from '../store.js';

/** What this process knows of one resource's rate, between invocations. */
interface RateMemory {
  /** A lower bound of the TAT (µs), from this process's last start: guesses the update's form. */
  tatUs?: number;
  /** The rate refused a start before this moment (epoch ms): no write can succeed before it. */
  closedUntilMs?: number;
  /** Starts of this process being counted right now: once they land, the rate is busy. */
  inFlight: number;
}

/** The longest pause before a take cancelled by another one on the rate item tries again. */
const conflictPauseMs = 20;

/** Resources remembered per process; past it, all are forgotten (they are hints). */
const rememberedResources = 10_000;
/** One per process: a warm container keeps what it learned of each rate between invocations. */
const processMemory = new Map<string, RateMemory>();

/** A start counted (`expiresAtMs`: the held lease's new end), or not: the rate's moment, or the lease lost. */
export type GateStart =
  | { kind: 'counted'; expiresAtMs?: number }
  | { kind: 'rate-limited'; notBeforeMs: number }
  | { kind: 'lost' };

/** A slot taken with its start counted, refused because it is held, or held back by the rate. */
export type GateTake =
  | { kind: 'granted'; lease: Lease }
  | { kind: 'slot-held' }
  | { kind: 'rate-limited'; notBeforeMs: number };

/**
 * The SQS throttle's start rate (issue 20): the rate in the transaction's terms, and what this
 * process learned of each resource's rate item, so that a busy rate costs one transaction per
 * start (the update's form guessed right) and a closed one costs none: its TAT only grows, so
 * the moment a refusal named stays closed for every writer, and starts before it are refused
 * here without a write.
 *
 * @example
 * const gate = new RateGate({ limit: 2, periodSeconds: 1, burst: 2 });
 * const start = await gate.start(store, 'partner-api');
 * if (start.kind === 'rate-limited') console.log('next start at', new Date(start.notBeforeMs));
 */
export class RateGate {
  readonly cell: RateCell;

  constructor(rate: Required<Rate>) {
    this.cell = rateCell(rate);
  }

  /** When the rate, as this process last saw it, next allows a start, if that is after `nowMs`. */
  closedUntil(store: LockStore, resourceId: string, nowMs = store.clock()): number | undefined {
    const closedUntilMs = this.#memory(store, resourceId).closedUntilMs;
    return closedUntilMs !== undefined && closedUntilMs > nowMs ? closedUntilMs : undefined;
  }

  /** The rate update's form to try first: busy behind a start of this process in flight. */
  form(store: LockStore, resourceId: string): RateForm {
    const memory = this.#memory(store, resourceId);
    return memory.inFlight > 0 ? 'busy' : guessRateForm(memory.tatUs, store.clock());
  }

  /** A start was counted by a request sent at `sentMs`: the TAT is at least one interval after it. */
  counted(store: LockStore, resourceId: string, sentMs: number): void {
    this.#memory(store, resourceId).tatUs = sentMs * 1000 + this.cell.intervalUs;
  }

  /** The rate refused a start until `notBeforeMs`. */
  refused(store: LockStore, resourceId: string, notBeforeMs: number): void {
    const memory = this.#memory(store, resourceId);
    memory.closedUntilMs = Math.max(memory.closedUntilMs ?? 0, notBeforeMs);
    // The TAT that refusal read, near enough: the next start is a busy one.
    memory.tatUs = notBeforeMs * 1000 + this.cell.toleranceUs;
  }

  /**
   * Takes one slot and counts its start, in one transaction (`takePermits`): what `takeSlot` is
   * without a rate. A wrong guess of the form, or a token below the stored one, is put right at
   * once; a closed rate, as this process saw it last, is refused without a write. Every take of
   * the resource writes the one rate item, so takes at the same moment cancel each other
   * (`TransactionConflict`): tried again at once, and after three tries the start is left for
   * one interval later, as the rate's, not the slots', contention.
   */
  async take(store: LockStore, request: TakeSlotRequest): Promise<GateTake> {
    const closedUntilMs = this.closedUntil(store, request.resourceId);
    if (closedUntilMs !== undefined) return { kind: 'rate-limited', notBeforeMs: closedUntilMs };
    let form = this.form(store, request.resourceId);
    let seenTokens =
      request.seenFencingToken === undefined
        ? undefined
        : new Map([[request.concurrencyId, request.seenFencingToken]]);
    for (let tries = 0; tries < 3; tries++) {
      const sentMs = store.clock();
      const result = await this.#inFlight(store, request.resourceId, () =>
        takePermits(store, {
          resourceId: request.resourceId,
          slots: [request.concurrencyId],
          releaseCode: request.releaseCode,
          durationMs: request.durationMs,
          ...(request.owner === undefined ? {} : { owner: request.owner }),
          ...(seenTokens ? { seenTokens } : {}),
          rate: { cell: this.cell, form },
        }),
      );
      if (result.kind === 'granted' || result.kind === 'held-by-us') {
        this.counted(store, request.resourceId, sentMs);
        return { kind: 'granted', lease: result.lease };
      }
      if (result.kind === 'rate-limited') {
        this.refused(store, request.resourceId, result.notBeforeMs);
        return result;
      }
      if (result.kind === 'slot-held') return { kind: 'slot-held' };
      if (result.kind === 'rate-form') form = result.retryAs;
      if (result.kind === 'token-low') seenTokens = result.seenTokens;
      // A few ms apart, so that the takes that cancelled each other do not meet again.
      if (result.kind === 'conflict') await sleep(Math.random() * conflictPauseMs);
    }
    return this.#later(store);
  }

  /**
   * Counts one start where no slot is taken for it (`countStart`): under `holding`, a lease
   * already held (its end moved to `holding.expiresAtMs` in the same transaction), or with no
   * slot at all. A wrong guess of the form is put right at once, once.
   */
  async start(
    store: LockStore,
    resourceId: string,
    holding?: SlotLease & { expiresAtMs: number },
  ): Promise<GateStart> {
    const closedUntilMs = this.closedUntil(store, resourceId);
    if (closedUntilMs !== undefined) return { kind: 'rate-limited', notBeforeMs: closedUntilMs };
    let form = this.form(store, resourceId);
    let result: CountStartResult = { kind: 'rate-form', retryAs: form };
    let sentMs = store.clock();
    for (let tries = 0; tries < 3 && result.kind === 'rate-form'; tries++) {
      sentMs = store.clock();
      const rate = { cell: this.cell, form };
      result = await this.#inFlight(store, resourceId, () =>
        countStart(store, { resourceId, rate, ...(holding ? { holding } : {}) }),
      );
      if (result.kind === 'rate-form') form = result.retryAs;
    }
    if (result.kind === 'counted') this.counted(store, resourceId, sentMs);
    if (result.kind === 'rate-limited') this.refused(store, resourceId, result.notBeforeMs);
    // Wrong guesses or conflicts three times: others are starting as fast as the rate lets them.
    if (result.kind === 'rate-form') return this.#later(store);
    return result;
  }

  /** One interval from now: for a start that lost to others' starts, without a refusal to say when. */
  #later(store: LockStore): { kind: 'rate-limited'; notBeforeMs: number } {
    return { kind: 'rate-limited', notBeforeMs: store.clock() + Math.ceil(this.cell.intervalUs / 1000) };
  }

  async #inFlight<T>(store: LockStore, resourceId: string, write: () => Promise<T>): Promise<T> {
    const memory = this.#memory(store, resourceId);
    memory.inFlight++;
    try {
      return await write();
    } finally {
      memory.inFlight--;
    }
  }

  #memory(store: LockStore, resourceId: string): RateMemory {
    // Keyed by the rate too: two throttles of one process on one resource with different rates
    // read the same item with different tolerances.
    const key = `${store.tableName}\u0000${resourceId}\u0000${this.cell.intervalUs}/${this.cell.toleranceUs}`;
    let memory = processMemory.get(key);
    if (!memory) {
      if (processMemory.size >= rememberedResources) processMemory.clear();
      memory = { inFlight: 0 };
      processMemory.set(key, memory);
    }
    return memory;
  }
}

import type { Context } from 'aws-lambda';
import type { Lease } from '../core/lease.js';
import type { SlotPool } from '../core/throttle/slot-pool.js';
import { recentContention } from './contention.js';
import { claimParked, settleParkedClaim } from './copy-claims.js';
import type { InvocationClock } from './deadline.js';
import type { ThrottleSettings } from './options.js';
import { type ParkedRecord, parkedRecords, unpark } from './parking.js';
import type { ThrottledRecordHandler } from './run-batch.js';

/** Parked records read per query: a page the holder works through before asking again. */
const pageSize = 10;

/**
 * Lets the holder of a key's slot run the records other invocations parked for that key, under
 * the same lease, before it gives the slot back: the slot goes from one record to the next in
 * the time of a query and a write, instead of idling until a re-queued copy's timer ends. Each
 * parked record is claimed first (its SQS copy is then dropped when it comes back) and settled
 * after the run: done, or lapsed so the copy runs (a failed run is not retried here). The chain
 * stops at the deadline margin, and by `chainEndMs` (the batch's visibility timeout less the
 * margin twice): its own records must be deleted before they would come back.
 *
 * @example
 * const runner = new ParkedRunner(settings, handler, context, clock, 'fn:req-1', async () => Date.now() + 10_000);
 * while (await runner.runNext('partner-api', lease)) {}
 */
export class ParkedRunner {
  readonly #settings: ThrottleSettings;
  readonly #handler: ThrottledRecordHandler;
  readonly #context: Context;
  readonly #clock: InvocationClock;
  readonly #holder: string;
  readonly #chainEndMs: () => Promise<number>;
  #chainEnd: Promise<number> | undefined;
  readonly #pages = new Map<string, Promise<ParkedRecord[]>>();
  /** Parked records run by this invocation (for the bench and tests). */
  ran = 0;
  /** The settle writes of runs done, not yet waited for. */
  readonly #settling: Promise<void>[] = [];
  /**
   * Parked records this runner has taken (`<key> <concurrency id>`), and how many of their
   * removals are in flight: a query may return them until then (or, read before, even after).
   */
  readonly #taken = new Set<string>();
  #removing = 0;

  constructor(
    settings: ThrottleSettings,
    handler: ThrottledRecordHandler,
    context: Context,
    clock: InvocationClock,
    holder: string,
    chainEndMs: () => Promise<number>,
  ) {
    this.#chainEndMs = chainEndMs;
    this.#settings = settings;
    this.#handler = handler;
    this.#context = context;
    this.#clock = clock;
    this.#holder = holder;
  }

  /**
   * Runs one parked record of `key` under the lease `cover()` makes last for it (undefined: lost,
   * run nothing); false when none is left, the lease is lost, or time is short.
   */
  async runNext(key: string, cover: () => Promise<Lease | undefined>): Promise<boolean> {
    const { store } = this.#settings;
    for (;;) {
      if (!this.#clock.canStart()) return false;
      // The batch's own records are deleted only when the invocation ends: it must end before
      // their visibility timeout, or they are delivered again.
      this.#chainEnd ??= this.#chainEndMs().catch(() => 0);
      if (Date.now() + this.#clock.expectedRunMs() >= (await this.#chainEnd)) return false;
      const parked = await this.#take(key);
      if (!parked) return false;
      const lease = await cover();
      if (!lease) return false;
      const claimed = await claimParked(
        store,
        parked.origin,
        parked.generation,
        this.#holder,
        lease.expiresAtMs,
      ).catch(() => false);
      if (!claimed) {
        // Its copy came back and claimed it, or another holder has it: not ours to run.
        await this.#unpark(key, parked.concurrencyId);
        continue;
      }
      // Claimed, the parked item has served: removed while the record runs, and skipped by this
      // runner's next queries until then.
      this.#settling.push(this.#unpark(key, parked.concurrencyId));
      let done = false;
      try {
        await this.#clock.timed(async () => this.#handler(parked.record, this.#context, lease));
        done = true;
        this.ran++;
      } catch (error) {
        store.logger.warn('SQS throttle: a parked record failed; its re-queued copy runs it again', {
          messageId: parked.record.messageId,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      // Not waited for: the slot's next record goes on meanwhile (`settled()` waits before the
      // invocation ends). A copy that comes back before the claim is settled finds it running
      // (`busy`) and asks again later, so nothing runs twice.
      this.#settling.push(
        settleParkedClaim(store, parked.origin, parked.generation, this.#holder, done).catch(() => {}),
      );
      return true;
    }
  }

  /**
   * Runs the records parked for `key` under `lease`, one after another, while any are left and
   * the key was found full lately (no query for an uncontended key). Returns the lease still
   * held, to give back (undefined: lost meanwhile).
   */
  async runWhileParked(key: string, lease: Lease, pool: SlotPool): Promise<Lease | undefined> {
    let held: Lease | undefined = lease;
    while (held && recentContention.recent(key)) {
      const current: Lease = held;
      let lost = false;
      const ran = await this.runNext(key, async () => {
        const start = await pool.startRecord(current).catch(() => undefined);
        // A failed extend leaves the lease as it was; a start the rate did not count runs nothing.
        if (start === undefined) return pool.countsStarts ? undefined : current;
        if (start.kind === 'lost') lost = true;
        if (start.kind !== 'ready') return undefined;
        held = start.lease;
        return start.lease;
      });
      if (lost) held = undefined;
      if (!ran) break;
    }
    return held;
  }

  /** Removes a parked record this runner took; its later queries skip it. */
  async #unpark(key: string, concurrencyId: number): Promise<void> {
    this.#removing++;
    await unpark(this.#settings.store, key, concurrencyId).catch(() => {});
    this.#removing--;
  }

  /** Waits for every run's claim to be settled and its parked record removed: before the invocation ends. */
  async settled(): Promise<void> {
    await Promise.all(this.#settling.splice(0));
  }

  /** The next parked record of `key`: one query per page, shared by the key's workers. */
  async #take(key: string): Promise<ParkedRecord | undefined> {
    let page = this.#pages.get(key);
    if (page && (await page).length === 0) page = undefined;
    if (!page) {
      // Records this runner is removing may still be read: asked for on top of the page, and skipped.
      page = parkedRecords(this.#settings.store, key, pageSize + this.#removing)
        .then((records) => records.filter(({ concurrencyId }) => !this.#taken.has(`${key} ${concurrencyId}`)))
        .catch(() => []);
      this.#pages.set(key, page);
    }
    const records = await page;
    const next = records.shift();
    if (!next) this.#pages.delete(key);
    else this.#taken.add(`${key} ${next.concurrencyId}`);
    return next;
  }
}

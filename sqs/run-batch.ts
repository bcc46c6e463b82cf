import type { Context, SQSRecord } from 'aws-lambda';
import type { Lease } from '../core/lease.js';
import type { RecordStart, SlotPool } from '../core/throttle/slot-pool.js';
import { isFifo } from './attempts.js';
import { recentContention } from './contention.js';
import type { InvocationClock } from './deadline.js';
import { keyOf, type ThrottleSettings } from './options.js';
import type { ParkedRunner } from './parked-runner.js';
import { runGroup } from './run-group.js';

/**
 * The record handler the throttle calls: Powertools' record handler, plus the lease it runs
 * under (its `fencingToken` lets a downstream store refuse a holder whose lease ended).
 *
 * @example
 * const recordHandler: ThrottledRecordHandler = async (record, context, lease) => {
 *   await callPartner(JSON.parse(record.body), lease.fencingToken);
 * };
 */
export type ThrottledRecordHandler = (record: SQSRecord, context: Context, lease: Lease) => unknown;

/**
 * The record handler of a throttle with a rate and no concurrency limit: it holds no slot, so
 * it gets no lease.
 *
 * @example
 * const recordHandler: RateLimitedRecordHandler = async (record) => callPartner(JSON.parse(record.body));
 */
export type RateLimitedRecordHandler = (record: SQSRecord, context: Context) => unknown;

/**
 * How one record of a batch ended.
 *
 * @example
 * const reported = outcomes.filter((outcome) => outcome.status === 'failed' || outcome.status === 'skipped');
 */
export type RecordOutcome =
  | { status: 'done' }
  | { status: 'failed'; error: unknown }
  /** FIFO: behind a failed record of its group; not run, reported as failed. */
  | { status: 'skipped' }
  /** No slot free for its key, or (`rateNotBeforeMs`) the key's rate allows its start only then; not run. */
  | { status: 'throttled'; retryAfterMs?: number; rateNotBeforeMs?: number }
  /** FIFO: behind a throttled record of its group; not run, hidden as long as it. */
  | { status: 'deferred' }
  /** Not started: too close to the invocation's deadline. Re-queued (FIFO: hidden) without delay. */
  | { status: 'unstarted' };

/** Lets at most `size` workers of one batch run at once, in the order they asked. */
class Permits {
  #free: number;
  readonly #queue: Array<() => void> = [];

  constructor(size: number) {
    this.#free = size;
  }

  async run(work: () => Promise<void>): Promise<void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#queue.push(resolve));
    try {
      await work();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/** A key's records in a standard-queue batch, drained by up to `concurrency` workers. */
interface KeyLane {
  key: string;
  /** Undefined: a rate without slots. */
  concurrency: number | undefined;
  pending: number[];
  /** The deadline stopped the lane: its pending records are unstarted, not throttled. */
  outOfTime?: boolean;
  retryAfterMs?: number;
  /** The key's rate allows the next start only then (epoch ms): its pending records wait for it. */
  rateNotBeforeMs?: number;
  error?: unknown;
}

/**
 * Runs one batch under the limit, without waiting on any other process: records whose key has
 * no free slot are left `throttled` for the caller to re-queue or defer.
 *
 * Standard queues: the records are grouped by key; each group is drained by up to its
 * `concurrency` workers, each holding one slot for as many records as it gets (one take and one
 * release per worker, not per record). FIFO queues: one worker per message group, in order; a
 * worker waits for a slot held by another worker of the same batch (handed over without a
 * write), and a throttled or failed record stops its group for this batch, so order holds.
 *
 * @example
 * const outcomes = await runBatch(event.Records, handler, context, settings, pool);
 */
export async function runBatch(
  records: SQSRecord[],
  handler: ThrottledRecordHandler,
  context: Context,
  settings: ThrottleSettings,
  pool: SlotPool,
  clock: InvocationClock,
  settled: ReadonlyMap<number, RecordOutcome> = new Map(),
  parked?: ParkedRunner,
): Promise<RecordOutcome[]> {
  const outcomes: RecordOutcome[] = records.map(() => ({ status: 'skipped' }));
  const permits = new Permits(settings.parallelism);
  // `lease` is undefined only for a rate without slots, whose handler type takes none.
  const run = async (index: number, lease: Lease | undefined): Promise<RecordOutcome> => {
    try {
      await clock.timed(async () => handler(records[index] as SQSRecord, context, lease as Lease));
      return { status: 'done' };
    } catch (error) {
      return { status: 'failed', error };
    }
  };

  const standard: number[] = [];
  const groups = new Map<string, number[]>();
  // FIFO groups with a record already failed (not moved to the dead-letter queue): the rest waits.
  const stopped = new Set<string>();
  for (const [index, record] of records.entries()) {
    const outcome = settled.get(index);
    const group = isFifo(record) ? (record.attributes?.MessageGroupId ?? '') : undefined;
    if (outcome) {
      outcomes[index] = outcome;
      if (group !== undefined && outcome.status === 'failed') stopped.add(group);
      continue;
    }
    if (group === undefined) {
      standard.push(index);
      continue;
    }
    if (stopped.has(group)) {
      outcomes[index] = { status: 'skipped' };
      continue;
    }
    groups.set(group, [...(groups.get(group) ?? []), index]);
  }

  const lanes = keyLanes(standard, records, settings, outcomes);
  const workers: Promise<void>[] = [];
  for (const lane of lanes) {
    const count = Math.min(
      lane.pending.length,
      lane.concurrency ?? settings.parallelism,
      settings.parallelism,
    );
    for (let worker = 0; worker < count; worker++) {
      workers.push(permits.run(() => drainLane(lane, pool, clock, outcomes, run, parked)));
    }
  }
  for (const indexes of groups.values()) {
    workers.push(permits.run(() => runGroup(indexes, records, settings, pool, clock, outcomes, run)));
  }
  await Promise.all(workers);

  // Records the rate held back start one interval apart from its next moment: each copy's timer
  // is set to its own turn, not all to the first (where all but one would be refused again).
  const intervalMs = (settings.rate?.cell.intervalUs ?? 0) / 1000;
  for (const lane of lanes) {
    lane.pending.forEach((index, turn) => {
      outcomes[index] =
        lane.error !== undefined
          ? { status: 'failed', error: lane.error }
          : lane.rateNotBeforeMs !== undefined
            ? { status: 'throttled', rateNotBeforeMs: lane.rateNotBeforeMs + turn * intervalMs }
            : lane.outOfTime
              ? { status: 'unstarted' }
              : {
                  status: 'throttled',
                  ...(lane.retryAfterMs !== undefined && { retryAfterMs: lane.retryAfterMs }),
                };
    });
  }
  return outcomes;
}

function keyLanes(
  indexes: number[],
  records: SQSRecord[],
  settings: ThrottleSettings,
  outcomes: RecordOutcome[],
): KeyLane[] {
  const lanes = new Map<string, KeyLane>();
  for (const index of indexes) {
    try {
      const { key, concurrency } = keyOf(settings, records[index] as SQSRecord);
      const lane = lanes.get(key) ?? { key, concurrency, pending: [] };
      lane.pending.push(index);
      lanes.set(key, lane);
    } catch (error) {
      // A key that cannot be computed is the record's own failure: the normal retry path.
      outcomes[index] = { status: 'failed', error };
    }
  }
  return [...lanes.values()];
}

/**
 * One worker of a key lane: takes a slot (none for a rate without slots), then runs records of
 * the lane until none is left, each started by the pool (with a rate, each start counted).
 */
async function drainLane(
  lane: KeyLane,
  pool: SlotPool,
  clock: InvocationClock,
  outcomes: RecordOutcome[],
  run: (index: number, lease: Lease | undefined) => Promise<RecordOutcome>,
  parked?: ParkedRunner,
): Promise<void> {
  // Workers that start after their lane was drained take no slot.
  if (lane.pending.length === 0 || lane.outOfTime || lane.rateNotBeforeMs !== undefined) return;
  if (!clock.canStart()) {
    lane.outOfTime = true;
    return;
  }
  let lease: Lease | undefined;
  if (lane.concurrency !== undefined) {
    try {
      const taken = await pool.take(lane.key, lane.concurrency, { wait: false });
      if (!taken.lease) {
        if (taken.rateNotBeforeMs !== undefined) {
          lane.rateNotBeforeMs = taken.rateNotBeforeMs;
          return;
        }
        recentContention.saw(lane.key);
        if (taken.retryAfterMs !== undefined) lane.retryAfterMs = taken.retryAfterMs;
        return;
      }
      lease = taken.lease;
    } catch (error) {
      lane.error = error;
      return;
    }
  }
  try {
    for (let index = lane.pending.shift(); index !== undefined; index = lane.pending.shift()) {
      if (lane.outOfTime || !clock.canStart()) {
        // Left for the re-queue, which needs the margin this record would have used.
        lane.pending.unshift(index);
        lane.outOfTime = true;
        return;
      }
      let start: RecordStart | { kind: 'ready'; lease?: undefined };
      try {
        start = lease ? await pool.startRecord(lease) : await pool.startWithoutSlot(lane.key);
      } catch (error) {
        outcomes[index] = { status: 'failed', error };
        return;
      }
      if (start.kind !== 'ready') {
        // Lost between two records: leave this one to the other workers, or to throttling. Held
        // back by the rate: this and the lane's other records wait for its moment.
        lane.pending.unshift(index);
        if (start.kind === 'lost') lease = undefined;
        else lane.rateNotBeforeMs = start.notBeforeMs;
        return;
      }
      lease = start.lease;
      outcomes[index] = await run(index, lease);
    }
    // The batch's own records are done: records other invocations parked for the key get the
    // slot next, before it is given back.
    if (parked && lease) lease = await parked.runWhileParked(lane.key, lease, pool);
  } finally {
    if (lease) await pool.giveBack(lease);
  }
}

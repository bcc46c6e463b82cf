import type { Context } from 'aws-lambda';
import type { ThrottleSettings } from './options.js';

/**
 * Whether one invocation still has time to start a record: the time left
 * (`context.getRemainingTimeInMillis()`) must cover the record's longest run (`leaseSeconds`, or
 * else the longest record seen in this invocation) plus `deadlineMarginSeconds`, left for
 * re-queuing what is not started. A record that starts is never cut off by the deadline this
 * way, and a record that does not is re-queued (FIFO: hidden) while the invocation can still
 * do it, instead of failing with the whole batch at the timeout.
 *
 * @example
 * const clock = new InvocationClock(settings, context);
 * if (clock.canStart()) await clock.timed(() => handler(record));
 */
export class InvocationClock {
  readonly #settings: ThrottleSettings;
  readonly #context: Context | undefined;
  #longestRunMs = 0;

  constructor(settings: ThrottleSettings, context: Context | undefined) {
    this.#settings = settings;
    this.#context = context;
  }

  /** True when a record started now would end, and leave the margin, before the deadline. */
  canStart(): boolean {
    const remaining = this.#context?.getRemainingTimeInMillis;
    if (typeof remaining !== 'function') return true;
    return remaining.call(this.#context) >= this.expectedRunMs() + this.#settings.deadlineMarginMs;
  }

  /** How long a record started now is taken to run: `leaseSeconds`, else the longest run seen. */
  expectedRunMs(): number {
    return this.#settings.leaseMs ?? this.#longestRunMs;
  }

  /** Runs one record's work, remembering how long it took. */
  async timed<T>(work: () => Promise<T>): Promise<T> {
    const startMs = Date.now();
    try {
      return await work();
    } finally {
      this.#longestRunMs = Math.max(this.#longestRunMs, Date.now() - startMs);
    }
  }
}

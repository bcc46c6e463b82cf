import type { HistoryEvent } from './types.js';

/**
 * Where one chain of events continues: the top-level run, a Parallel branch or a Map iteration,
 * so `previousEventId` points at the event before it in the same chain, as on AWS.
 *
 * @example
 * const thread: EventThread = { lastEventId: 0 };
 */
export interface EventThread {
  lastEventId: number;
}

/**
 * The history of one execution, in AWS's event shapes (`type` plus a `<kind>EventDetails`
 * object). Ids are 1-based and increase in emission order.
 *
 * @example
 * const history = new History((event) => events.push(event));
 * history.add(thread, 'ExecutionStarted', { executionStartedEventDetails: { input: '{}' } });
 */
export class History {
  readonly #onEvent: (event: HistoryEvent) => void;
  #nextId = 1;

  constructor(onEvent: (event: HistoryEvent) => void) {
    this.#onEvent = onEvent;
  }

  /** Emits one event after the thread's last one; returns its id. */
  add(thread: EventThread, type: string, details: Record<string, unknown> = {}): number {
    const id = this.#nextId++;
    const event: HistoryEvent = {
      id,
      previousEventId: thread.lastEventId,
      timestamp: new Date(),
      type,
      ...details,
    };
    thread.lastEventId = id;
    this.#onEvent(event);
    return id;
  }
}

/**
 * A JSON value as history details carry it (a string), dropping what JSON drops.
 *
 * @example
 * asText({ a: 1 }); // '{"a":1}'
 */
export function asText(value: unknown): string {
  return JSON.stringify(value ?? null);
}

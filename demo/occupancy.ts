import type { ExecutionRecord } from './record.js';

/** From `atMs` until the next step: how many slots are busy and how many requests wait. */
export interface OccupancyStep {
  atMs: number;
  busy: number;
  waiting: number;
}

/**
 * Slots busy and requests waiting over time, as a step function: one step at each moment either
 * changes. A slot is busy while its holder works (the bar on its lane); a request waits from
 * its arrival (grant minus its wait) to its grant, or, never granted, from its start to its end.
 *
 * @example
 * occupancySteps(records); // [{ atMs: 0, busy: 1, waiting: 2 }, { atMs: 20, busy: 1, waiting: 1 }, ...]
 */
export function occupancySteps(records: readonly ExecutionRecord[]): OccupancyStep[] {
  const changes = new Map<number, { busy: number; waiting: number }>();
  const change = (atMs: number, busy: number, waiting: number) => {
    const at = changes.get(atMs) ?? { busy: 0, waiting: 0 };
    changes.set(atMs, { busy: at.busy + busy, waiting: at.waiting + waiting });
  };
  for (const record of records) {
    if (record.work) {
      change(record.work.startMs, 1, 0);
      change(record.work.endMs, -1, 0);
    }
    if (record.grant) {
      change(record.grant.atMs - record.grant.waitedMs, 0, 1);
      change(record.grant.atMs, 0, -1);
    } else if (record.endedMs !== undefined) {
      change(record.startedMs, 0, 1);
      change(record.endedMs, 0, -1);
    }
  }
  let busy = 0;
  let waiting = 0;
  const steps: OccupancyStep[] = [];
  for (const atMs of [...changes.keys()].sort((a, b) => a - b)) {
    const delta = changes.get(atMs) as { busy: number; waiting: number };
    // A wait of 0 ms, a hand-over within the same millisecond: no step of its own.
    if (delta.busy === 0 && delta.waiting === 0) continue;
    busy += delta.busy;
    waiting += delta.waiting;
    steps.push({ atMs, busy, waiting });
  }
  return steps;
}

import { describe, expect, it } from 'vitest';
import { occupancySteps } from '../../demo/occupancy.js';
import type { ExecutionRecord } from '../../demo/record.js';
import { timelineSvg } from '../../demo/timeline-svg.js';

/** `count` executions on one slot, one after the other, 20 ms each. */
function mutexRun(count: number): ExecutionRecord[] {
  return Array.from({ length: count }, (_, index) => ({
    index,
    executionArn: `arn:${index}`,
    failOnPurpose: false,
    startedMs: 0,
    endedMs: 20 * (index + 1),
    status: 'SUCCEEDED',
    grant: { atMs: 20 * index, slot: 0, waitedMs: 20 * index },
    work: { startMs: 20 * index, endMs: 20 * (index + 1) },
  }));
}

describe('the demo timeline', () => {
  it('draws a row per execution for a small run', () => {
    const svg = timelineSvg(mutexRun(24), 1, 'small');
    expect(svg).toContain('fill="#555">#24<');
    expect(svg).not.toContain('the first');
  });

  it('past a few dozen executions draws slots busy and requests waiting over time instead of rows', () => {
    const svg = timelineSvg(mutexRun(300), 1, 'three hundred');
    const height = (text: string) => Number(/height="(\d+)"/.exec(text)?.[1]);
    // Was 5,400 px with a row per execution; now the lanes and one chart.
    expect(height(svg)).toBeLessThan(400);
    expect(svg).not.toContain('fill="#555">#1<');
    expect(svg).toContain('slots busy');
    expect(svg).toContain('requests waiting');
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    // Every holder stays on its slot lane.
    expect(svg.match(/<title>#\d+<\/title>/g)).toHaveLength(300);
    expect(height(timelineSvg(mutexRun(10_000), 1, 'ten thousand'))).toBe(height(svg));
  });
});

describe('slots busy and requests waiting over time', () => {
  it('steps at each grant, release and arrival of a small known run', () => {
    // Three on one slot, all arriving at 0: one holds 0-20, the next 20-40, the last 40-60.
    expect(occupancySteps(mutexRun(3))).toEqual([
      { atMs: 0, busy: 1, waiting: 2 },
      { atMs: 20, busy: 1, waiting: 1 },
      { atMs: 40, busy: 1, waiting: 0 },
      { atMs: 60, busy: 0, waiting: 0 },
    ]);
  });

  it('counts a request that was never granted as waiting from its start to its end', () => {
    const timedOut = {
      index: 1,
      executionArn: 'arn:1',
      failOnPurpose: false,
      startedMs: 5,
      endedMs: 30,
      status: 'FAILED',
    };
    expect(occupancySteps([...mutexRun(1), timedOut])).toEqual([
      { atMs: 0, busy: 1, waiting: 0 },
      { atMs: 5, busy: 1, waiting: 1 },
      { atMs: 20, busy: 0, waiting: 1 },
      { atMs: 30, busy: 0, waiting: 0 },
    ]);
  });
});

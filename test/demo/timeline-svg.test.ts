import { describe, expect, it } from 'vitest';
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

  it('keeps its height bounded for 10,000 executions: every holder on the slot lane, rows for the first 200', () => {
    const small = timelineSvg(mutexRun(200), 1, 'two hundred');
    const large = timelineSvg(mutexRun(10_000), 1, 'ten thousand');
    const height = (svg: string) => Number(/height="(\d+)"/.exec(svg)?.[1]);
    expect(height(large)).toBe(height(small));
    expect(large).toContain('the first 200 of 10000');
    expect(large).not.toContain('fill="#555">#201<');
    expect(large.match(/<title>#\d+<\/title>/g)).toHaveLength(10_000);
  });
});

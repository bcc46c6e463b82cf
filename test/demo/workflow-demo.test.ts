import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runWorkflowDemo } from '../../demo/workflow-demo.js';
import { localAws } from '../support/local-aws.js';

describe('npm start (the workflow demo)', () => {
  it('runs a small configuration to completion with every invariant held and a timeline written', async () => {
    const aws = await localAws();
    const timelinePath = join(tmpdir(), `timeline-${process.pid}.svg`);
    const progress: string[] = [];
    const summary = await runWorkflowDemo(aws, {
      executions: 8,
      concurrency: 2,
      workMs: 100,
      failEvery: 4,
      resourceId: `demo-test-${process.pid}`,
      timelinePath,
      onProgress: (line) => progress.push(line),
    });
    expect(summary).toMatchObject({
      executions: 8,
      succeeded: 6,
      failedOnPurpose: 2,
      unexpected: 0,
      mostHoldersAtOnce: 2,
      slotsLeaked: 0,
      waitersLeft: 0,
      ok: true,
    });
    expect(summary.releaseToGrantMs.samples).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatch(/holding \d\/2/);
    const svg = readFileSync(timelinePath, 'utf8');
    expect(svg).toContain('<svg');
    expect(svg.match(/slot \d/g)).toEqual(['slot 0', 'slot 1']);
    expect(svg.match(/✕/g)?.length).toBe(2 + 1); // two failures, plus the legend
    rmSync(timelinePath);
    expect(existsSync(timelinePath)).toBe(false);
  }, 60_000);
});

describe('npm start arguments', () => {
  it.each([
    [['--executions', '0'], '--executions'],
    [['--concurrency', 'x'], '--concurrency'],
    [['--work-ms', '1.5'], '--work-ms'],
    [['--unknown'], 'Unknown option'],
  ])('rejects %j with usage and exit code 2, before starting anything', (args, named) => {
    const result = spawnSync('node_modules/.bin/tsx', ['demo/main.ts', ...args], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(named);
    expect(result.stderr).toContain('usage: npm start');
  });
});

describe("npm start's metrics (the functions' EMF lines, as the dashboard reads them)", () => {
  it('count one grant per granted execution, agree with the demo on the hand-over, and time each hold', async () => {
    const aws = await localAws();
    const summary = await runWorkflowDemo(aws, {
      executions: 12,
      concurrency: 2,
      workMs: 200,
      failEvery: 0,
      resourceId: `demo-metrics-${process.pid}`,
    });
    expect(summary.ok).toBe(true);
    const metrics = summary.metrics;
    expect(metrics?.lines).toBeGreaterThan(0);
    expect(metrics?.grants).toBe(summary.granted);
    expect(summary.granted).toBe(12);
    expect(metrics?.handOverMs.samples).toBeGreaterThan(0);
    expect(Math.abs((metrics?.handOverMs.p50 ?? -100) - summary.releaseToGrantMs.p50)).toBeLessThanOrEqual(5);
    expect(metrics?.waitMs.p50).toBe(summary.waitMs.p50);
    // One hold time per release, from the grant's write to the release's: each holds its work
    // step (200 to 400 ms here) and the transitions around it.
    expect(metrics?.holdMs.samples).toBe(12);
    expect(metrics?.holdMs.p50).toBeGreaterThanOrEqual(200);
    expect(metrics?.holdMs.p99).toBeLessThan(400 + 2_000);
  }, 90_000);
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { everySeconds, scheduledEvent } from '../../local/schedule.js';
import { startLocalAws } from '../../local/start-local-aws.js';

/** A run that ends when the test says so. */
function heldRun() {
  const releases: Array<() => void> = [];
  const run = vi.fn(
    () =>
      new Promise<void>((resolve) => {
        releases.push(resolve);
      }),
  );
  return { run, finish: () => releases.shift()?.() };
}

describe('a local schedule', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs once a period, the first one period after the start', async () => {
    const run = vi.fn(async () => {});
    const schedule = everySeconds(60, run);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(run).toHaveBeenCalledTimes(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(run).toHaveBeenCalledTimes(3);
    await schedule.stop();
  });

  it('skips a tick while the previous run is still going, never running two at once', async () => {
    const { run, finish } = heldRun();
    const schedule = everySeconds(1, run);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(run).toHaveBeenCalledTimes(1);
    finish();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(run).toHaveBeenCalledTimes(2);
    finish();
    await schedule.stop();
  });

  it('goes on after a run that failed', async () => {
    const run = vi.fn(async () => {
      throw new Error('DynamoDB is down');
    });
    const schedule = everySeconds(1, run);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(run).toHaveBeenCalledTimes(3);
    await schedule.stop();
  });

  it('stops ticking at stop(), which waits for the run in flight', async () => {
    const { run, finish } = heldRun();
    const schedule = everySeconds(1, run);
    await vi.advanceTimersByTimeAsync(1_000);
    let stopped = false;
    const stopping = schedule.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(1);
  });
});

describe('the scheduled event', () => {
  it('is what EventBridge sends a function on a schedule', () => {
    const rule = 'arn:aws:events:us-east-1:000000000000:rule/dynamo-dlm-sweeper';
    expect(scheduledEvent(rule, 'us-east-1', '000000000000')).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: 'us-east-1',
      resources: [rule],
      detail: {},
    });
  });
});

describe('startLocalAws', () => {
  it('refuses a sweep period that is not 0 or a positive number, before starting anything', async () => {
    for (const sweepSeconds of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(startLocalAws({ sweepSeconds })).rejects.toThrow(/Expected `sweepSeconds`/);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { readConfig } from '../../functions/lib/config.js';
import { headWaitSeconds, placeAfter, turnDelaySeconds } from '../../functions/lib/turn-schedule.js';

const config = readConfig({ DLM_RETRY_BASE_SECONDS: '1', DLM_RETRY_CAP_SECONDS: '60' });
const nowMs = 1_800_000_000_000;
const entry = (requestKey: number) => ({
  resourceId: 'r',
  queueKey: requestKey,
  requestKey,
  concurrency: 1,
  permits: 1,
  waitUntilMs: Infinity,
});

describe('when a waiting request looks again', () => {
  it('puts the first waiting entry at the head, and a request the pass saw no entry before at the head too', () => {
    expect(placeAfter({ waiting: [entry(-7), entry(-8)] }, -7)).toBe('head');
    expect(placeAfter({ waiting: [entry(-7), entry(-8)] }, -8)).toBe('behind');
    expect(placeAfter({ waiting: [] }, -8)).toBe('head');
  });

  it('wakes the head in the second after the earliest lease end, within the back-off cap', () => {
    expect(headWaitSeconds(nowMs + 9_400, 0, config, nowMs)).toBe(10);
    expect(headWaitSeconds(nowMs + 600_000, 0, config, nowMs)).toBe(60);
    expect(headWaitSeconds(nowMs - 5, 0, config, nowMs)).toBe(1);
    // No lease seen: the back-off of the attempt (here at its ceiling).
    expect(headWaitSeconds(undefined, 3, config, nowMs, 1)).toBe(8);
  });

  it('wakes a rate-limited head at the moment the rate lets it start, past the back-off cap, chained by 900 s', () => {
    // The moment is known: no earlier look (polling), whatever the cap or the lease ends.
    expect(headWaitSeconds(nowMs + 9_400, 0, config, nowMs, 1, nowMs + 200)).toBe(1);
    expect(headWaitSeconds(undefined, 0, config, nowMs, 1, nowMs + 300_000)).toBe(300);
    expect(headWaitSeconds(nowMs + 1_000, 0, config, nowMs, 1, nowMs + 300_000)).toBe(300);
    // SQS timers end at 900 s: the turn then finds the rate still closed and sets the next link.
    expect(headWaitSeconds(undefined, 0, config, nowMs, 1, nowMs + 3_600_000)).toBe(900);
    expect(turnDelaySeconds('head', { waitUntilMs: Number.POSITIVE_INFINITY }, 900, nowMs)).toBe(900);
  });

  it('gives a request behind the head a message only for its deadline or heartbeat within 900 s', () => {
    const none = { waitUntilMs: Number.POSITIVE_INFINITY };
    expect(turnDelaySeconds('behind', none, 10, nowMs)).toBeUndefined();
    expect(turnDelaySeconds('behind', { waitUntilMs: nowMs + 120_000 }, 10, nowMs)).toBe(120);
    expect(turnDelaySeconds('behind', { waitUntilMs: nowMs + 3_600_000 }, 10, nowMs)).toBeUndefined();
    expect(turnDelaySeconds('behind', { ...none, heartbeatSeconds: 300 }, 10, nowMs)).toBe(150);
    expect(turnDelaySeconds('behind', { ...none, heartbeatSeconds: 3_600 }, 10, nowMs)).toBeUndefined();
    expect(turnDelaySeconds('head', none, 10, nowMs)).toBe(10);
    expect(turnDelaySeconds('head', { waitUntilMs: nowMs + 4_000 }, 10, nowMs)).toBe(4);
  });
});

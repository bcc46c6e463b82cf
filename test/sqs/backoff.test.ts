import { describe, expect, it } from 'vitest';
import { throttleDelaySeconds } from '../../core/throttle/backoff.js';

const backoff = { baseSeconds: 1, capSeconds: 60 };

describe('throttleDelaySeconds', () => {
  it('waits at least a second, and at most the doubling ceiling', () => {
    expect(throttleDelaySeconds(0, backoff, undefined, () => 0)).toBe(1);
    expect(throttleDelaySeconds(0, backoff, undefined, () => 0.999)).toBe(1);
    expect(throttleDelaySeconds(3, backoff, undefined, () => 0.999)).toBe(8);
  });

  it('never passes the cap, however many attempts', () => {
    expect(throttleDelaySeconds(100, backoff, undefined, () => 0.999)).toBe(60);
    expect(throttleDelaySeconds(100, { baseSeconds: 1, capSeconds: 900 }, undefined, () => 0.999)).toBe(900);
  });

  it('comes back soon after the first lease end it saw', () => {
    expect(throttleDelaySeconds(10, backoff, 1_500, () => 0.5)).toBe(2); // 1.5 s + 0.5 s of jitter
  });
});

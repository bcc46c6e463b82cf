export { type ThrottleBackoff, throttleDelaySeconds } from './backoff.js';
export { SlotMemory } from './slot-memory.js';
export { SlotPool, type SlotPoolOptions, type SlotTake } from './slot-pool.js';

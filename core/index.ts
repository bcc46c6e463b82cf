export { createLockTable } from './create-tables.js';
export { defaults, limits } from './defaults.js';
export { type AcquireOptions, DynamoDbLock, type DynamoDbLockOptions } from './dynamo-db-lock.js';
export {
  InvalidLockOptionError,
  LeaseEndingError,
  LockAlreadyHeldError,
  LockError,
  LockLostError,
  LockStoreError,
  LockTimeoutError,
} from './errors.js';
export type { Holder, Lease, SlotHold } from './lease.js';
export {
  type AcquireBackoff,
  type AcquireOutcome,
  type AcquireRequest,
  acquireLease,
} from './operations/acquire.js';
export { extendSlot } from './operations/extend-slot.js';
export { readHolders, readVacancy, type SlotVacancy } from './operations/read-slots.js';
export { releaseLease, releaseSlot, type SlotLease } from './operations/release-slot.js';
export { type TakeSlotRequest, type TakeSlotResult, takeSlot } from './operations/take-slot.js';
export { type Rate, type RateState, readRateState } from './rate.js';
export { newReleaseCode } from './release-code.js';
export type { Clock, LockClient, LockLogger, LockStore } from './store.js';
export { attribute } from './table.js';
export { type WithLockOptions, withLock } from './with-lock.js';

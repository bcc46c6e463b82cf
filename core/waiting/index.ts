export { advanceRetryChain } from './advance-chain.js';
export { type CountResult, countResource } from './count-resource.js';
export { findOwned, type OwnedItem } from './find-owned.js';
export { type FirstAttempt, firstAttempt, grantedLease } from './first-attempt.js';
export { type Grant, type GrantPass, grantWaiting } from './grant-waiting.js';
export { type ResourceState, readResource } from './read-resource.js';
export { type RecordOutcome, recordWaiting } from './record-waiting.js';
export { type ReleaseOutcome, releaseAndHandOff } from './release-and-hand-off.js';
export {
  primarySlotOf,
  releaseCodeOf,
  requestKeyOf,
  type SlotRequest,
  type StoredRequest,
} from './request.js';
export { type RetryOutcome, retryRequest } from './retry-request.js';
export { withdrawRequest } from './withdraw.js';

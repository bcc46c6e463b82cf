export {
  type AslDefinition,
  type AslState,
  fromPath,
  type Json,
  lambdaServiceErrors,
  lambdaServiceRetry,
  type PathValue,
} from './asl.js';
export { type ExampleStateMachineOptions, exampleStateMachine } from './example-state-machine.js';
export {
  type AcquireJsonataStateOptions,
  type AcquirePayloadOptions,
  acquireJsonataState,
  acquirePayload,
  type CountJsonataStateOptions,
  countJsonataState,
  defaultLeaseVariable,
  type ExampleJsonataStateMachineOptions,
  type ExtendJsonataStateOptions,
  exampleJsonataStateMachine,
  extendJsonataState,
  extendPayload,
  type JsonataValue,
  leasePayload,
  type ReleaseJsonataStateOptions,
  releaseJsonataState,
} from './jsonata.js';
export {
  type AcquireStateOptions,
  acquireState,
  type CountStateOptions,
  countState,
  type ExtendStateOptions,
  extendState,
  type ReleaseStateOptions,
  releaseState,
  waitTimeoutMarginSeconds,
} from './states.js';

import type { Rate } from '../rate.js';
import type { AslDefinition, PathValue } from './asl.js';
import { acquireState, releaseState } from './states.js';

/** Options of the example: which functions, which resource, how many slots. */
export interface ExampleStateMachineOptions {
  functions: { acquire: string; release: string };
  /** The work done while holding the slot: a Lambda function ARN called with the state input. */
  workFunctionArn: string;
  resourceId?: string | PathValue;
  concurrency?: number | PathValue;
  leaseSeconds?: number | PathValue;
  waitSeconds?: number | PathValue;
  /** The resource's start rate (see `acquireState`). */
  rate?: Rate | PathValue;
  /** Slots each execution takes at once (see `acquireState`). */
  permits?: number | PathValue;
}

/**
 * The example workflow: acquire, work, release; when the work fails the slot is released
 * before the execution fails, and a `Lock.Timeout` ends the execution as `Lock.Timeout`.
 *
 * @example
 * const definition = exampleStateMachine({ functions, workFunctionArn, resourceId: fromPath('$.resourceId') });
 */
export function exampleStateMachine(options: ExampleStateMachineOptions): AslDefinition {
  return {
    Comment: 'dynamo-dlm example: at most `concurrency` executions do the work at once',
    StartAt: 'Acquire',
    States: {
      Acquire: acquireState({
        functionArn: options.functions.acquire,
        resourceId: options.resourceId ?? { path: '$.resourceId' },
        concurrency: options.concurrency ?? { path: '$.concurrency' },
        leaseSeconds: options.leaseSeconds ?? 300,
        ...(options.waitSeconds === undefined ? {} : { waitSeconds: options.waitSeconds }),
        ...(options.rate === undefined ? {} : { rate: options.rate }),
        ...(options.permits === undefined ? {} : { permits: options.permits }),
        catch: [{ ErrorEquals: ['Lock.Timeout'], ResultPath: '$.error', Next: 'NoSlotInTime' }],
        next: 'Work',
      }),
      Work: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: options.workFunctionArn, 'Payload.$': '$' },
        ResultSelector: { 'result.$': '$.Payload' },
        ResultPath: '$.work',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ReleaseAfterFailure' }],
        Next: 'Release',
      },
      Release: releaseState({ functionArn: options.functions.release, end: true }),
      ReleaseAfterFailure: releaseState({ functionArn: options.functions.release, next: 'WorkFailed' }),
      WorkFailed: { Type: 'Fail', Error: 'Work.Failed', CausePath: '$.error.Cause' },
      NoSlotInTime: { Type: 'Fail', Error: 'Lock.Timeout', CausePath: '$.error.Cause' },
    },
  };
}

import './polyfill.js';
import { createActions } from './actions.js';
import type { ArnScope } from './arns.js';
import { Executions } from './executions.js';
import { startJsonServer } from './http-server.js';
import { type EngineName, StateMachines } from './state-machines.js';
import { type ExecutionStatusChangeEvent, StatusEventBus, toStatusChangeEvent } from './status-events.js';
import { TaskTokens } from './task-tokens.js';
import { loadTimeoutErrors } from './timeout-errors.js';
import type { LambdaInvoker } from './types.js';

export type { EngineName } from './state-machines.js';
export type { ExecutionStatusChangeEvent } from './status-events.js';
export type { LambdaInvoker } from './types.js';

/**
 * A running local Step Functions endpoint.
 *
 * @example
 * const sfn = await startLocalStepFunctions({ lambda });
 * const client = new SFNClient({ endpoint: sfn.endpoint, region: 'us-east-1' });
 * const off = sfn.onExecutionStatusChange((event) => console.log(event.detail.status));
 * off();
 * await sfn.stop();
 */
export interface LocalStepFunctions {
  /** `http://127.0.0.1:PORT`, for `endpoint` or `AWS_ENDPOINT_URL_SFN`. */
  endpoint: string;
  /** Subscribes to "Step Functions Execution Status Change" events; returns the unsubscribe function. */
  onExecutionStatusChange(listener: (event: ExecutionStatusChangeEvent) => void | Promise<void>): () => void;
  /** Closes the server, aborts running executions (without events) and clears every timer. */
  stop(): Promise<void>;
}

/**
 * Options of {@link startLocalStepFunctions}.
 *
 * @example
 * const options: LocalStepFunctionsOptions = { lambda, port: 0, region: 'eu-west-1' };
 */
export interface LocalStepFunctionsOptions {
  /** Runs the Lambda functions the Task states call. */
  lambda: LambdaInvoker;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Region in ARNs and events; default us-east-1. */
  region?: string;
  /** Account in ARNs and events; default 000000000000. */
  accountId?: string;
  /**
   * Which engine runs state machines: `'own'` (default), the project's engine in `engine/`
   * (JSONPath and JSONata, variables), or `'aws-local-stepfunctions'` (JSONPath only), the
   * engine before it, kept for a release for comparison.
   */
  engine?: EngineName;
}

/**
 * Starts a local AWS Step Functions endpoint on 127.0.0.1 that `@aws-sdk/client-sfn` talks to
 * unchanged. It runs JSONPath state machines on `aws-local-stepfunctions`, with Lambda tasks
 * (`lambda:invoke`, `.waitForTaskToken`, function ARNs) served by `options.lambda`.
 *
 * @example
 * const sfn = await startLocalStepFunctions({
 *   lambda: { invoke: async (name, payload) => functions[name](payload) },
 * });
 * process.env.AWS_ENDPOINT_URL_SFN = sfn.endpoint;
 */
export async function startLocalStepFunctions(
  options: LocalStepFunctionsOptions,
): Promise<LocalStepFunctions> {
  const scope: ArnScope = {
    region: options.region ?? 'us-east-1',
    accountId: options.accountId ?? '000000000000',
  };
  const timeouts = await loadTimeoutErrors();
  const bus = new StatusEventBus();
  const tokens = new TaskTokens();
  const machines = new StateMachines(scope, options.engine);
  const executions = new Executions({
    scope,
    lambda: options.lambda,
    tokens,
    timeouts,
    onStatusChange: (record) => bus.publish(toStatusChangeEvent(record, scope)),
  });
  const server = await startJsonServer(options.port ?? 0, createActions({ machines, executions, tokens }));
  let stopping: Promise<void> | undefined;
  return {
    endpoint: server.endpoint,
    onExecutionStatusChange: (listener) => bus.subscribe(listener),
    stop: () => {
      stopping ??= (async () => {
        bus.clear();
        executions.stopAll();
        tokens.clear();
        await server.close();
      })();
      return stopping;
    },
  };
}

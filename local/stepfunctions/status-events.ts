import { randomUUID } from 'node:crypto';
import type { ArnScope } from './arns.js';
import type { ExecutionStatus } from './types.js';

/**
 * What DescribeExecution and status-change events report about an execution. Dates are epoch
 * milliseconds.
 *
 * @example
 * const finished = (e: ExecutionRecord) => e.stopDate !== undefined;
 */
export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: number;
  stopDate?: number;
}

/**
 * The EventBridge event "Step Functions Execution Status Change", as AWS sends it (dates in
 * epoch milliseconds, absent values as `null`).
 *
 * @example
 * local.onExecutionStatusChange((event) => {
 *   if (event.detail.status !== 'SUCCEEDED') releaseLocksOf(event.detail.executionArn);
 * });
 */
export interface ExecutionStatusChangeEvent {
  version: '0';
  id: string;
  'detail-type': 'Step Functions Execution Status Change';
  source: 'aws.states';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    status: ExecutionStatus;
    startDate: number;
    stopDate: number | null;
    input: string;
    inputDetails: { included: boolean };
    output: string | null;
    outputDetails: { included: boolean } | null;
    error: string | null;
    cause: string | null;
  };
}

/**
 * Builds the status-change event of an execution as it is now.
 *
 * @example
 * const event = toStatusChangeEvent(record, { region: 'us-east-1', accountId: '000000000000' });
 * event.detail.status; // 'FAILED'
 */
export function toStatusChangeEvent(record: ExecutionRecord, scope: ArnScope): ExecutionStatusChangeEvent {
  const output = record.output ?? null;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: scope.accountId,
    // EventBridge times have whole seconds.
    time: new Date(record.stopDate ?? record.startDate).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: scope.region,
    resources: [record.executionArn],
    detail: {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: record.startDate,
      stopDate: record.stopDate ?? null,
      input: record.input,
      inputDetails: { included: true },
      output,
      outputDetails: output === null ? null : { included: true },
      error: record.error ?? null,
      cause: record.cause ?? null,
    },
  };
}

/**
 * A listener of status-change events; may be async.
 *
 * @example
 * const listener: StatusListener = async (event) => { await queue.push(event); };
 */
export type StatusListener = (event: ExecutionStatusChangeEvent) => void | Promise<void>;

/**
 * Delivers status-change events to subscribers outside the caller's stack, so a slow or
 * throwing listener can neither delay nor break an API call.
 *
 * @example
 * const bus = new StatusEventBus();
 * const unsubscribe = bus.subscribe((event) => console.log(event.detail.status));
 * bus.publish(event);
 * unsubscribe();
 */
export class StatusEventBus {
  readonly #listeners = new Set<StatusListener>();

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: StatusListener): () => void {
    // A wrapper per subscription, so subscribing the same function twice is two subscriptions.
    const entry: StatusListener = (event) => listener(event);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Calls every current listener on a later microtask; failures are reported, not thrown. */
  publish(event: ExecutionStatusChangeEvent): void {
    for (const listener of this.#listeners) {
      Promise.resolve()
        .then(() => listener(event))
        .catch((error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          console.error(`[local-stepfunctions] status-change listener failed: ${message}`);
        });
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.#listeners.clear();
  }
}

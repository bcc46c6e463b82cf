import { SfnError, taskError } from './errors.js';
import type { Executions } from './executions.js';
import { type Body, optionalInteger, optionalString, requiredString } from './params.js';
import type { StateMachines } from './state-machines.js';
import type { ExecutionRecord } from './status-events.js';
import type { TaskTokens } from './task-tokens.js';
import type { ExecutionStatus } from './types.js';

const MAX_PAYLOAD = 262_144;
const STATUSES: readonly ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

/**
 * The stores the API actions work on.
 *
 * @example
 * const dispatch = createActions({ machines, executions, tokens });
 */
export interface ActionStores {
  machines: StateMachines;
  executions: Executions;
  tokens: TaskTokens;
}

/**
 * One API action: request body in, response body out (or a thrown {@link SfnError}).
 *
 * @example
 * const action: Action = (body) => ({ echoed: body });
 */
export type Action = (body: Body) => unknown;

// AWS JSON sends timestamps as epoch seconds with a fraction.
const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

function describe(record: ExecutionRecord) {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: seconds(record.startDate),
    stopDate: seconds(record.stopDate),
    input: record.input,
    inputDetails: { included: true },
    output: record.output,
    outputDetails: record.output === undefined ? undefined : { included: true },
    error: record.error,
    cause: record.cause,
    redriveCount: 0,
    redriveStatus: 'NOT_REDRIVABLE',
  };
}

function parseOutput(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SfnError('InvalidOutput', `Invalid Output: '${(error as Error).message}'`);
  }
}

function executionHistory(stores: ActionStores, body: Body) {
  const arn = requiredString(body, 'executionArn', 256);
  const events = stores.executions.history(arn);
  if (!events) {
    throw new SfnError(
      'ValidationException',
      "GetExecutionHistory needs the own engine: startLocalStepFunctions({ engine: 'own' })",
    );
  }
  const maxResults = optionalInteger(body, 'maxResults', 0, 1000) || 100;
  const nextToken = optionalString(body, 'nextToken', 1024);
  const offset =
    nextToken === undefined ? 0 : Number.parseInt(Buffer.from(nextToken, 'base64url').toString(), 10);
  if (!Number.isInteger(offset) || offset < 0) throw new SfnError('ValidationException', 'Invalid nextToken');
  const ordered = body.reverseOrder === true ? [...events].reverse() : events;
  const page = ordered.slice(offset, offset + maxResults);
  return {
    events: page.map((event) => ({ ...event, timestamp: event.timestamp.getTime() / 1000 })),
    nextToken:
      offset + maxResults < ordered.length
        ? Buffer.from(String(offset + maxResults)).toString('base64url')
        : undefined,
  };
}

function listExecutions(stores: ActionStores, body: Body) {
  const machine = stores.machines.get(requiredString(body, 'stateMachineArn', 256));
  const statusFilter = optionalString(body, 'statusFilter', 16) as ExecutionStatus | undefined;
  if (statusFilter !== undefined && !STATUSES.includes(statusFilter)) {
    throw new SfnError('ValidationException', `Invalid statusFilter '${statusFilter}'`);
  }
  const maxResults = optionalInteger(body, 'maxResults', 0, 1000) || 100;
  const nextToken = optionalString(body, 'nextToken', 1024);
  const offset =
    nextToken === undefined ? 0 : Number.parseInt(Buffer.from(nextToken, 'base64url').toString(), 10);
  if (!Number.isInteger(offset) || offset < 0) throw new SfnError('ValidationException', 'Invalid nextToken');
  const all = stores.executions.list(machine.arn, statusFilter);
  const page = all.slice(offset, offset + maxResults);
  const more = offset + maxResults < all.length;
  return {
    executions: page.map((r) => ({
      executionArn: r.executionArn,
      stateMachineArn: r.stateMachineArn,
      name: r.name,
      status: r.status,
      startDate: seconds(r.startDate),
      stopDate: seconds(r.stopDate),
      redriveCount: 0,
    })),
    nextToken: more ? Buffer.from(String(offset + maxResults)).toString('base64url') : undefined,
  };
}

/**
 * The supported actions of the `AWSStepFunctions` JSON 1.0 API, keyed by name.
 *
 * @example
 * const actions = createActions(stores);
 * actions.DescribeExecution?.({ executionArn });
 */
export function createActions(stores: ActionStores): Record<string, Action> {
  const { machines, executions, tokens } = stores;
  return {
    CreateStateMachine: (body) => {
      const type = optionalString(body, 'type', 16) ?? 'STANDARD';
      if (type !== 'STANDARD') {
        throw new SfnError(
          'StateMachineTypeNotSupported',
          `The local endpoint runs STANDARD state machines only, not ${type}`,
        );
      }
      const record = machines.create({
        name: requiredString(body, 'name', 80),
        definition: requiredString(body, 'definition', 1_048_576, true),
        roleArn: requiredString(body, 'roleArn', 256),
      });
      return { stateMachineArn: record.arn, creationDate: seconds(record.creationDate) };
    },
    DescribeStateMachine: (body) => {
      const record = machines.get(requiredString(body, 'stateMachineArn', 256));
      return {
        stateMachineArn: record.arn,
        name: record.name,
        status: 'ACTIVE',
        definition: record.definition,
        roleArn: record.roleArn,
        type: 'STANDARD',
        creationDate: seconds(record.creationDate),
        loggingConfiguration: { level: 'OFF', includeExecutionData: false },
        tracingConfiguration: { enabled: false },
      };
    },
    StartExecution: (body) => {
      const machine = machines.get(requiredString(body, 'stateMachineArn', 256));
      const input = optionalString(body, 'input', MAX_PAYLOAD, true) ?? '{}';
      const record = executions.start(machine, optionalString(body, 'name', 80), input);
      return { executionArn: record.executionArn, startDate: seconds(record.startDate) };
    },
    DescribeExecution: (body) => describe(executions.get(requiredString(body, 'executionArn', 256))),
    StopExecution: (body) => {
      const arn = requiredString(body, 'executionArn', 256);
      const record = executions.stop(
        arn,
        optionalString(body, 'error', 256),
        optionalString(body, 'cause', 32_768),
      );
      return { stopDate: seconds(record.stopDate) };
    },
    ListExecutions: (body) => listExecutions(stores, body),
    GetExecutionHistory: (body) => executionHistory(stores, body),
    SendTaskSuccess: (body) => {
      const token = requiredString(body, 'taskToken', 2048);
      const output = parseOutput(requiredString(body, 'output', MAX_PAYLOAD, true));
      tokens.succeed(token, output);
      return {};
    },
    SendTaskFailure: (body) => {
      const token = requiredString(body, 'taskToken', 2048);
      const error = optionalString(body, 'error', 256) ?? '';
      tokens.fail(token, taskError(error, optionalString(body, 'cause', 32_768) ?? ''));
      return {};
    },
    SendTaskHeartbeat: (body) => {
      tokens.heartbeat(requiredString(body, 'taskToken', 2048));
      return {};
    },
  };
}

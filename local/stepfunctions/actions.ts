import { SfnError, taskError } from './errors.js';
import type { Executions } from './executions.js';
import type { WireHistoryEvent } from './history.js';
import { type Body, optionalInteger, optionalString, requiredString } from './params.js';
import type { StateMachineRecord, StateMachines } from './state-machines.js';
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

/** One page of `items` from a request's `maxResults` and `nextToken` (the offset, opaque to callers). */
function pageOf<T>(items: T[], body: Body): { page: T[]; nextToken: string | undefined } {
  const maxResults = optionalInteger(body, 'maxResults', 0, 1000) || 100;
  const nextToken = optionalString(body, 'nextToken', 1024);
  const offset =
    nextToken === undefined ? 0 : Number.parseInt(Buffer.from(nextToken, 'base64url').toString(), 10);
  if (!Number.isInteger(offset) || offset < 0) throw new SfnError('ValidationException', 'Invalid nextToken');
  const more = offset + maxResults < items.length;
  return {
    page: items.slice(offset, offset + maxResults),
    nextToken: more ? Buffer.from(String(offset + maxResults)).toString('base64url') : undefined,
  };
}

function listExecutions(stores: ActionStores, body: Body) {
  const machine = stores.machines.get(requiredString(body, 'stateMachineArn', 256));
  const statusFilter = optionalString(body, 'statusFilter', 16) as ExecutionStatus | undefined;
  if (statusFilter !== undefined && !STATUSES.includes(statusFilter)) {
    throw new SfnError('ValidationException', `Invalid statusFilter '${statusFilter}'`);
  }
  const { page, nextToken } = pageOf(stores.executions.list(machine.arn, statusFilter), body);
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
    nextToken,
  };
}

/**
 * GetExecutionHistory: the events in order (or newest first with `reverseOrder`), a page at a
 * time; `includeExecutionData: false` leaves out inputs and outputs, as on AWS.
 */
function executionHistory(executions: Executions, body: Body) {
  const history = executions.history(requiredString(body, 'executionArn', 256));
  if (body.reverseOrder === true) history.reverse();
  const { page, nextToken } = pageOf(history, body);
  const withData = body.includeExecutionData !== false;
  return {
    events: page.map((event) => ({
      ...(withData ? event : withoutData(event)),
      timestamp: seconds(event.timestamp),
    })),
    nextToken,
  };
}

/** An event without the inputs and outputs in its details (`includeExecutionData: false`). */
const withoutData = (event: WireHistoryEvent): WireHistoryEvent =>
  Object.fromEntries(
    Object.entries(event).map(([key, value]) =>
      key.endsWith('EventDetails') && typeof value === 'object' && value !== null
        ? [
            key,
            Object.fromEntries(
              Object.entries(value).filter(([name]) => name !== 'input' && name !== 'output'),
            ),
          ]
        : [key, value],
    ),
  ) as WireHistoryEvent;

/** DescribeStateMachine's answer, also DescribeStateMachineForExecution's. */
function describeMachine(record: StateMachineRecord) {
  return {
    stateMachineArn: record.arn,
    name: record.name,
    status: 'ACTIVE',
    definition: record.definition,
    roleArn: record.roleArn,
    type: 'STANDARD',
    creationDate: seconds(record.creationDate),
    updateDate: seconds(record.updateDate),
    loggingConfiguration: { level: 'OFF', includeExecutionData: false },
    tracingConfiguration: { enabled: false },
  };
}

/** ValidateStateMachineDefinition: AWS's answer shape, the refusal CreateStateMachine would give. */
function validateDefinition(machines: StateMachines, body: Body) {
  const type = optionalString(body, 'type', 16) ?? 'STANDARD';
  const refusal =
    type === 'STANDARD'
      ? machines.check(requiredString(body, 'definition', 1_048_576, true))
      : new SfnError('StateMachineTypeNotSupported', expressRefused);
  if (!refusal) return { result: 'OK', diagnostics: [], truncated: false };
  return {
    result: 'FAIL',
    diagnostics: [{ severity: 'ERROR', code: 'SCHEMA_VALIDATION_FAILED', message: refusal.message }],
    truncated: false,
  };
}

/** Why Express workflows (and their synchronous start) are refused, in one line. */
const expressRefused =
  'The local endpoint runs STANDARD state machines only: Express workflows (and StartSyncExecution, which the SDK sends to the sync- host prefix) are not supported';

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
      if (type !== 'STANDARD') throw new SfnError('StateMachineTypeNotSupported', expressRefused);
      const record = machines.create({
        name: requiredString(body, 'name', 80),
        definition: requiredString(body, 'definition', 1_048_576, true),
        roleArn: requiredString(body, 'roleArn', 256),
      });
      return { stateMachineArn: record.arn, creationDate: seconds(record.creationDate) };
    },
    DescribeStateMachine: (body) =>
      describeMachine(machines.get(requiredString(body, 'stateMachineArn', 256))),
    DescribeStateMachineForExecution: (body) =>
      describeMachine(executions.machineOf(requiredString(body, 'executionArn', 256))),
    ListStateMachines: (body) => {
      const { page, nextToken } = pageOf(machines.list(), body);
      const listed = page.map((record) => ({
        stateMachineArn: record.arn,
        name: record.name,
        type: 'STANDARD',
        creationDate: seconds(record.creationDate),
      }));
      return { stateMachines: listed, nextToken };
    },
    ValidateStateMachineDefinition: (body) => validateDefinition(machines, body),
    UpdateStateMachine: (body) => {
      const definition = optionalString(body, 'definition', 1_048_576, true);
      const roleArn = optionalString(body, 'roleArn', 256);
      const record = machines.update(requiredString(body, 'stateMachineArn', 256), {
        ...(definition === undefined ? {} : { definition }),
        ...(roleArn === undefined ? {} : { roleArn }),
      });
      return { updateDate: seconds(record.updateDate) };
    },
    DeleteStateMachine: (body) => {
      machines.delete(requiredString(body, 'stateMachineArn', 256));
      return {};
    },
    StartSyncExecution: () => {
      throw new SfnError('StateMachineTypeNotSupported', expressRefused);
    },
    TestState: () => {
      throw new SfnError(
        'UnknownOperationException',
        'TestState is not supported by the local endpoint: run the state in a state machine of its own',
      );
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
    GetExecutionHistory: (body) => executionHistory(executions, body),
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
